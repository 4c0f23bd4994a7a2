import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureCopyCeiling, type CopyResult } from './copy-ceiling.js';
import { measureHttpCeiling, type CeilingResult } from './http-ceiling.js';
import { drain, measureBatch, measureSingleEvent } from './ingest.js';
import type { LoadResult } from './lib/load.js';
import { createScratchDatabase, dropScratchDatabase, withClient } from './lib/pg.js';
import { log, type Report } from './lib/report.js';
import { settings } from './lib/settings.js';
import { fmtMs, fmtRate, table } from './lib/stats.js';
import { checkChain, explainSearches, loadSearchData, measureSearches, measureSearchThroughput } from './search.js';
import { createOrganization, startVerity, withServer } from './server.js';

export const CORE_STEPS = ['http', 'copy', 'single-pg', 'batch', 'single-pglite', 'search'] as const;
type Step = (typeof CORE_STEPS)[number];

export function errorsOf(load: LoadResult): string {
  const bad = load.non2xx + load.errors;
  if (bad === 0) return '0';
  const codes = Object.entries(load.statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, n]) => `${n}×${code}`);
  return [...codes, load.errors > 0 ? `${load.errors} conn errors` : ''].filter((s) => s !== '').join(' ');
}

const ratio = (value: number, base: number): string => `${(value / base).toFixed(2)}× (${fmtRate(value)} / ${fmtRate(base)})`;

/**
 * The core suite: HTTP and storage ceilings, durable single-event ingest on PostgreSQL and PGlite, batch
 * ingest against raw COPY, and search over a large organization with query plans.
 */
