import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../ingest/hash.js';
import { canonicalizeJsonText, chainHashOfJsonText } from './canonical-text.js';

// A small deterministic PRNG, so a failure reproduces.
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters chosen to hit every ordering and escaping corner: below and above '"', escapes, DEL,
// Latin-1, U+2028, the BMP private area (sorts after surrogates in UTF-16) and astral characters.
const ALPHABET = ['a', 'b', 'Z', '_', ' ', '!', '"', '\\', '/', '\n', '\t', '\u0001', '\u001f', '\u007f', 'é', '\u2028', '\ue000', '😀', '𝄞', 'ß'];
const NUMBERS = [0, -0, 1, -1, 42, 1.5, -0.25, 0.1, 1e21, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, 2 ** 53, 3.14159];

function randomString(random: () => number, max: number): string {
  let out = '';
  const length = Math.floor(random() * max);
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)] as string;
  return out;
}

function randomValue(random: () => number, depth: number): unknown {
  const roll = random();
  if (depth > 3 || roll < 0.35) {
    const kind = Math.floor(random() * 5);
    if (kind === 0) return randomString(random, 8);
    if (kind === 1) return NUMBERS[Math.floor(random() * NUMBERS.length)];
    if (kind === 2) return random() < 0.5;
    if (kind === 3) return null;
    return Math.floor(random() * 1e6) / 100;
  }
  if (roll < 0.55) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const object: Record<string, unknown> = {};
  const size = Math.floor(random() * 6);
  for (let i = 0; i < size; i++) object[randomString(random, 5)] = randomValue(random, depth + 1);
  return object;
}

/** Renders JSON the way other writers do: PostgreSQL's jsonb (", " and ": "), pretty, escaped non-ASCII. */
function render(value: unknown, style: number): string {
  if (style === 0) return JSON.stringify(value);
  if (style === 1) return JSON.stringify(value, null, 2);
  if (style === 2) return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // jsonb-like: keys shortest first, spaces after separators (only outside strings: re-serialise).
  const jsonb = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(jsonb).join(', ')}]`;
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).sort(([a], [b]) => a.length - b.length || (a < b ? -1 : 1));
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${jsonb(x)}`).join(', ')}}`;
    }
    if (typeof v === 'number' && Math.abs(v) >= 1e21) return BigInt(v).toString();
    return JSON.stringify(v);
  };
  return jsonb(value);
}

describe('canonicalizeJsonText', () => {
  it('matches canonicalJson(JSON.parse(text)) on random documents in several renderings', () => {
    const random = prng(7);
    for (let i = 0; i < 5_000; i++) {
      const value = randomValue(random, 0);
      const expected = canonicalJson(value);
      for (let style = 0; style < 4; style++) {
        const text = render(value, style);
        expect(canonicalizeJsonText(text), text).toBe(expected);
      }
    }
  });

  it('handles the RFC 8785 sample ordering and number forms', () => {
    const text = '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew", "1": "One", "\\ud83d\\ude00": "Emoji", "\\u0080": "Control", "\\u00f6": "Latin"}';
    expect(canonicalizeJsonText(text)).toBe(canonicalJson(JSON.parse(text)));
    expect(canonicalizeJsonText('[1E2, 1e+21, 0.000001, 1e-7, -0, 10.50]')).toBe('[100,1e+21,0.000001,1e-7,0,10.5]');
  });

  it('keeps the last of duplicate keys, like JSON.parse', () => {
    expect(canonicalizeJsonText('{"b": 1, "a": 2, "b": 3, "b": 4}')).toBe('{"a":2,"b":4}');
    expect(canonicalizeJsonText('{"a": 1, "\\u0061": 2}')).toBe('{"a":2}');
  });

  it('rejects what the generic canonicaliser rejects', () => {
    expect(() => canonicalizeJsonText('"\\ud800"')).toThrow(/Lone surrogate/);
    expect(() => canonicalizeJsonText('{"a": 1} x')).toThrow();
    expect(() => canonicalizeJsonText('[1, 2')).toThrow();
  });
});

describe('chainHashOfJsonText', () => {
  it('equals chainHash over the parsed event, including after the buffer had to grow', async () => {
    const { chainHash } = await import('../ingest/hash.js');
    const random = prng(11);
    const prev = 'ab'.repeat(32);
    for (let i = 0; i < 200; i++) {
      const value = { id: `evt_${i}`, big: Array.from({ length: i * 3 }, () => randomValue(random, 2)), n: [1e20, 1e-7, 123e-20, -0] };
      const text = render(value, i % 4);
      expect(chainHashOfJsonText(prev, text)).toBe(chainHash(prev, value as never));
    }
  });
});
