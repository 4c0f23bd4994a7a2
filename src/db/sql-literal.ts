/**
 * SQL literals, for the one place values cannot be bound as parameters: COPY (query) TO takes no
 * parameters. Everywhere else, bind.
 *
 * A string becomes '…' with quotes doubled; one holding a backslash becomes E'…' with backslashes doubled
 * too, which reads the same whatever standard_conforming_strings is set to. PostgreSQL text cannot hold
 * NUL, so a string with one is refused here rather than cut short by the server.
 */
export type SqlLiteralValue = string | number | readonly string[];

export function sqlLiteral(value: SqlLiteralValue): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`only safe integers are written as SQL literals (got ${value})`);
    return String(value);
  }
  if (typeof value === 'string') return stringLiteral(value);
  return value.length === 0 ? `'{}'::text[]` : `array[${value.map(stringLiteral).join(', ')}]::text[]`;
}

function stringLiteral(text: string): string {
  if (text.includes('\0')) throw new Error('a SQL string cannot hold a NUL character');
  const quoted = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}
