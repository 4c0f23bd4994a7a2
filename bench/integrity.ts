import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { openPostgres } from '../src/db/postgres.js';
import { GENESIS_HASH } from '../src/ingest/hash.js';
import * as sourceChain from '../src/integrity/chain.js';
import { signCheckpoint } from '../src/integrity/checkpoint.js';
import { insertCheckpoint } from '../src/integrity/integrity.sql.js';
import { ephemeralSigningKey, type SigningKey } from '../src/integrity/signing-key.js';
import { bulkLoadEvents } from './lib/bulk-load.js';
import { EventGenerator } from './lib/events.js';
import { createScratchDatabase, dropScratchDatabases, migrateDatabase, postgresAvailable, withClient } from './lib/pg.js';
import { log } from './lib/report.js';

/** `verify=true` must re-walk a 1,000,000-event chain at ≥ 200,000 events/s (issue 5). */
export const VERIFY_TARGET_PER_SECOND = 200_000;

export interface VerifyBenchResult {
  events: number;
  checkpoints: number;
  loadSeconds: number;
  /**
   * Each run: seconds and events/s (the first reads from disk, later ones from PostgreSQL's cache), and
   * CPU per event of this process and of the database's backends — what the rate is made of, and a fair
   * reading even when other work shares the machine.
   */
  runs: { seconds: number; perSecond: number; nodeMicros: number; postgresMicros: number }[];
  /** Growth of this process's RSS during the runs (the walk must be constant-memory). */
  rssGrowthMiB: number;
}

const ORG = 'org_bench_integrity';

/**
 * The walk under test: the TypeScript sources (through tsx, as in development) or, with BENCH_SERVER=dist,
 * the compiled build a production server runs (`npm run build` first) — V8 optimises the two differently.
 */
async function walker(): Promise<typeof sourceChain.verifyStoredChain> {
  if (process.env.BENCH_SERVER !== 'dist') return sourceChain.verifyStoredChain;
  const compiled = (await import(new URL('../dist/src/integrity/chain.js', import.meta.url).href)) as typeof sourceChain;
  return compiled.verifyStoredChain;
}

/**
 * Loads `count` realistic events (the search bench's generator, chained with the server's own prepareEvent
 * and chainHash) into a scratch database with COPY, a signed checkpoint every `checkpointEvery` events as
 * the checkpoint job would leave them, then times verifyStoredChain — exactly what
 * `GET /audit_logs/integrity?verify=true` runs — including every checkpoint's signature and hash.
 */
export async function benchVerify(count = 1_000_000, runs = 3, checkpointEvery = 1_000): Promise<VerifyBenchResult> {
  const { name, url } = await createScratchDatabase('integrity');
  const key = ephemeralSigningKey();
  const started = performance.now();
  const checkpoints = await loadChain(url, count, checkpointEvery);
  await storeCheckpoints(url, ORG, key, checkpoints);
  const loadSeconds = (performance.now() - started) / 1000;
  log(`  loaded ${count.toLocaleString('en-US')} events and ${checkpoints.length} checkpoints in ${loadSeconds.toFixed(1)} s`);
  const timed = await timeVerifyWalks({ url, name }, ORG, new Map([[key.keyId, key.publicKey]]), { events: count, checkpoints: checkpoints.length }, runs);
  return { events: count, checkpoints: checkpoints.length, loadSeconds, ...timed };
}

/** Signs and stores checkpoints at these chain positions, as the checkpoint job would have. */
export async function storeCheckpoints(url: string, organizationId: string, key: SigningKey, checkpoints: readonly { seq: number; hash: string }[]): Promise<void> {
  const db = await openPostgres({ connectionString: url, poolSize: 2 });
  try {
    for (const { seq, hash } of checkpoints) {
      const createdAt = new Date();
      const signed = signCheckpoint(key, { organization_id: organizationId, seq, hash, created_at: createdAt.toISOString() });
      await insertCheckpoint(db, { organization_id: organizationId, seq, hash, created_at: createdAt, key_id: key.keyId, signature: signed.signature });
    }
  } finally {
    await db.close();
  }
}

/**
 * Times verifyStoredChain over one organization's stored chain, in this process (no HTTP), `runs` times;
 * each run must find the chain valid with `expected` events and checkpoints checked.
 */
