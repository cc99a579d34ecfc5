import { describe, expect, it } from 'vitest';
import {
  ID_BODY_LENGTH,
  idBlockCounter,
  idLowerBound,
  idTime,
  isId,
  newId,
  newIdBlock,
} from './ids';

describe('ids', () => {
  it('makes prefixed, URL-safe ids of a fixed length', () => {
    const id = newId('ep');
    expect(id).toMatch(/^ep_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(id.length).toBe(3 + ID_BODY_LENGTH);
    expect(isId(id, 'ep')).toBe(true);
    expect(isId(id, 'msg')).toBe(false);
    expect(isId('ep_nope')).toBe(false);
  });

  it('makes strictly increasing ids within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => newId('msg', 1_700_000_000_000));
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps ids increasing when the clock goes backwards', () => {
    const later = newId('dlv', 1_800_000_000_000);
    const earlier = newId('dlv', 1_700_000_000_000);
    expect(earlier > later).toBe(true);
  });

  it('sorts ids made in later milliseconds after earlier ones', () => {
    const a = newId('att', 1_900_000_000_000);
    const b = newId('att', 1_900_000_000_001);
    const c = newId('att', 1_900_000_100_000);
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });

  it('reads the creation time back from an id', () => {
    const at = new Date('2031-05-06T07:08:09.123Z');
    expect(idTime(newId('ep', at.getTime())).toISOString()).toBe(at.toISOString());
  });

  it('gives a lower bound that sorts before every id made at or after that time', () => {
    const at = new Date('2032-01-01T00:00:00.000Z');
    const bound = idLowerBound('dlv', at);
    expect(newId('dlv', at.getTime()) > bound).toBe(true);
    expect(bound > idLowerBound('dlv', new Date(at.getTime() - 1))).toBe(true);
  });

  it('reserves id blocks that sort between the ids made before and after them', () => {
    const now = 2_000_000_000_000;
    const before = newId('dlv', now);
    const head = newIdBlock('dlv', now);
    const after = newId('dlv', now);
    const first = head + idBlockCounter(0);
    const last = head + idBlockCounter(2 ** 20 - 1);
    expect(isId(first, 'dlv')).toBe(true);
    expect(before < first).toBe(true);
    expect(first < head + idBlockCounter(1)).toBe(true);
    expect(last < after).toBe(true);
    expect(() => idBlockCounter(2 ** 20)).toThrow(RangeError);
  });
});
