// String.prototype.isWellFormed is in every supported Node (≥ 20) but not in the ES2022 typings.
export function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Why a parsed JSON value cannot be stored, though JSON.parse accepted it:
 * - a lone surrogate ("\ud800") is not Unicode: no UTF-8 form and no RFC 8785 canonical form, so it can be
 *   neither hashed into the chain nor compared for idempotency;
 * - a NUL character ("\u0000") cannot be held by a PostgreSQL text or jsonb value;
 * - a number too large for a double ("1e400") parses to Infinity, which has no JSON form at all.
 * I-JSON (RFC 7493) rules out all three.
 */
export type UnstorableProblem = 'lone_surrogate' | 'nul' | 'non_finite';

export interface Unstorable {
  /** JSON Pointer to the value (or the key) at fault; '' is the whole document. */
  path: string;
  problem: UnstorableProblem;
}

function stringProblem(value: string): UnstorableProblem | undefined {
  if (value.includes('\u0000')) return 'nul';
  return isWellFormed(value) ? undefined : 'lone_surrogate';
}

/**
 * The first value or key of a parsed JSON document that could not be stored, if any, in document order.
 * Iterative: JSON.parse accepts nesting deeper than the call stack would.
 */
export function findUnstorable(document: unknown): Unstorable | undefined {
  const pending: { value: unknown; path: string }[] = [{ value: document, path: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem !== undefined) return { path, problem };
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path, problem: 'non_finite' };
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) pending.push({ value: value[index], path: `${path}/${index}` });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      const children: { value: unknown; path: string }[] = [];
      for (const [key, item] of entries) {
        const at = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        const problem = stringProblem(key);
        if (problem !== undefined) return { path: at, problem };
        children.push({ value: item, path: at });
      }
      for (let index = children.length - 1; index >= 0; index--) pending.push(children[index] as { value: unknown; path: string });
    }
  }
  return undefined;
}

// A lone surrogate or a NUL can only arrive as a \u escape. A number m·10^e overflows a double only when
// its integer digits plus e reach 309: with a one-digit exponent that takes 300 digits in a row, otherwise
// an exponent of at least two significant digits. Text with none of these is not walked.
const MAY_OVERFLOW = /\d{200}|[eE]\+?0*[1-9]\d/;

/** Whether JSON text may hold something findUnstorable reports (cheap; false means it cannot). */
export function mayHoldUnstorable(text: string): boolean {
  return text.includes('\\u') || MAY_OVERFLOW.test(text);
}