export async function timeVerifyWalks(
  database: { url: string; name: string },
  organizationId: string,
  keys: ReadonlyMap<string, KeyObject>,
  expected: { events: number; checkpoints: number },
  runs: number,
): Promise<Pick<VerifyBenchResult, 'runs' | 'rssGrowthMiB'>> {
  const count = expected.events;
  const db = await openPostgres({ connectionString: database.url, poolSize: 4 });
  try {
    const verifyStoredChain = await walker();
    // Open the pool's connections now, so every backend the walk uses is in pg_stat_activity when measured.
    await Promise.all(Array.from({ length: 4 }, () => db.query('select pg_sleep(0.05)')));
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const results: VerifyBenchResult['runs'] = [];
    try {
      for (let run = 0; run < runs; run++) {
        const backends = await db.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database.name]);
        const pgBefore = backendSeconds(backends.map((row) => row.pid));
        const cpuBefore = process.cpuUsage();
        const t0 = performance.now();
        const result = await verifyStoredChain(db, organizationId, { checkpointKeys: keys });
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        const after = await db.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database.name]);
        const pgSeconds = cpuBetween(pgBefore, backendSeconds([...new Set([...backends, ...after].map((row) => row.pid))]));
        if (!result.valid || result.checked !== count || result.checkpoints_checked !== expected.checkpoints) {
          throw new Error(`verification did not pass: ${JSON.stringify(result)}`);
        }
        const nodeMicros = (cpu.user + cpu.system) / count;
        const postgresMicros = (pgSeconds * 1e6) / count;
        results.push({ seconds, perSecond: count / seconds, nodeMicros, postgresMicros });
        log(
          `  run ${run + 1}: ${count.toLocaleString('en-US')} events in ${seconds.toFixed(2)} s = ${Math.round(count / seconds).toLocaleString('en-US')} events/s ` +
            `(CPU per event: node ${nodeMicros.toFixed(2)} µs, postgres ${postgresMicros.toFixed(2)} µs; load average ${os.loadavg()[0]?.toFixed(2) ?? '?'})`,
        );
      }
    } finally {
      clearInterval(sampler);
    }
    return { runs: results, rssGrowthMiB: (rssPeak - rssBefore) / 2 ** 20 };
  } finally {
    await db.close();
  }
}

/** Migrates a fresh database at `url` and loads the chain; returns the (seq, hash) pairs to checkpoint. */
export async function loadChain(url: string, count: number, checkpointEvery: number): Promise<{ seq: number; hash: string }[]> {
  await migrateDatabase(url);
  await withClient(url, async (client: pg.Client) => {
    await client.query('insert into organizations (id, name, retention_period_in_days) values ($1, $2, 3650)', [ORG, 'Integrity bench']);
    await client.query('insert into org_log_heads (organization_id, seq, hash) values ($1, 0, $2)', [ORG, GENESIS_HASH]);
  });
  const checkpoints: { seq: number; hash: string }[] = [];
  const generator = new EventGenerator({ seed: 42, timeOf: (i) => new Date(Date.UTC(2026, 0, 1) + i * 1_000) });
  await bulkLoadEvents(url, {
    organizationId: ORG,
    count,
    eventAt: () => generator.next(),
    onAppended: (seq, hash) => {
      if (seq % checkpointEvery === 0) checkpoints.push({ seq, hash });
    },
    // Only the primary key matters to the walk; the search indexes would just slow the load down.
    rebuildIndexes: 'none',
  });
  return checkpoints;
}

/** CPU seconds (user + system) of each of these processes, from /proc (the scratch database's backends). */
function backendSeconds(pids: readonly number[]): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The backend ended.
    }
  }
  return seconds;
}

/**
 * CPU used between two readings by the backends alive at the second. The pool closes connections idle for
 * 10 s and opens new ones during a long walk: a backend that started meanwhile counts from zero, and one
 * that ended is left out (not counted as negative time).
 */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, end] of after) total += end - (before.get(pid) ?? 0);
  return total;
}

async function main(): Promise<number> {
  const count = Number(process.argv[2] ?? 1_000_000);
  const version = await postgresAvailable();
  if (version === undefined) {
    process.stderr.write('PostgreSQL does not answer (see bench/README.md); set BENCH_PG_URL.\n');
    return 2;
  }
  log(
    `integrity verify bench: ${count.toLocaleString('en-US')} events; ${process.env.BENCH_SERVER === 'dist' ? 'compiled build (dist)' : 'TypeScript sources (tsx)'}; ` +
      `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}; node ${process.version}; PostgreSQL ${version}; load average ${os.loadavg()[0]?.toFixed(2) ?? '?'}`,
  );
  try {
    const result = await benchVerify(count);
    const best = Math.max(...result.runs.map((run) => run.perSecond));
    process.stdout.write(
      `\nverify=true over ${result.events.toLocaleString('en-US')} events (${result.checkpoints} checkpoints): ` +
        `${result.runs.map((run) => `${Math.round(run.perSecond).toLocaleString('en-US')}/s`).join(', ')}; ` +
        `RSS growth ${result.rssGrowthMiB.toFixed(0)} MiB; target ≥ ${VERIFY_TARGET_PER_SECOND.toLocaleString('en-US')}/s: ${best >= VERIFY_TARGET_PER_SECOND ? 'met' : 'MISSED'}\n`,
    );
    return best >= VERIFY_TARGET_PER_SECOND ? 0 : 1;
  } finally {
    await dropScratchDatabases();
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      void dropScratchDatabases().finally(() => process.exit(2));
    },
  );
}
