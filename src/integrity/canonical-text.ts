import { hash } from 'node:crypto';
import { isWellFormed } from '../shared/unicode.js';

/**
 * RFC 8785 canonical JSON straight from JSON text, written as UTF-8 into a reused buffer.
 *
 * Why it exists: re-walking a stored chain costs one canonicalisation + one SHA-256 per event. Parsing
 * the jsonb text and running the generic canonicaliser (src/ingest/hash.ts) cost ~13 µs per event and
 * produced enough garbage to keep the collector busy; copying the text's characters into a buffer in
 * canonical order and hashing that buffer costs a fraction of it (bench/integrity.ts).
 * The bytes are exactly UTF-8 of `canonicalJson(JSON.parse(text))` for any valid JSON text (a differential
 * test pins this).
 *
 * It trusts its input to be valid JSON — it is fed PostgreSQL's own `jsonb` output. Untrusted files (the
 * offline verifier) go through `JSON.parse` and `canonicalJson` instead, which reject malformed input.
 */
export function canonicalizeJsonText(text: string): string {
  return shared.canonicalize(text);
}

/**
 * SHA-256 hex of `prevHash` ‖ the canonical JSON of the JSON text in `text` from index `start` on: the
 * chain hash of a stored event from its jsonb text (which may follow other columns in one string).
 */
