import { errorCode } from '../shared/error-code.js';

// Errors that mean "the database cannot be reached or cannot take work now", as opposed to a bug or a bad
// statement: the connection was refused, reset or timed out (node:net codes, node-postgres messages), or
// PostgreSQL answered with a connection exception (SQLSTATE class 08), an operator intervention
// (57P01–57P03: shutdown, restart, not accepting connections), disk full or too many connections (53100,
// 53300; not 53200, out of memory, which one bad query can cause), a database that does not exist (3D000)
// or refused login (28000, 28P01). Only errors the PostgreSQL adapter raised count: the same network codes
// from an S3 call are not a database outage.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '3D000', '28000', '28P01', '53100', '53300']);
const DRIVER_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

const fromDatabase = new WeakSet<object>();

/** Marks an error as raised by the database adapter (it is rethrown unchanged). */
export function databaseError(error: unknown): unknown {
  if (error !== null && typeof error === 'object') fromDatabase.add(error);
  return error;
}

/** Whether `error` (or what it wraps) came from the database adapter and says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) return false;
  if (!fromDatabase.has(error)) return 'cause' in error && isDatabaseUnavailable(error.cause, depth + 1);
  return looksUnavailable(error, depth);
}

function looksUnavailable(error: object, depth: number): boolean {
  const code = errorCode(error);
  if (code !== undefined && (NETWORK_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (error instanceof Error && DRIVER_MESSAGES.test(error.message)) return true;
  // AggregateError (a refused dual-stack connect) and wrapped causes.
  if (error instanceof AggregateError && error.errors.some((inner: unknown) => inner !== null && typeof inner === 'object' && looksUnavailable(inner, depth + 1))) return true;
  return 'cause' in error && error.cause !== null && typeof error.cause === 'object' && looksUnavailable(error.cause, depth + 1);
}
