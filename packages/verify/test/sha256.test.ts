// The portable build's own SHA-256 and HMAC against node:crypto: every length across the
// padding boundaries, FIPS 180-4's examples, long messages, every key length, and the reused
// scratch buffer (long and short messages alternating, two keys interleaved).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHmacKey } from '../src/hmac';
import { finish, SHA256_IV, SHA256_PADDING, sha256 } from '../src/sha256';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const reference = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('sha256', () => {
  it('gives FIPS 180-4 example digests', () => {
    expect(hex(sha256(utf8('')))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(sha256(utf8('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(hex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(hex(sha256(utf8('a'.repeat(1_000_000))))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('matches node:crypto at every length from 0 to 320 bytes', () => {
    for (let n = 0; n <= 320; n++) {
      const bytes = randomBytes(n);
      expect(hex(sha256(bytes)), `length ${n}`).toBe(reference(bytes));
    }
  });

  it('matches node:crypto on long messages, including all-ones bytes', () => {
    for (const n of [4095, 4096, 65_537, 1_048_579]) {
      const bytes = randomBytes(n);
      expect(hex(sha256(bytes)), `length ${n}`).toBe(reference(bytes));
    }
    const ones = new Uint8Array(1000).fill(0xff);
    expect(hex(sha256(ones))).toBe(reference(ones));
  });

  it('writes the bit length as 64 bits, big-endian, past 2^32 bits (512 MiB)', () => {
    // Hashing 512 MiB to compare would take seconds; the padding is checked instead.
    const bytes = new Uint8Array(3 + SHA256_PADDING).fill(0xaa);
    finish(SHA256_IV.slice(), bytes, 3, 2 ** 29 + 64); // (2^29 + 67) bytes = 2^32 + 536 bits
    expect(hex(bytes.subarray(0, 64))).toBe(`aaaaaa80${'00'.repeat(52)}0000000100000218`);
    expect(bytes[64]).toBe(0xaa); // nothing written past the one block the padding needed
  });
});

describe('createHmacKey (portable HMAC-SHA256)', () => {
  const sign = (key: Uint8Array, id: string, timestamp: number, payload: string | Uint8Array) =>
    createHmacKey(key).sign({ id, timestamp, payload });
  const referenceMac = (
    key: Uint8Array,
    id: string,
    timestamp: number,
    payload: string | Uint8Array,
  ) =>
    createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(payload)]))
      .digest('base64');

  it('matches node:crypto for every key length from 1 to 130 bytes (longer than a block is hashed)', () => {
    for (let k = 1; k <= 130; k++) {
      const key = randomBytes(k);
      const payload = randomBytes(k * 3);
      expect(sign(key, 'msg_1', 1_700_000_000, payload), `key length ${k}`).toBe(
        referenceMac(key, 'msg_1', 1_700_000_000, payload),
      );
    }
  });

  it('matches node:crypto for string and byte bodies of every length across two blocks', () => {
    const key = randomBytes(32);
    for (let n = 0; n <= 200; n++) {
      const bytes = randomBytes(n);
      const text = 'x'.repeat(n);
      expect(sign(key, 'msg_2', 1, bytes), `bytes ${n}`).toBe(referenceMac(key, 'msg_2', 1, bytes));
      expect(sign(key, 'msg_2', 1, text), `string ${n}`).toBe(referenceMac(key, 'msg_2', 1, text));
    }
  });

  it('encodes non-ASCII text and lone surrogates as UTF-8 does (U+FFFD for a lone half)', () => {
    const key = randomBytes(24);
    for (const text of [
      'héllo wörld',
      '日本語のテキスト',
      '😀 emoji',
      'lone \ud800 high',
      'lone \udc00 low',
    ]) {
      const body = text.repeat(37);
      expect(sign(key, 'msg_ü', 42, body)).toBe(referenceMac(key, 'msg_ü', 42, body));
    }
  });

  it('gives the right answer whatever the previous message left in the reused buffer', () => {
    const a = randomBytes(32);
    const b = randomBytes(64);
    const long = randomBytes(3 * 1024 * 1024); // larger than the kept scratch buffer
    const longText = 'é'.repeat(400_000); // 1.2 MB as UTF-8, 2.4 MB worst-case room
    const cases: [Uint8Array, string | Uint8Array][] = [
      [a, 'short'],
      [b, long],
      [a, 'short again'],
      [b, longText],
      [a, randomBytes(5000)],
      [b, 'tiny'],
      [a, ''],
      [b, randomBytes(63)],
    ];
    for (const [key, payload] of cases) {
      expect(sign(key, 'msg_3', 7, payload)).toBe(referenceMac(key, 'msg_3', 7, payload));
    }
  });
});