export async function runCore(report: Report): Promise<string[]> {
  const want = (step: Step): boolean => settings.only.length === 0 || settings.only.includes(step);
  const extra: string[] = [];
  const ceilings: CeilingResult[] = [];
  let copy: CopyResult | undefined;
  // Ratio checks against the HTTP ceiling wait until it has been measured a second time (below).
  const singles: { backend: string; rate: number; min: number }[] = [];
  const measureCeiling = async (label: string): Promise<void> => {
    const ceiling = await measureHttpCeiling();
    ceilings.push(ceiling);
    report.add({ name: `HTTP ceiling, ${label} (node:http, JSON.parse, 200)`, backend: '—', rate: ceiling.load.rate, unit: 'req/s', ...latency(ceiling.load), errors: errorsOf(ceiling.load), memory: ceiling.memory, cpu: ceiling.load.cpu });
  };

  if (want('http')) await measureCeiling('run 1');

  if (want('copy')) {
    copy = await measureCopyCeiling();
    report.add({ name: `storage ceiling (raw COPY, ${fmtRate(copy.rows)} rows)`, backend: 'postgres', rate: copy.rate, unit: 'rows/s', errors: '0', cpu: copy.cpu });
  }

  if (want('single-pg') || want('batch')) {
    const db = await createScratchDatabase('ingest');
    try {
      await withServer(await startVerity({ kind: 'postgres', databaseUrl: db.url }), async (server) => {
        if (want('single-pg')) {
          const org = await createOrganization(server, 'bench single-event postgres');
          const { load, commits } = await measureSingleEvent(server, org, 4);
          report.note(`single-event postgres, group commit: ${commits}`);
          const memory = server.memory();
          await drain(server, org);
          report.add({ name: 'single-event POST (durable)', backend: 'postgres', rate: load.rate, unit: 'events/s', ...latency(load), errors: errorsOf(load), memory, cpu: load.cpu });
          const stored = await withClient(db.url, async (c) => Number((await c.query<{ n: string }>('select count(*) as n from events where organization_id = $1', [org])).rows[0]?.n));
          report.check('single-event postgres: every 2xx stored', `${fmtRate(stored)} stored ≥ ${fmtRate(load.ok)} acked`, 'stored ≥ acked, no errors', stored >= load.ok && errorsOf(load) === '0');
          singles.push({ backend: 'postgres', rate: load.rate, min: 0.5 });
          report.check('single-event postgres p99', fmtMs(load.p99), '< 50 ms', load.p99 < 50);
        }
        if (want('batch')) {
          const org = await createOrganization(server, 'bench batch postgres');
          const batch = await measureBatch(server, org);
          report.note(`batch postgres, group commit: ${batch.commits}`);
          const memory = server.memory();
          await drain(server, org);
          report.add({ name: `batch POST (${settings.batchSize}/request, ${settings.batchConnections} conns)`, backend: 'postgres', rate: batch.eventsPerSecond, unit: 'events/s', ...latency(batch.load), errors: errorsOf(batch.load), memory, cpu: batch.load.cpu });
          report.check('batch: no errors', errorsOf(batch.load), '0', errorsOf(batch.load) === '0');
          if (copy) report.check('batch events/s / raw COPY rows/s', ratio(batch.eventsPerSecond, copy.rate), '≥ 0.60×', batch.eventsPerSecond >= 0.6 * copy.rate);
        }
      });
    } finally {
      await dropScratchDatabase(db.name);
    }
  }

  if (want('single-pglite')) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'verity-bench-pglite-'));
    try {
      await withServer(await startVerity({ kind: 'pglite', dataDir }), async (server) => {
        const org = await createOrganization(server, 'bench single-event pglite');
        const { load, commits } = await measureSingleEvent(server, org, 5);
        report.note(`single-event pglite, group commit: ${commits}`);
        report.add({ name: 'single-event POST (durable)', backend: 'pglite', rate: load.rate, unit: 'events/s', ...latency(load), errors: errorsOf(load), memory: server.memory(), cpu: load.cpu });
        report.check('single-event pglite: no errors', errorsOf(load), '0', errorsOf(load) === '0');
        singles.push({ backend: 'pglite', rate: load.rate, min: 0.3 });
        report.check('single-event pglite p99', fmtMs(load.p99), '< 50 ms', load.p99 < 50);
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  if (want('http')) {
    // Measured again after the ingest steps; the higher run is the ceiling, so a run slowed by other work
    // on the machine cannot make the ratios look better than they are.
    if (singles.length > 0) await measureCeiling('run 2');
    const best = Math.max(...ceilings.map((c) => c.load.rate));
    for (const single of singles) {
      report.check(`single-event ${single.backend} / HTTP ceiling`, ratio(single.rate, best), `≥ ${single.min.toFixed(2)}×`, single.rate >= single.min * best);
    }
  }

  if (want('search')) {
    const db = await createScratchDatabase('search');
    try {
      await withServer(await startVerity({ kind: 'postgres', databaseUrl: db.url }), async (server) => {
        const org = await createOrganization(server, 'bench search');
        log(`search: loading ${fmtRate(settings.searchEvents)} events into ${org} (COPY with the server's prepareEvent + chainHash)`);
        const data = await loadSearchData(db.url, org, settings.searchEvents);
        log(`  loaded in ${data.seconds.toFixed(1)} s (incl. vacuum analyze); events table ${data.tableSize}`);
        const chain = await checkChain(server, db.url, org, settings.searchEvents);
        log(`  ${chain}`);
        report.note(`search data: ${fmtRate(data.events)} events, loaded in ${data.seconds.toFixed(1)} s (${fmtRate(data.events / data.seconds)} rows/s incl. vacuum analyze), events table ${data.tableSize}; ${chain}`);

        log(`search latency: one connection, ${settings.searchSeconds} s per query kind`);
        const searches = await measureSearches(server, org, data);
        const throughput = await measureSearchThroughput(server, org);
        report.add({ name: `search first page (${settings.searchConnections} conns)`, backend: 'postgres', rate: throughput.rate, unit: 'req/s', ...latency(throughput), errors: errorsOf(throughput), memory: server.memory(), cpu: throughput.cpu });

        log('search plans: EXPLAIN (ANALYZE, BUFFERS) of the server’s SQL');
        const plans = await explainSearches(db.url, org, data);
        for (const { kind, load } of searches) {
          report.check(`search p95: ${kind.name}`, fmtMs(load.p95), `< ${kind.target} ms`, load.p95 < kind.target && errorsOf(load) === '0');
        }
        extra.push(
          `Search latency at ${fmtRate(data.events)} events in one organization (1 connection, ${settings.searchSeconds} s per kind, limit 10):`,
          table(
            ['query kind', 'requests', 'p50', 'p95', 'p99', 'target p95', 'errors', 'SQL median', 'SQL max', 'slowest plan (of sampled values)'],
            searches.map(({ kind, load }) => {
              const plan = plans.summaries.find((p) => p.kind === kind.name);
              return [kind.name, String(load.count), fmtMs(load.p50), fmtMs(load.p95), fmtMs(load.p99), `< ${kind.target} ms`, errorsOf(load), fmtMs(plan?.medianMs ?? Number.NaN), fmtMs(plan?.maxMs ?? Number.NaN), plan?.slowestShape ?? ''];
            }),
          ),
          '',
          `Slowest sampled query per kind (full plans: ${path.relative(process.cwd(), plans.file)}):`,
          ...plans.summaries.map((p) => `  ${p.kind.padEnd(22)} ${fmtMs(p.maxMs).padStart(9)}  ${p.slowestQuery}  [buffers ${p.slowestBuffers}]`),
        );
      });
    } finally {
      await dropScratchDatabase(db.name);
    }
  }
  return extra;
}

function latency(load: LoadResult): { p50: number; p95: number; p99: number } {
  return { p50: load.p50, p95: load.p95, p99: load.p99 };
}
