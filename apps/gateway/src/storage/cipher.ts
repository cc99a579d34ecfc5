/**
 * Encrypts endpoint secrets at rest. The storage layer only ever stores `encrypt` output
 * (`secret_ciphertext bytea`) and decrypts for the worker; the real implementation (AES-256-GCM
 * over the `HOOKLINE_ENCRYPTION_KEYS` key ring) is injected by the composition root.
 */
export interface SecretCipher {
  /** Encrypts a plaintext secret into an opaque blob. */
  encrypt(plain: string): Uint8Array;
  /** Decrypts a blob made by `encrypt` (with this or an older key of the ring). */
  decrypt(blob: Uint8Array): string;
}

const MAGIC = new TextEncoder().encode('hl-insecure-dev:');

/**
 * NOT ENCRYPTION: stores secrets as plain UTF-8 behind a marker, for tests and early development
 * only. Blobs it makes are recognisable (and refused by a real cipher) by their marker.
 */
export const insecureDevelopmentCipher: SecretCipher = Object.freeze({
  encrypt(plain: string): Uint8Array {
    const text = new TextEncoder().encode(plain);
    const blob = new Uint8Array(MAGIC.length + text.length);
    blob.set(MAGIC, 0);
    blob.set(text, MAGIC.length);
    return blob;
  },
  decrypt(blob: Uint8Array): string {
    const head = blob.subarray(0, MAGIC.length);
    if (head.length !== MAGIC.length || head.some((byte, i) => byte !== MAGIC[i])) {
      throw new Error('This secret was not stored by the insecure development cipher.');
    }
    return new TextDecoder().decode(blob.subarray(MAGIC.length));
  },
});
