import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { rowsRead, type CsvCopy, type Db, type Queryable } from './db.js';

export interface PgliteOptions {
  /** Directory to keep the database in; undefined keeps it in memory (tests). */
  dataDir?: string | undefined;
  /** A dump from dumpPgliteTemplate, to skip initdb (tests start from a migrated template). */
  loadDataDir?: Blob | undefined;
}

/** Opens the embedded database. PGlite has one connection: it serialises queries and transactions itself. */
export async function openPglite(options: PgliteOptions = {}): Promise<PgliteDb> {
  const pglite = await PGlite.create(options.dataDir, {
    extensions: { pg_trgm, btree_gin },
    ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }),
  });
  return new PgliteDb(pglite);
}

export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  constructor(private readonly pglite: PGlite) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.pglite.query<Row>(sql, params as unknown[]);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pglite.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pglite.transaction(async (tx) =>
      fn({
        query: async <Row>(sql: string, params: readonly unknown[] = []) =>
          (await tx.query<Row>(sql, params as unknown[])).rows,
        exec: async (sql: string) => {
          await tx.exec(sql);
        },
      }),
    );
  }

  /** COPY into PGlite's in-memory blob device, which hands the CSV over whole. */
  copyCsv(query: string, settings: Readonly<Record<string, string>> = {}): CsvCopy {
    const pglite = this.pglite;
    let rows: number | undefined;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const result = await pglite.transaction(async (tx) => {
        for (const [name, value] of Object.entries(settings)) await tx.query('select set_config($1, $2, true)', [name, value]);
        return tx.query(`copy (${query}) to '/dev/blob' with (format csv)`);
      });
      rows = result.affectedRows ?? 0;
      if (result.blob !== undefined && result.blob.size > 0) yield new Uint8Array(await result.blob.arrayBuffer());
    }
    return { chunks: chunks(), rows: () => rowsRead(rows) };
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    return this.pglite.listen(channel, onPayload);
  }

  /** A tarball of the whole database, loadable with `loadDataDir` (used for test templates). */
  async dump(): Promise<Blob> {
    return this.pglite.dumpDataDir('none');
  }

  async close(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}
