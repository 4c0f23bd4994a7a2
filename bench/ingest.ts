import { singleEventBodies } from './http-ceiling.js';
import { EventGenerator } from './lib/events.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { log } from './lib/report.js';
import { settings } from './lib/settings.js';
import { BENCH_KEY, commitStats, describeCommits, type CommitStats, type VerityServer } from './server.js';

const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };

/** POST /audit_logs/events, one varied event per request, many connections: durable single-event ingest. */
export async function measureSingleEvent(server: VerityServer, organizationId: string, seed: number): Promise<IngestResult> {
  log(`single-event ingest: POST /audit_logs/events, ${settings.connections} connections, ${settings.seconds} s (+${settings.warmupSeconds} s warm-up)`);
  let before: Promise<CommitStats> | undefined;
  const load = await runLoad({
    url: server.url,
    connections: settings.connections,
    seconds: settings.seconds,
    warmupSeconds: settings.warmupSeconds,
    method: 'POST',
    headers: HEADERS,
    next: singleEventBodies(organizationId, seed),
    cpuPids: { server: server.pid },
    onMeasureStart: () => {
      before = commitStats(server);
    },
  });
  const commits = before === undefined ? 'no /metrics snapshot' : describeCommits(await before, await commitStats(server), load.seconds);
  log(`  group commit: ${commits}`);
  return { load, commits };
}

export interface IngestResult {
  load: LoadResult;
  /** Group-commit behaviour over the measured window, from the server's /metrics. */
  commits: string;
}

export interface BatchResult extends IngestResult {
  /** Events per second acknowledged (2xx requests × batch size). */
  eventsPerSecond: number;
}

/**
 * POST /audit_logs/events/batch with `batchSize` events per request from a few clients. Bodies are built
 * ahead (a pool of distinct batches, reused round-robin) so the client's own JSON work stays out of the way.
 */
export async function measureBatch(server: VerityServer, organizationId: string): Promise<BatchResult> {
  const pool: Buffer[] = [];
  const generator = new EventGenerator({ seed: 3 });
  const poolSize = Math.max(4, settings.batchConnections * 4);
  for (let i = 0; i < poolSize; i++) {
    const events = Array.from({ length: settings.batchSize }, () => generator.next());
    pool.push(Buffer.from(JSON.stringify({ organization_id: organizationId, events })));
  }
  log(
    `batch ingest: POST /audit_logs/events/batch, ${settings.batchSize} events/request (${(pool[0]?.length ?? 0) >> 10} KiB), ` +
      `${settings.batchConnections} connections, ${settings.seconds} s (+${settings.warmupSeconds} s warm-up)`,
  );
  let n = 0;
  let before: Promise<CommitStats> | undefined;
  const load = await runLoad({
    url: server.url,
    connections: settings.batchConnections,
    seconds: settings.seconds,
    warmupSeconds: settings.warmupSeconds,
    method: 'POST',
    headers: HEADERS,
    next: () => ({ path: '/audit_logs/events/batch', body: pool[n++ % pool.length] }),
    cpuPids: { server: server.pid },
    onMeasureStart: () => {
      before = commitStats(server);
    },
  });
  const commits = before === undefined ? 'no /metrics snapshot' : describeCommits(await before, await commitStats(server), load.seconds);
  log(`  group commit: ${commits}`);
  return { load, commits, eventsPerSecond: load.rate * settings.batchSize };
}

/**
 * Waits until the requests autocannon abandoned at the end of a run are committed: the appender is FIFO,
 * so once one more event is acknowledged, everything queued before it is too.
 */
export async function drain(server: VerityServer, organizationId: string): Promise<void> {
  await server.api('POST', '/audit_logs/events', { organization_id: organizationId, event: new EventGenerator({ seed: 98 }).next() });
}
