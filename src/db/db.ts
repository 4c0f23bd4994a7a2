/**
 * The database seam. Only src/db/ imports a driver; everything else talks to this interface, so the same
 * SQL runs on embedded PGlite and on PostgreSQL. Rows come back as plain objects; int8 is a JS number on
 * both (sequence numbers and counters stay far below 2^53).
 */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type DbKind = 'pglite' | 'postgres';

/** One COPY … (FORMAT csv) as it streams. */
export interface CsvCopy {
  /** Its bytes as they come (records end in LF), with backpressure; stopping early (return()) cancels it. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** How many records it held; known once `chunks` has been read to its end. */
  rows(): number;
}

/** CsvCopy.rows of a copy whose count is `rows` (undefined until it was read to its end). */
export function rowsRead(rows: number | undefined): number {
  if (rows === undefined) throw new Error('a COPY was asked for its record count before it was read to its end');
  return rows;
}

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * The result of `query` (a SELECT with no parameters: COPY takes none, see sql-literal.ts) in
   * PostgreSQL's CSV format. It runs when `chunks` is first read. `settings` are set for that statement
   * only (set_config, local to its transaction).
   */
  copyCsv(query: string, settings?: Readonly<Record<string, string>>): CsvCopy;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
