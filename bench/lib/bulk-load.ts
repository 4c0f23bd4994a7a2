import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventInput } from '../../src/ingest/event.schema.js';
import { withClient } from './pg.js';
import { log } from './report.js';
import { ChainWriter, copyStatement } from './rows.js';

/** Streams COPY text lines into `events` over one connection (one COPY statement, one commit). */
export async function copyLines(client: pg.Client, lines: AsyncIterable<string> | Iterable<string>): Promise<void> {
  await pipeline(Readable.from(lines), client.query(copyFrom(copyStatement())));
}

/** Groups lines into ~1 MB strings so the stream moves big chunks, as a bulk loader would. */
export function* chunked(lines: Iterable<string>, bytes = 1 << 20): Generator<string> {
  let buffer = '';
  for (const line of lines) {
    buffer += line;
    if (buffer.length >= bytes) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}

export interface BulkLoadOptions {
  /** An existing organization with an org_log_heads row; the events continue its chain. */
  organizationId: string;
  count: number;
  /** The i-th event (0-based), as an application would POST it; called in order. */
  eventAt: (i: number) => EventInput;
  /** received_at of an event (default: now, as the row is made). */
  receivedAt?: (event: EventInput) => Date;
  /** Called after each event with its place in the chain (e.g. to collect checkpoint candidates). */
  onAppended?: (seq: number, hash: string) => void;
  /**
   * Which secondary indexes of `events` to rebuild after the COPY: 'all' (default: the end state is the
   * migrated schema), 'none' (the primary key alone), or these names — for benches whose reads use only
   * those, since building the GIN indexes takes longer than the COPY itself.
   */
  rebuildIndexes?: 'all' | 'none' | readonly string[];
  /** Progress is logged every this many events. */
  logEvery?: number;
}

export interface BulkLoadResult {
  events: number;
  /** Whole load: COPY, index builds, VACUUM ANALYZE. */
  seconds: number;
  head: { seq: number; hash: string };
}

/**
 * Loads events into one organization straight through COPY, each built with the server's own prepareEvent
 * and chainHash in sequence, so the chain is exactly what ingest would have written; then moves the
 * organization's log head (and its stored-events counter) to the end of the loaded chain.
 *
 * For speed the secondary indexes of `events` are dropped for the COPY and rebuilt from their own
 * definitions (pg_indexes) afterwards, the largest on its own connection and the rest on another. Ends with
 * VACUUM ANALYZE, as autovacuum soon would on a live system (statistics and the visibility map).
 */
export async function bulkLoadEvents(databaseUrl: string, options: BulkLoadOptions): Promise<BulkLoadResult> {
  const { organizationId, count } = options;
  const logEvery = options.logEvery ?? 250_000;
  const started = performance.now();
  const { indexes, head } = await withClient(databaseUrl, async (client) => {
    const defs = (
      await client.query<{ name: string; def: string }>(
        `select indexname as name, indexdef as def from pg_indexes
         where schemaname = current_schema() and tablename = 'events' and indexname <> 'events_pkey'`,
      )
    ).rows;
    await client.query('begin');
    for (const { name } of defs) await client.query(`drop index ${pg.escapeIdentifier(name)}`);
    const row = (
      await client.query<{ seq: string; hash: string }>('select seq, hash from org_log_heads where organization_id = $1 for update', [organizationId])
    ).rows[0];
    if (row === undefined) throw new Error(`organization ${organizationId} has no log head`);
    const writer = new ChainWriter(organizationId, { seq: Number(row.seq), hash: row.hash });
    const lines = function* (): Generator<string> {
      for (let i = 0; i < count; i++) {
        const event = options.eventAt(i);
        yield writer.line(event, options.receivedAt?.(event));
        options.onAppended?.(writer.seq, writer.hash);
        if ((i + 1) % logEvery === 0) log(`  generated and sent ${(i + 1).toLocaleString('en-US')} events`);
      }
    };
    await copyLines(client, chunked(lines()));
    await client.query('update org_log_heads set seq = $2, hash = $3 where organization_id = $1', [organizationId, writer.seq, writer.hash]);
    // Keep the head's stored-events counter (migrations/0003) true, as ingest would.
    const counted = await client.query(
      `select 1 from information_schema.columns where table_schema = current_schema() and table_name = 'org_log_heads' and column_name = 'events_stored'`,
    );
    if (counted.rows.length > 0) {
      await client.query('update org_log_heads set events_stored = events_stored + $2 where organization_id = $1', [organizationId, count]);
    }
    await client.query('commit');
    log(`  COPY of ${count.toLocaleString('en-US')} events committed after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { indexes: defs, head: { seq: writer.seq, hash: writer.hash } };
  });
  const rebuild = options.rebuildIndexes ?? 'all';
  const kept = rebuild === 'all' ? indexes : rebuild === 'none' ? [] : indexes.filter((index) => rebuild.includes(index.name));
  if (kept.length > 0) await rebuildIndexes(databaseUrl, kept);
  if (kept.length < indexes.length) log(`  left out (not used by this bench's reads): ${indexes.filter((index) => !kept.includes(index)).map((index) => index.name).join(', ')}`);
  await withClient(databaseUrl, async (client) => {
    // What autovacuum would soon do on a live system: statistics and the visibility map.
    await client.query('vacuum analyze events');
    // The load leaves a gigabyte or more of dirty pages; written out now, they do not slow the commits (and
    // so the latencies) of whatever the bench measures next, as the checkpointer would for minutes.
    await client.query('checkpoint').catch((error: unknown) => log(`  checkpoint after the load failed (${String(error)}); measurements may be slower`));
  });
  return { events: count, seconds: (performance.now() - started) / 1000, head };
}

async function rebuildIndexes(databaseUrl: string, indexes: readonly { name: string; def: string }[]): Promise<void> {
  log(`  rebuilding ${indexes.length} indexes`);
  // The slowest build (the largest GIN) on one connection, the rest on another.
  const sized = [...indexes].sort((a, b) => weight(b.def) - weight(a.def));
  const lanes = [sized.slice(0, 1), sized.slice(1)];
  await Promise.all(
    lanes.map((lane) =>
      withClient(databaseUrl, async (client) => {
        await client.query(`set maintenance_work_mem = '512MB'`);
        for (const index of lane) {
          const t = performance.now();
          await client.query(index.def);
          log(`    ${index.name} built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        }
      }),
    ),
  );
}

/** Rough build cost: trigram GIN ≫ other GIN ≫ btree. */
function weight(def: string): number {
  return def.includes('gin_trgm_ops') ? 3 : / using gin /i.test(def) ? 2 : 1;
}
