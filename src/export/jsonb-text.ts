/**
 * Compact JSON from PostgreSQL's `jsonb` text output: exactly `JSON.stringify(JSON.parse(text))`.
 *
 * Why it exists: a CSV export writes three JSON columns per event (actor metadata, targets, metadata).
 * Parsing each event's whole stored document to re-serialise them cost most of an export's CPU; reading
 * just those parts as jsonb text and dropping the separators' spaces costs a fraction of it.
 *
 * jsonb text differs from JSON.stringify only in (a) a space after each `,` and `:` between tokens,
 * (b) numbers, which jsonb keeps as written (`1.50`, `1e2` as `100`, digits beyond a double) where
 * JavaScript writes the double, and (c) key order when keys look like array indexes (JavaScript puts
 * those first, jsonb sorts keys by length). Strings are escaped alike (`\"`, `\\`, `\b\f\n\r\t`,
 * lowercase `\u00xx` for other control characters; everything else raw). The fast path handles (a) only;
 * a document with a number, a digit-only key or any backslash takes `JSON.parse` + `JSON.stringify`.
 */
export function compactJsonbText(text: string): string {
  return compactFast(text, '"') ?? slow(text);
}

/**
 * compactJsonbText with every `"` written as `quote`: `""` gives the JSON ready to sit inside a quoted
 * CSV cell in the same pass. Undefined where the fast path does not apply (see compactJsonbText).
 */
export function compactFast(text: string, quote: string): string | undefined {
  // Escapes are rare; without them every `"` delimits a string, so strings are found with indexOf alone.
  if (text.indexOf('\\') !== -1) return undefined;
  let out = '';
  let at = 0;
  const length = text.length;
  while (at < length) {
    const open = text.indexOf('"', at);
    const end = open === -1 ? length : open;
    // Between strings: brackets, separators, true/false/null, or a number (slow path).
    let from = at;
    for (let i = at; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === SPACE) {
        out += text.slice(from, i);
        from = i + 1;
      } else if ((c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS) {
        return undefined;
      }
    }
    out += text.slice(from, end);
    if (open === -1) break;
    const close = text.indexOf('"', open + 1);
    if (close === -1) return undefined;
    // A key made of digits only may be an array index, which JavaScript objects order first.
    if (text.charCodeAt(close + 1) === COLON && digitsOnly(text, open + 1, close)) return undefined;
    out += `${quote}${text.slice(open + 1, close)}${quote}`;
    at = close + 1;
  }
  return out;
}

const SPACE = 32;
const MINUS = 45;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;

function digitsOnly(text: string, from: number, to: number): boolean {
  if (from === to) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

function slow(text: string): string {
  return JSON.stringify(JSON.parse(text) as unknown);
}
