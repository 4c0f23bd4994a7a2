/**
 * The `code` an error carries, when it is a string: node's system errors (ECONNREFUSED), PostgreSQL's
 * SQLSTATE (node-postgres and PGlite both set it), and our own network guard's EFORBIDDENADDRESS.
 * Errors reach us as `unknown`; this is the one place that looks inside them for a code.
 */
export function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object' || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