export function chainHashOfJsonText(prevHash: string, text: string, start = 0): string {
  return shared.chainHash(prevHash, text, start);
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
// A member record on the stack: key's opening quote, key's closing quote, value start, value end, flags.
const RECORD = 5;
const KEY_ESCAPED = 1;
// The value is a string without escapes: it is copied as is, without being scanned again.
const PLAIN_STRING = 2;
// String tokens shorter than this are copied by a loop; longer ones by copyWithin (a native memmove).
const SHORT_COPY = 16;

class CanonicalWriter {
  // One buffer for both: the source as UTF-8 at [0, base), the output from `base` on (written at `at`).
  // Sharing it lets a string token be copied with copyWithin, a memmove that allocates nothing.
  private mem = Buffer.allocUnsafe(1 << 17);
  private base = 0;
  private at = 0;
  private src = '';
  // Whether the source is all ASCII: then character and byte positions coincide, string tokens are
  // found and copied on the bytes, and the text cannot hold a lone surrogate.
  private ascii = false;
  // Position of the first backslash at or after `backslashFrom` (-1: none). Escapes are rare, so most
  // strings are copied after one native indexOf, without inspecting their characters for escapes.
  private nextBackslash = -1;
  private backslashFrom = 0;
  private escaped = false;
  // Member records of the objects being written, innermost last (objects need their members sorted).
  private members = new Int32Array(256);
  private top = 0;

  canonicalize(text: string): string {
    this.begin(text, 0);
    this.document(0);
    return this.mem.toString('utf8', this.base, this.at);
  }

  chainHash(prefix: string, text: string, start: number): string {
    this.begin(text, prefix.length);
    this.chars(prefix, 0, prefix.length);
    this.document(start);
    return hash('sha256', this.mem.subarray(this.base, this.at), 'hex');
  }

  private begin(text: string, prefixLength: number): void {
    this.src = text;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; so do copied characters in the output. The rarer
    // rewritten tokens reserve their own room.
    this.base = 3 * text.length;
    this.at = this.base;
    this.ensure(3 * (text.length + prefixLength) + 64);
    this.ascii = this.mem.write(text, 0, this.base, 'utf8') === text.length;
    // Lone surrogates cannot be encoded: the generic canonicaliser rejects them too.
    if (!this.ascii && !isWellFormed(text)) throw new Error('Lone surrogate is not allowed');
    this.top = 0;
    this.backslashFrom = 0;
    this.nextBackslash = text.indexOf('\\');
  }

  private document(start: number): void {
    const end = this.skipSpace(this.value(this.skipSpace(start)));
    if (end !== this.src.length) throw new Error(`unexpected text after the JSON value at ${end}`);
  }

  private ensure(free: number): void {
    if (this.at + free <= this.mem.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.mem.length * 2, this.at + free));
    this.mem.copy(grown, 0, 0, this.at);
    this.mem = grown;
  }

  /**
   * Room for a rewritten token that may be longer than its source (1e20 → 100000000000000000000) while
   * keeping the room every remaining copied character may need.
   */
  private reserve(tokenBytes: number): void {
    this.ensure(tokenBytes + 3 * this.src.length + 64);
  }

  private skipSpace(p: number): number {
    const src = this.src;
    let c = src.charCodeAt(p);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = src.charCodeAt(++p);
    return p;
  }

  /** Writes the value at p; returns the position after it. */
  private value(p: number): number {
    const c = this.src.charCodeAt(p);
    if (c === QUOTE) return this.string(p);
    if (c === OPEN_BRACE) return this.object(p);
    if (c === OPEN_BRACKET) return this.array(p);
    if (c === 116) return this.literal(p, 'true');
    if (c === 102) return this.literal(p, 'false');
    if (c === 110) return this.literal(p, 'null');
    return this.number(p);
  }

  /** Index of the closing quote of the string opening at p; sets `escaped`. */
  private stringEnd(p: number): number {
    const src = this.src;
    if (p < this.backslashFrom || (this.nextBackslash !== -1 && this.nextBackslash <= p)) {
      this.backslashFrom = p;
      this.nextBackslash = src.indexOf('\\', p);
    }
    const quote = src.indexOf('"', p + 1);
    if (quote === -1) throw new Error(`unterminated string at ${p}`);
    if (this.nextBackslash === -1 || this.nextBackslash > quote) {
      this.escaped = false;
      return quote;
    }
    this.escaped = true;
    let i = p + 1;
    for (;;) {
      const c = src.charCodeAt(i);
      if (c === BACKSLASH) i += 2;
      else if (c === QUOTE) return i;
      else if (Number.isNaN(c)) throw new Error(`unterminated string at ${p}`);
      else i += 1;
    }
  }

  private string(p: number): number {
    const end = this.stringEnd(p);
    if (!this.escaped) {
      this.raw(p, end + 1);
    } else {
      const decoded = JSON.parse(this.src.slice(p, end + 1)) as string;
      if (!isWellFormed(decoded)) throw new Error('Lone surrogate is not allowed');
      const token = JSON.stringify(decoded);
      this.reserve(3 * token.length);
      this.chars(token, 0, token.length);
    }
    return end + 1;
  }

  private object(p: number): number {
    const base = this.top;
    let i = this.skipSpace(p + 1);
    if (this.src.charCodeAt(i) === CLOSE_BRACE) {
      this.byte(OPEN_BRACE);
      this.byte(CLOSE_BRACE);
      return i + 1;
    }
    // Collect the members, kept sorted by key (insertion sort: objects have few keys; stable, so of
    // duplicate keys the later one sorts last and wins, as with JSON.parse).
    for (;;) {
      if (this.src.charCodeAt(i) !== QUOTE) throw new Error(`expected a key at ${i}`);
      const keyEnd = this.stringEnd(i);
      let flags = this.escaped ? KEY_ESCAPED : 0;
      let v = this.skipSpace(keyEnd + 1);
      if (this.src.charCodeAt(v) !== COLON) throw new Error(`expected ':' at ${v}`);
      v = this.skipSpace(v + 1);
      let after: number;
      if (this.src.charCodeAt(v) === QUOTE) {
        after = this.stringEnd(v) + 1;
        if (!this.escaped) flags |= PLAIN_STRING;
      } else {
        after = this.skipValue(v);
      }
      if (this.top + RECORD > this.members.length) {
        const grown = new Int32Array(this.members.length * 2);
        grown.set(this.members);
        this.members = grown;
      }
      const m = this.members;
      let at = this.top;
      while (at > base && this.compareKeys(at - RECORD, i, keyEnd, flags & KEY_ESCAPED) > 0) {
        m[at] = m[at - RECORD] as number;
        m[at + 1] = m[at - RECORD + 1] as number;
        m[at + 2] = m[at - RECORD + 2] as number;
        m[at + 3] = m[at - RECORD + 3] as number;
        m[at + 4] = m[at - RECORD + 4] as number;
        at -= RECORD;
      }
      m[at] = i;
      m[at + 1] = keyEnd;
      m[at + 2] = v;
      m[at + 3] = after;
      m[at + 4] = flags;
      this.top += RECORD;
      i = this.skipSpace(after);
      const c = this.src.charCodeAt(i);
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) throw new Error(`expected ',' or '}' at ${i}`);
      i = this.skipSpace(i + 1);
    }
    const end = this.top;
    this.byte(OPEN_BRACE);
    let first = true;
    for (let r = base; r < end; r += RECORD) {
      // Records are re-read each time: writing a nested object may grow (replace) the stack.
      const next = r + RECORD;
      const m = this.members;
      if (next < end && this.compareKeys(r, m[next] as number, m[next + 1] as number, (m[next + 4] as number) & KEY_ESCAPED) === 0) continue;
      if (!first) this.byte(COMMA);
      first = false;
      const flags = m[r + 4] as number;
      if ((flags & KEY_ESCAPED) === 0) this.raw(m[r] as number, (m[r + 1] as number) + 1);
      else this.string(m[r] as number);
      this.byte(COLON);
      if ((flags & PLAIN_STRING) !== 0) this.raw(m[r + 2] as number, m[r + 3] as number);
      else this.value(m[r + 2] as number);
    }
    this.byte(CLOSE_BRACE);
    this.top = base;
    return i + 1;
  }

  private array(p: number): number {
    this.byte(OPEN_BRACKET);
    let i = this.skipSpace(p + 1);
    if (this.src.charCodeAt(i) === CLOSE_BRACKET) {
      this.byte(CLOSE_BRACKET);
      return i + 1;
    }
    for (;;) {
      i = this.skipSpace(this.value(i));
      const c = this.src.charCodeAt(i);
      if (c === CLOSE_BRACKET) break;
      if (c !== COMMA) throw new Error(`expected ',' or ']' at ${i}`);
      this.byte(COMMA);
      i = this.skipSpace(i + 1);
    }
    this.byte(CLOSE_BRACKET);
    return i + 1;
  }

  private literal(p: number, word: 'true' | 'false' | 'null'): number {
    if (!this.src.startsWith(word, p)) throw new Error(`unexpected character at ${p}`);
    this.chars(word, 0, word.length);
    return p + word.length;
  }

  private number(p: number): number {
    const end = this.numberEnd(p);
    const value = Number(this.src.slice(p, end));
    if (end === p || !Number.isFinite(value)) throw new Error(`invalid number at ${p}`);
    // ECMAScript Number-to-String is RFC 8785's number form; PostgreSQL prints numerics its own way
    // (1e+21 comes back as 1000000000000000000000), so every number is re-rendered.
    const token = String(value);
    this.reserve(token.length);
    this.chars(token, 0, token.length);
    return end;
  }

  private numberEnd(p: number): number {
    const src = this.src;
    let c = src.charCodeAt(p);
    while ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69) c = src.charCodeAt(++p);
    return p;
  }

  /** The position after the value at p, without writing it. */
  private skipValue(p: number): number {
    const src = this.src;
    const c = src.charCodeAt(p);
    if (c === QUOTE) return this.stringEnd(p) + 1;
    if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
      if (c === 116 || c === 110) return p + 4;
      if (c === 102) return p + 5;
      return this.numberEnd(p);
    }
    let depth = 1;
    let i = p + 1;
    while (depth > 0) {
      const d = src.charCodeAt(i);
      if (d === QUOTE) {
        i = this.stringEnd(i) + 1;
        continue;
      }
      if (d === OPEN_BRACE || d === OPEN_BRACKET) depth += 1;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) depth -= 1;
      else if (Number.isNaN(d)) throw new Error(`unterminated value at ${p}`);
      i += 1;
    }
    return i;
  }

  /** Compares the key of the record at r with the key quoted at start..end, as UTF-16 code units (RFC 8785 §3.2.3). */
  private compareKeys(r: number, start: number, end: number, escaped: number): number {
    const m = this.members;
    const aStart = m[r] as number;
    const aEnd = m[r + 1] as number;
    const src = this.src;
    if (((m[r + 4] as number) & KEY_ESCAPED) === 0 && escaped === 0) {
      const aLength = aEnd - aStart;
      const bLength = end - start;
      const n = Math.min(aLength, bLength);
      for (let k = 1; k < n; k++) {
        const diff = src.charCodeAt(aStart + k) - src.charCodeAt(start + k);
        if (diff !== 0) return diff;
      }
      return aLength - bLength;
    }
    const a = JSON.parse(src.slice(aStart, aEnd + 1)) as string;
    const b = JSON.parse(src.slice(start, end + 1)) as string;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /**
   * Copies src[from..to), a string token without escapes: it is already canonical, since JSON.stringify
   * escapes only '"', '\\' and control characters, which valid JSON cannot hold unescaped.
   */
  private raw(from: number, to: number): void {
    if (!this.ascii) {
      this.chars(this.src, from, to);
    } else if (to - from < SHORT_COPY) {
      const mem = this.mem;
      let n = this.at;
      for (let i = from; i < to; i++) mem[n++] = mem[i] as number;
      this.at = n;
    } else {
      this.mem.copyWithin(this.at, from, to);
      this.at += to - from;
    }
  }

  private byte(value: number): void {
    this.mem[this.at++] = value;
  }

  /** UTF-8 of s[from..to) (well-formed UTF-16). */
  private chars(s: string, from: number, to: number): void {
    const out = this.mem;
    let n = this.at;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        out[n++] = c;
      } else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdbff) {
        const code = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        out[n++] = 0xf0 | (code >> 18);
        out[n++] = 0x80 | ((code >> 12) & 0x3f);
        out[n++] = 0x80 | ((code >> 6) & 0x3f);
        out[n++] = 0x80 | (code & 0x3f);
      } else {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      }
    }
    this.at = n;
  }
}

const shared = new CanonicalWriter();

