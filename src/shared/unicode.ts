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

/** The first value or key of a parsed JSON document that could not be stored, if any. */
export function findUnstorable(value: unknown, path = ''): Unstorable | undefined {
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    return problem === undefined ? undefined : { path, problem };
  }
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, problem: 'non_finite' };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnstorable(value[index], `${path}/${index}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const problem = stringProblem(key);
    if (problem !== undefined) return { path: at, problem };
    const found = findUnstorable(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

// A lone surrogate or a NUL can only arrive as a \u escape; a number overflows a double only with an
// exponent of three digits or more than 308 digits. Text without either is not walked.
const MAY_OVERFLOW = /[eE]\+?0*[1-9]\d{2}|\d{309}/;

/** Whether JSON text may hold something findUnstorable reports (cheap; false means it cannot). */
export function mayHoldUnstorable(text: string): boolean {
  return text.includes('\\u') || MAY_OVERFLOW.test(text);
}
