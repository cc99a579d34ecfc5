/**
 * Prefixed, URL-safe, k-sortable ids: `<prefix>_` + 26 lowercase Crockford base32 characters
 * (10 for a 48-bit millisecond timestamp, 16 for 80 random bits), like a lowercase ULID.
 * Ids from one process are strictly increasing (monotonic within a millisecond, and never
 * moving backwards when the clock does), so sorting by id is sorting by creation.
 */

/** Every id prefix the gateway mints. */
export type IdPrefix = 'ep' | 'msg' | 'dlv' | 'att' | 'key' | 'pt' | 'evt' | 'ntf';

/** Crockford base32, lowercase: no i, l, o, u; sorts the same as the numbers it encodes. */
export const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
/** Characters after the prefix and underscore. */
export const ID_BODY_LENGTH = TIME_CHARS + RANDOM_CHARS;
const MAX_TIME = 2 ** 48 - 1;
const RANDOM_BITS = 80n;
const MAX_RANDOM = (1n << RANDOM_BITS) - 1n;

/** Bits at the end of an id block that count rows (see `newIdBlock`). */
export const ID_BLOCK_COUNTER_BITS = 20;
const COUNTER_CHARS = ID_BLOCK_COUNTER_BITS / 5;
const COUNTER_MASK = (1n << BigInt(ID_BLOCK_COUNTER_BITS)) - 1n;

let lastTime = -1;
let lastRandom = 0n;

function randomBits(): bigint {
  const bytes = new Uint8Array(10);
  crypto.getRandomValues(bytes);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function encode(value: bigint, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = ID_ALPHABET[Number(rest & 31n)] + out;
    rest >>= 5n;
  }
  return out;
}

/** Advances the generator; `align` zeroes (and reserves) the low bits of the random part. */
function advance(nowMs: number, alignBits = 0n): { time: number; random: bigint } {
  const mask = (1n << alignBits) - 1n;
  let time = Math.max(Math.floor(nowMs), lastTime);
  if (time > MAX_TIME) throw new RangeError('The clock is past the year 10889.');
  let random: bigint;
  if (time === lastTime) {
    // Same millisecond (or the clock went back): count up from the last id.
    random = ((lastRandom >> alignBits) + 1n) << alignBits;
    if (random + mask > MAX_RANDOM) {
      time = lastTime + 1;
      random = randomBits() & ~mask;
    }
  } else {
    random = randomBits() & ~mask;
  }
  lastTime = time;
  lastRandom = random | mask;
  return { time, random };
}

/** A new id such as `ep_01jd3k…`, greater than every id this process made before. */
export function newId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  const { time, random } = advance(nowMs);
  return `${prefix}_${encode(BigInt(time), TIME_CHARS)}${encode(random, RANDOM_CHARS)}`;
}

/**
 * Reserves 2^20 consecutive ids for rows created by one SQL statement: returns everything but the
 * last 4 characters, which are the row's counter (`idBlockCounter(n)`, or SQL
 * `hookline_id_counter(n)`). Every id of the block sorts after the ids made before it and before
 * the ids made after it.
 */
export function newIdBlock(prefix: IdPrefix, nowMs: number = Date.now()): string {
  const { time, random } = advance(nowMs, BigInt(ID_BLOCK_COUNTER_BITS));
  return `${prefix}_${encode(BigInt(time), TIME_CHARS)}${encode(random >> BigInt(ID_BLOCK_COUNTER_BITS), RANDOM_CHARS - COUNTER_CHARS)}`;
}

/** The 4-character counter that ends the `n`th id (0-based) of an id block. */
export function idBlockCounter(n: number): string {
  if (!Number.isInteger(n) || n < 0 || BigInt(n) > COUNTER_MASK) {
    throw new RangeError(
      `An id block holds ${2 ** ID_BLOCK_COUNTER_BITS} ids; ${n} is outside it.`,
    );
  }
  return encode(BigInt(n), COUNTER_CHARS);
}

/** The smallest possible id made at or after `at`: compare ids with it to filter by time. */
export function idLowerBound(prefix: IdPrefix, at: Date): string {
  const time = Math.min(Math.max(0, at.getTime()), MAX_TIME);
  return `${prefix}_${encode(BigInt(time), TIME_CHARS)}${'0'.repeat(RANDOM_CHARS)}`;
}

const ID_PATTERN = new RegExp(`^([a-z]+)_([${ID_ALPHABET}]{${ID_BODY_LENGTH}})$`);

/** Whether `id` is a well-formed id, with `prefix` when one is given. */
export function isId(id: string, prefix?: IdPrefix): boolean {
  const match = ID_PATTERN.exec(id);
  return match !== null && (prefix === undefined || match[1] === prefix);
}

/** When an id was made (millisecond precision); throws on a malformed id. */
export function idTime(id: string): Date {
  const match = ID_PATTERN.exec(id);
  if (!match) throw new RangeError('Not a Hookline id.');
  let time = 0;
  for (const char of match[2]!.slice(0, TIME_CHARS)) time = time * 32 + ID_ALPHABET.indexOf(char);
  return new Date(time);
}
