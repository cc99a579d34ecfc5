/**
 * SHA-256 (FIPS 180-4) for the portable build's HMAC, written for what HMAC needs.
 *
 * - The state is eight 32-bit words in an `Int32Array`, so the keyed inner and outer states
 *   of an HMAC key are computed once per secret and copied in (eight words) per message.
 * - The message schedule is computed inside the 64 rounds rather than in a loop of its own.
 * - A message is hashed from a buffer that has room for its padding after it (`finish`),
 *   so nothing is copied into a block buffer on the way.
 *
 * Every operation is on 32-bit integers with no data- or key-dependent branch or index.
 * `test/sha256.test.ts` checks it against `node:crypto` at every length across the padding
 * boundaries, on random data, and on long messages.
 */

const K = /* @__PURE__ */ Int32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
);

/** The initial hash value H(0). */
export const SHA256_IV = /* @__PURE__ */ Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

/** The message schedule, reused (JavaScript runs one call at a time per realm). */
const W = /* @__PURE__ */ new Int32Array(64);

/** Bytes of room `finish` needs after a message: the 0x80 byte, zeros, the 8-byte length. */
export const SHA256_PADDING = 72;

/** Absorbs the 64-byte blocks of `bytes[offset, end)` into `state`. */
export function compress(state: Int32Array, bytes: Uint8Array, offset: number, end: number): void {
  let h0 = state[0]!;
  let h1 = state[1]!;
  let h2 = state[2]!;
  let h3 = state[3]!;
  let h4 = state[4]!;
  let h5 = state[5]!;
  let h6 = state[6]!;
  let h7 = state[7]!;
  for (let p = offset; p < end; p += 64) {
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let f = h5;
    let g = h6;
    let h = h7;
    for (let i = 0; i < 64; i++) {
      let w: number;
      if (i < 16) {
        const j = p + 4 * i;
        w = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
      } else {
        const x = W[i - 15]!;
        const y = W[i - 2]!;
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w = (s1 + W[i - 7]! + s0 + W[i - 16]!) | 0;
      }
      W[i] = w;
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + (g ^ (e & (f ^ g))) + K[i]! + w) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) | (c & (a | b)))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  state[0] = h0;
  state[1] = h1;
  state[2] = h2;
  state[3] = h3;
  state[4] = h4;
  state[5] = h5;
  state[6] = h6;
  state[7] = h7;
}

/**
 * Absorbs the last `n` bytes of a message, `bytes[0, n)`, and its padding into `state`, which
 * has already absorbed `before` bytes (a multiple of 64). Writes the padding into `bytes`
 * after the message: it needs `n + SHA256_PADDING` bytes.
 */
export function finish(state: Int32Array, bytes: Uint8Array, n: number, before: number): void {
  // The first multiple of 64 with room for the 0x80 byte and the length.
  const end = n + 72 - ((n + 8) % 64);
  bytes[n] = 0x80;
  bytes.fill(0, n + 1, end - 8);
  const bits = (before + n) * 8;
  const high = Math.floor(bits / 0x100000000);
  bytes[end - 8] = high >>> 24;
  bytes[end - 7] = high >>> 16;
  bytes[end - 6] = high >>> 8;
  bytes[end - 5] = high;
  bytes[end - 4] = bits >>> 24;
  bytes[end - 3] = bits >>> 16;
  bytes[end - 2] = bits >>> 8;
  bytes[end - 1] = bits;
  compress(state, bytes, 0, end);
}

/** Writes the 32-byte digest held in `state` into `out` at `offset`. */
export function writeDigest(state: Int32Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    const o = offset + 4 * i;
    out[o] = v >>> 24;
    out[o + 1] = v >>> 16;
    out[o + 2] = v >>> 8;
    out[o + 3] = v;
  }
}

/** SHA-256 of `message`, one shot. */
export function sha256(message: Uint8Array): Uint8Array {
  const state = SHA256_IV.slice();
  const buffer = new Uint8Array(message.length + SHA256_PADDING);
  buffer.set(message);
  finish(state, buffer, message.length, 0);
  const out = new Uint8Array(32);
  writeDigest(state, out, 0);
  return out;
}
