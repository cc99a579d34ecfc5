import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretCipher } from './cipher';

/** The embedded mode's generated encryption key, in the data directory. */
export const ENCRYPTION_KEY_FILE = 'encryption.key';

/** A cipher over a key ring that can tell which blobs an older key made. */
export interface KeyRingCipher extends SecretCipher {
  /** The id (hex) of the key that encrypts: the first of the ring. */
  readonly currentKeyId: string;
  /** The id (hex) of the key that made a blob, or null when the blob is not one of ours. */
  keyIdOf(blob: Uint8Array): string | null;
}

// Blob layout: version (1) | key id (4) | iv (12) | tag (16) | ciphertext.
const VERSION = 1;
const HEADER_BYTES = 1 + 4 + 12 + 16;

/** The 4-byte id of a key: the start of its SHA-256 (names the key without revealing it). */
function keyId(key: Uint8Array): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, 4);
}

/**
 * AES-256-GCM over a key ring (`HOOKLINE_ENCRYPTION_KEYS`): encrypts with the first key,
 * decrypts with whichever key of the ring made the blob. A fresh random 96-bit IV per secret;
 * the tag authenticates the ciphertext, so a tampered blob never decrypts.
 */
export function keyRingCipher(keys: readonly Uint8Array[]): KeyRingCipher {
  if (keys.length === 0) throw new Error('The encryption key ring is empty.');
  const ring = keys.map((key, index) => {
    if (key.length !== 32) {
      throw new RangeError(`Encryption key ${index + 1} is ${key.length} bytes, not 32.`);
    }
    return { key: Buffer.from(key), id: keyId(key) };
  });
  const current = ring[0]!;
  return Object.freeze({
    currentKeyId: current.id.toString('hex'),
    encrypt(plain: string): Uint8Array {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      const text = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), current.id, iv, cipher.getAuthTag(), text]);
    },
    decrypt(blob: Uint8Array): string {
      const bytes = Buffer.from(blob);
      if (bytes.length < HEADER_BYTES || bytes[0] !== VERSION) {
        throw new Error('This secret was not encrypted by Hookline.');
      }
      const found = ring.find((entry) => entry.id.equals(bytes.subarray(1, 5)));
      if (!found) {
        throw new Error(
          'This secret was encrypted with a key that is not in HOOKLINE_ENCRYPTION_KEYS.',
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', found.key, bytes.subarray(5, 17));
      decipher.setAuthTag(bytes.subarray(17, HEADER_BYTES));
      try {
        return Buffer.concat([
          decipher.update(bytes.subarray(HEADER_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new Error('This secret does not decrypt: it was altered or its key is wrong.');
      }
    },
    keyIdOf(blob: Uint8Array): string | null {
      if (blob.length < HEADER_BYTES || blob[0] !== VERSION) return null;
      return Buffer.from(blob.subarray(1, 5)).toString('hex');
    },
  });
}

/** What `loadKeyRing` needs to know. */
export interface KeyRingSource {
  /** `HOOKLINE_ENCRYPTION_KEYS`, first is current. */
  encryptionKeys: readonly Uint8Array[];
  /** Embedded mode keeps (and on first start generates) a key file in its data directory. */
  embedded: boolean;
  dataDir: string;
}

/**
 * The key ring: `HOOKLINE_ENCRYPTION_KEYS`, plus (embedded mode) the key file in the data
 * directory, generated on first start (`onGenerated` is told where). With configured keys the
 * file's key comes last, so secrets stored before the keys were configured still decrypt. Call
 * with the data directory locked.
 */
export async function loadKeyRing(
  source: KeyRingSource,
  onGenerated?: (path: string) => void,
): Promise<Uint8Array[]> {
  const keys = [...source.encryptionKeys];
  if (!source.embedded) {
    if (keys.length === 0) {
      throw new Error('HOOKLINE_ENCRYPTION_KEYS must be set to use PostgreSQL.');
    }
    return keys;
  }
  const path = join(source.dataDir, ENCRYPTION_KEY_FILE);
  let fileKey: Uint8Array | undefined;
  try {
    const bytes = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (bytes.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key.`);
    fileKey = new Uint8Array(bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (keys.length > 0) {
    const stored = fileKey;
    if (stored && !keys.some((key) => Buffer.from(key).equals(Buffer.from(stored)))) {
      keys.push(stored);
    }
    return keys;
  }
  if (!fileKey) {
    fileKey = new Uint8Array(randomBytes(32));
    await writeFile(path, `${Buffer.from(fileKey).toString('base64')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    onGenerated?.(path);
  }
  return [fileKey];
}
