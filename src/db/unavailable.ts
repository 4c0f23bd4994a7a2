// Errors that mean "the database cannot be reached or cannot take work now", as opposed to a bug or a bad
// statement: the connection was refused, reset or timed out (node:net codes, node-postgres messages), or
// PostgreSQL answered with a connection exception (SQLSTATE class 08), an operator intervention
// (57P01–57P03: shutdown, restart, not accepting connections), insufficient resources (class 53: disk
// full, out of memory, too many connections), a database that does not exist (3D000) or refused login
// (28000, 28P01).
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '3D000', '28000', '28P01']);
const DRIVER_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

function codeOf(error: object): string | undefined {
  return 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Whether `error` (or what it wraps) says the database is unreachable rather than that a statement failed. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) return false;
  const code = codeOf(error);
  if (code !== undefined && (NETWORK_CODES.has(code) || SQLSTATES.has(code) || /^(08|53)[0-9A-Z]{3}$/.test(code))) return true;
  if (error instanceof Error && DRIVER_MESSAGES.test(error.message)) return true;
  // AggregateError (a refused dual-stack connect) and wrapped causes.
  if (error instanceof AggregateError && error.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return 'cause' in error && isDatabaseUnavailable(error.cause, depth + 1);
}
