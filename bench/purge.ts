import { EventGenerator } from './lib/events.js';
import { startOpenLoop, type OpenLoopResult } from './lib/open-loop.js';
import { withClient } from './lib/pg.js';
import { cpuProbe, type CpuUsage } from './lib/proc.js';
import { log } from './lib/report.js';
import { summarize, type LatencySummary } from './lib/stats.js';
import { BENCH_KEY, type VerityServer } from './server.js';

export interface IngestWindow {
  loop: OpenLoopResult;
  latency: LatencySummary;
  cpu: CpuUsage;
}

export interface PurgeRun {
  /** What POST /admin/retention/run answered it deleted. */
  purged: number;
  /** Wall time of that request (it purges synchronously and answers when done). */
  seconds: number;
  unloaded: IngestWindow;
  during: IngestWindow;
  /** Events of the expired organization still stored afterwards. */
  left: number;
  /** Events of the ingest organization stored, and how many ingest requests were acknowledged in all. */
  ingestStored: number;
  ingestAcked: number;
  /** The purged organization's chain re-walked afterwards (GET /audit_logs/integrity?verify=true). */
  chain: { valid: boolean; checked: number; anchorSeq: number | null };
}

export interface PurgeOptions {
  databaseUrl: string;
  expiredOrg: string;
  ingestOrg: string;
  /** Single-event requests per second, open loop, on the ingest organization. */
  rate: number;
  /** Measured seconds of the unloaded window. */
  seconds: number;
  warmupSeconds: number;
}

interface RetentionRunView {
  purged_total: number;
  organizations: { organization_id: string; purged: number }[];
}

interface IntegrityView {
  anchor: { seq: number } | null;
  verification?: { valid: boolean; checked: number };
}

/**
 * Retention purge under live ingest: single-event POSTs on another organization at a fixed rate (open
 * loop, so a slow answer does not slow the sender down, as with many independent clients), first alone
 * (the baseline), then while POST /admin/retention/run deletes the expired organization's events.
 */
export async function measurePurge(server: VerityServer, options: PurgeOptions): Promise<PurgeRun> {
  const generator = new EventGenerator({ seed: 31 });
  const loopOptions = {
    url: server.url,
    headers: { authorization: `Bearer ${BENCH_KEY}` },
    rate: options.rate,
    path: '/audit_logs/events',
    body: () => JSON.stringify({ organization_id: options.ingestOrg, event: generator.next() }),
  };
  log(`purge: single-event ingest at ${options.rate}/s (open loop) on ${options.ingestOrg}: ${options.warmupSeconds} s warm-up, ${options.seconds} s unloaded`);
  const warmup = await startOpenLoop({ ...loopOptions, seconds: options.warmupSeconds }).done;
  const unloaded = await ingestWindow(server, () => startOpenLoop({ ...loopOptions, seconds: options.seconds }).done);
  log(`  unloaded: p50 ${unloaded.latency.p50.toFixed(2)} ms, p99 ${unloaded.latency.p99.toFixed(2)} ms, ${unloaded.loop.failed} failed`);

  log('purge: POST /admin/retention/run with the same ingest running');
  let purged = 0;
  let seconds = 0;
  const during = await ingestWindow(server, async () => {
    // Generous bound: ten minutes is 1,700 events/s for a million.
    const loop = startOpenLoop({ ...loopOptions, seconds: 600 });
    try {
      const t0 = performance.now();
      const response = await fetch(`${server.url}/admin/retention/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BENCH_KEY}` },
        signal: AbortSignal.timeout(600_000),
      });
      const text = await response.text();
      seconds = (performance.now() - t0) / 1000;
      if (!response.ok) throw new Error(`POST /admin/retention/run answered ${response.status}: ${text.slice(0, 300)}`);
      const view = JSON.parse(text) as RetentionRunView;
      purged = view.organizations.find((org) => org.organization_id === options.expiredOrg)?.purged ?? 0;
      if (view.purged_total !== purged) log(`  note: the run also purged ${view.purged_total - purged} events of other organizations`);
    } finally {
      loop.stop();
    }
    return loop.done;
  });
  log(`  purged ${purged.toLocaleString('en-US')} events in ${seconds.toFixed(2)} s; ingest meanwhile: p50 ${during.latency.p50.toFixed(2)} ms, p99 ${during.latency.p99.toFixed(2)} ms`);

  const counts = await withClient(options.databaseUrl, async (client) => {
    const count = async (org: string): Promise<number> =>
      Number((await client.query<{ n: string }>('select count(*) as n from events where organization_id = $1', [org])).rows[0]?.n);
    return { left: await count(options.expiredOrg), stored: await count(options.ingestOrg) };
  });
  const integrity = await server.api<IntegrityView>('GET', `/audit_logs/integrity?organization_id=${encodeURIComponent(options.expiredOrg)}&verify=true`);
  return {
    purged,
    seconds,
    unloaded,
    during,
    left: counts.left,
    ingestStored: counts.stored,
    ingestAcked: warmup.acked + unloaded.loop.acked + during.loop.acked,
    chain: { valid: integrity.verification?.valid ?? false, checked: integrity.verification?.checked ?? -1, anchorSeq: integrity.anchor?.seq ?? null },
  };
}

async function ingestWindow(server: VerityServer, run: () => Promise<OpenLoopResult>): Promise<IngestWindow> {
  const cpu = cpuProbe({ server: server.pid });
  const loop = await run();
  return { loop, latency: summarize(loop.latencies), cpu: cpu() };
}
