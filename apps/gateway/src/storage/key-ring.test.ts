import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENCRYPTION_KEY_FILE, keyRingCipher, loadKeyRing } from './key-ring';

const keyA = new Uint8Array(randomBytes(32));
const keyB = new Uint8Array(randomBytes(32));
const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==';

describe('the AES-256-GCM key ring', () => {
  it('round-trips a secret and never stores it in the clear', () => {
    const cipher = keyRingCipher([keyA]);
    const blob = cipher.encrypt(SECRET);
    expect(cipher.decrypt(blob)).toBe(SECRET);
    const bytes = Buffer.from(blob);
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    expect(bytes.includes(Buffer.from(SECRET.slice(6), 'base64'))).toBe(false);
    expect(bytes.includes(Buffer.from(keyA))).toBe(false);
  });

  it('uses a fresh IV for every secret, so equal secrets never look equal', () => {
    const cipher = keyRingCipher([keyA]);
    expect(Buffer.from(cipher.encrypt(SECRET)).equals(Buffer.from(cipher.encrypt(SECRET)))).toBe(
      false,
    );
  });

  it('encrypts with the first key and decrypts with any key of the ring', () => {
    const old = keyRingCipher([keyA]);
    const rotated = keyRingCipher([keyB, keyA]);
    const before = old.encrypt(SECRET);
    expect(rotated.decrypt(before)).toBe(SECRET);
    const after = rotated.encrypt(SECRET);
    expect(rotated.keyIdOf(after)).toBe(rotated.currentKeyId);
    expect(rotated.keyIdOf(before)).toBe(old.currentKeyId);
    expect(rotated.keyIdOf(before)).not.toBe(rotated.currentKeyId);
  });

  it('refuses a secret made with a key that left the ring, without naming the key', () => {
    const blob = keyRingCipher([keyA]).encrypt(SECRET);
    const error = (() => {
      try {
        keyRingCipher([keyB]).decrypt(blob);
      } catch (caught) {
        return caught as Error;
      }
      return null;
    })();
    expect(error?.message).toMatch(/not in HOOKLINE_ENCRYPTION_KEYS/);
    expect(error?.message).not.toContain(Buffer.from(keyA).toString('base64'));
  });

  it('refuses a tampered blob (the tag authenticates it)', () => {
    const cipher = keyRingCipher([keyA]);
    const blob = Buffer.from(cipher.encrypt(SECRET));
    blob[blob.length - 1]! ^= 1;
    expect(() => cipher.decrypt(blob)).toThrow(/altered or its key is wrong/);
    expect(() => cipher.decrypt(new Uint8Array(8))).toThrow(/not encrypted by Hookline/);
    expect(cipher.keyIdOf(new Uint8Array(8))).toBeNull();
  });

  it('refuses an empty ring and keys that are not 32 bytes', () => {
    expect(() => keyRingCipher([])).toThrow(/empty/);
    expect(() => keyRingCipher([new Uint8Array(16)])).toThrow(/16 bytes, not 32/);
  });
});

describe('loadKeyRing', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  async function dataDir() {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-keys-'));
    dirs.push(dir);
    return dir;
  }

  it('generates a private key file on the first embedded start, then reuses it', async () => {
    const dir = await dataDir();
    const generated: string[] = [];
    const first = await loadKeyRing({ encryptionKeys: [], embedded: true, dataDir: dir }, (p) =>
      generated.push(p),
    );
    expect(generated).toEqual([join(dir, ENCRYPTION_KEY_FILE)]);
    expect((await stat(generated[0]!)).mode & 0o777).toBe(0o600);
    const again = await loadKeyRing({ encryptionKeys: [], embedded: true, dataDir: dir }, (p) =>
      generated.push(p),
    );
    expect(generated).toHaveLength(1);
    expect(Buffer.from(again[0]!).equals(Buffer.from(first[0]!))).toBe(true);
    expect((await readFile(generated[0]!, 'utf8')).trim()).toBe(
      Buffer.from(first[0]!).toString('base64'),
    );
  });

  it('puts configured keys first and keeps the generated one to decrypt older secrets', async () => {
    const dir = await dataDir();
    const [fileKey] = await loadKeyRing({ encryptionKeys: [], embedded: true, dataDir: dir });
    const ring = await loadKeyRing({ encryptionKeys: [keyB], embedded: true, dataDir: dir });
    expect(ring.map((key) => Buffer.from(key).toString('hex'))).toEqual([
      Buffer.from(keyB).toString('hex'),
      Buffer.from(fileKey!).toString('hex'),
    ]);
  });

  it('needs configured keys for PostgreSQL', async () => {
    await expect(
      loadKeyRing({ encryptionKeys: [], embedded: false, dataDir: '/nonexistent' }),
    ).rejects.toThrow(/HOOKLINE_ENCRYPTION_KEYS must be set/);
    expect(
      await loadKeyRing({ encryptionKeys: [keyA], embedded: false, dataDir: '/nonexistent' }),
    ).toEqual([keyA]);
  });
});
