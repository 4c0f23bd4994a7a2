import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Logger } from 'pino';
import { rowsRead, type CsvCopy, type Db, type Queryable } from './db.js';
import { databaseError } from './unavailable.js';

const INT8_OID = 20;

export interface PostgresOptions {
  connectionString: string;
  poolSize: number;
  logger?: Logger | undefined;
}

/** Parses int8 as a JS number, like PGlite, so rows look the same on both backends. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : (pg.types.getTypeParser(oid, format as 'text') as (value: string) => unknown)) as typeof pg.types.getTypeParser,
};

/** The driver's failures, marked as the database's (see isDatabaseUnavailable). */
function tagged<T>(pending: Promise<T>): Promise<T> {
  return pending.catch((error: unknown) => {
    throw databaseError(error);
  });
}

export async function openPostgres(options: PostgresOptions): Promise<PostgresDb> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize, types });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => options.logger?.warn({ err: error }, 'idle PostgreSQL client failed'));
  await pool.query('select 1');
  return new PostgresDb(pool, options);
}

export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresOptions,
  ) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await tagged(this.pool.query(sql, params as unknown[]));
    return result.rows as Row[];
  }

  async exec(sql: string): Promise<void> {
    await tagged(this.pool.query(sql));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await tagged(this.pool.connect());
    try {
      await tagged(client.query('begin'));
      const result = await fn({
        query: async <Row>(sql: string, params: readonly unknown[] = []) =>
          (await tagged(client.query(sql, params as unknown[]))).rows as Row[],
        exec: async (sql: string) => {
          await tagged(client.query(sql));
        },
      });
      await tagged(client.query('commit'));
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * COPY … TO STDOUT on a pooled connection, streamed: PostgreSQL writes the CSV in C, far cheaper than
   * rows parsed into objects and encoded again here. A copy left unfinished (the consumer stopped, or it
   * failed) leaves its connection mid-protocol, so that connection is discarded rather than reused.
   */
  copyCsv(query: string, settings: Readonly<Record<string, string>> = {}): CsvCopy {
    const pool = this.pool;
    let rows: number | undefined;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const client = await tagged(pool.connect());
      let finished = false;
      try {
        await tagged(client.query('begin'));
        for (const [name, value] of Object.entries(settings)) await tagged(client.query('select set_config($1, $2, true)', [name, value]));
        const copy = client.query(copyTo(`copy (${query}) to stdout with (format csv)`));
        for await (const chunk of copy) yield chunk as Buffer;
        await tagged(client.query('commit'));
        finished = true;
        // Set from the COPY's CommandComplete, which PostgreSQL sends before it answers the commit.
        rows = copy.rowCount;
      } finally {
        client.release(finished ? undefined : new Error('COPY did not finish'));
      }
    }
    return { chunks: chunks(), rows: () => rowsRead(rows) };
  }

  /** A dedicated connection per subscription; it reconnects by itself if the server drops it. */
  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    let client: pg.Client | undefined;
    let stopped = false;
    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: this.options.connectionString, types });
      next.on('notification', (message) => {
        if (message.channel === channel) onPayload(message.payload ?? '');
      });
      next.on('error', (error) => {
        this.options.logger?.warn({ err: error, channel }, 'LISTEN connection lost; reconnecting');
        void next.end().catch(() => undefined);
        if (!stopped) setTimeout(() => void connect().catch(() => undefined), 500 + Math.random() * 500);
      });
      await next.connect();
      await next.query(`listen ${pg.escapeIdentifier(channel)}`);
      client = next;
    };
    await connect();
    return async () => {
      stopped = true;
      await client?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
