import { setTimeout as sleep } from 'node:timers/promises';
import { bulkLoadEvents } from './lib/bulk-load.js';
import { EventGenerator } from './lib/events.js';
import { startOpenLoop, type OpenLoop, type OpenLoopResult } from './lib/open-loop.js';
import { createScratchDatabase, dropScratchDatabase } from './lib/pg.js';
import { cpuProbe, memoryOf, type CpuUsage } from './lib/proc.js';
import { log, type Report } from './lib/report.js';
import { settings } from './lib/settings.js';
import { fmtMs, fmtRate, summarize } from './lib/stats.js';
import { startHecReceiver, type HecReceiver } from './receivers/hec-process.js';
import { BENCH_KEY, createOrganization, startVerity, withServer, type VerityServer } from './server.js';

export const STREAMS_STEPS = ['latency', 'outage', 'one-stream', 'ten-streams'] as const;
type Step = (typeof STREAMS_STEPS)[number];

/** Targets of the log streams issue. */
const LATENCY_P50_MS = 500;
const LATENCY_P99_MS = 2_000;
const ONE_STREAM_PER_SECOND = 20_000;
const TEN_STREAMS_PER_SECOND = 50_000;
const TEN = 10;

/** Seconds of the latency run's start left out of the percentiles (JIT, first connections, first batch). */
const LATENCY_WARMUP_SECONDS = 2;

interface Context {
  report: Report;
  server: VerityServer;
  receiver: HecReceiver;
  databaseUrl: string;
  extra: string[];
}

/**
 * The streams suite: Verity (PostgreSQL, its own process) delivering to a Splunk HEC receiver in another
 * process on loopback. End-to-end latency at a steady live rate, recovery after a receiver outage, and
 * delivery throughput of one stream and of ten streams working off a backlog.
 */
export async function runStreams(report: Report): Promise<string[]> {
  const want = (step: Step): boolean => settings.only.length === 0 || settings.only.includes(step);
  const extra: string[] = [];
  const receiver = await startHecReceiver();
  const db = await createScratchDatabase('streams');
  try {
    const env = { VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true' };
    await withServer(await startVerity({ kind: 'postgres', databaseUrl: db.url }, env), async (server) => {
      const ctx: Context = { report, server, receiver, databaseUrl: db.url, extra };
      // Live-load runs first, while events has all its indexes (ingest costs what it costs in production);
      // the backlog loads leave the search indexes out.
      if (want('latency')) await measureLatency(ctx);
      if (want('outage')) await measureOutage(ctx);
      if (want('one-stream')) await measureBacklog(ctx, 1, settings.oneStreamEvents, ONE_STREAM_PER_SECOND);
      if (want('ten-streams')) await measureBacklog(ctx, TEN, settings.tenStreamEvents, TEN_STREAMS_PER_SECOND);
    });
  } finally {
    await receiver.stop();
    await dropScratchDatabase(db.name);
  }
  return extra;
}

async function createSplunkStream(ctx: Context, organizationId: string, startFrom: 'now' | 'beginning'): Promise<string> {
  const stream = await ctx.server.api<{ id: string }>('POST', '/log_streams', {
    organization_id: organizationId,
    type: 'Splunk',
    name: 'bench HEC',
    config: { hec_url: ctx.receiver.hecUrl, hec_token: ctx.receiver.token },
    start_from: startFrom,
  });
  return stream.id;
}

/** Single-event POSTs at `rate`/s, each event marked with metadata.bench_n = its number. */
function liveLoad(server: VerityServer, organizationId: string, seconds: number, seed: number): OpenLoop {
  const generator = new EventGenerator({ seed });
  return startOpenLoop({
    url: server.url,
    path: '/audit_logs/events',
    headers: { authorization: `Bearer ${BENCH_KEY}` },
    rate: settings.streamRate,
    seconds,
    body: (n) => {
      const event = generator.next();
      return JSON.stringify({ organization_id: organizationId, event: { ...event, metadata: { ...event.metadata, bench_n: String(n) } } });
    },
  });
}

/** The report's CPU columns are server/postgres/bench/other: the receiver is load-side, so it joins "bench". */
function receiverCountedAsBench(usage: CpuUsage): CpuUsage {
  const { server = 0, postgres = 0, bench = 0, receiver = 0 } = usage.processes;
  return { processes: { server, postgres, bench: bench + receiver }, machine: usage.machine };
}

/**
 * CPU time per delivered event of each side. When the run saturates the machine the rate follows from
 * these sums, and unlike the rate they stay comparable between machines of different speed (or a machine
 * whose cores are slowed by its neighbours): a faster or slower figure can be told apart from a code change.
 */
function cpuPerEvent(usage: CpuUsage, seconds: number, events: number): string {
  const micros = (percent: number | undefined): string => (((percent ?? 0) / 100) * seconds * 1e6 / Math.max(1, events)).toFixed(1);
  const { server, postgres, receiver } = usage.processes;
  return `CPU per event: server ${micros(server)} µs, PostgreSQL ${micros(postgres)} µs, receiver ${micros(receiver)} µs`;
}

/** Waits until the receiver holds `count` distinct events of the organization; false on timeout. */
async function waitForDelivery(receiver: HecReceiver, organizationId: string, count: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await receiver.unique(organizationId)) >= count) return true;
    await sleep(100);
  }
  return false;
}

function ingestSummary(result: OpenLoopResult): string {
  const ack = summarize(result.latencies);
  return `${fmtRate(result.acked)} acked of ${fmtRate(result.sent)} sent (${result.failed} failed, ${result.skipped} skipped) in ${result.seconds.toFixed(1)} s; ingest ack p50 ${fmtMs(ack.p50)} p99 ${fmtMs(ack.p99)}`;
}

async function measureLatency(ctx: Context): Promise<void> {
  const { server, receiver, report } = ctx;
  const org = await createOrganization(server, 'bench stream latency');
  await createSplunkStream(ctx, org, 'now');
  await receiver.record();
  log(`streams latency: ${settings.streamRate} events/s of single-event POSTs for ${settings.streamSeconds} s, one Splunk stream`);
  const cpu = cpuProbe({ server: server.pid, receiver: receiver.pid, bench: process.pid });
  const load = liveLoad(server, org, settings.streamSeconds, 21);
  const result = await load.done;
  const arrived = await waitForDelivery(receiver, org, result.acked, 60_000);
  const usage = cpu();
  const firstArrival = new Map<number, number>();
  for (const [key, at] of await receiver.arrivals(org)) {
    const n = Number(key);
    if (!firstArrival.has(n)) firstArrival.set(n, at);
  }
  const warmup = settings.streamRate * LATENCY_WARMUP_SECONDS;
  const latencies: number[] = [];
  let missing = 0;
  for (let n = warmup; n < load.ackAt.length; n++) {
    const ackedAt = load.ackAt[n] as number;
    if (Number.isNaN(ackedAt)) continue;
    const at = firstArrival.get(n);
    if (at === undefined) missing += 1;
    // An event can reach the receiver before its own acknowledgement reaches the client: that is 0 ms.
    else latencies.push(Math.max(0, at - ackedAt));
  }
  const latency = summarize(latencies);
  report.add({
    name: `end-to-end latency, ingest ack → HEC receipt (${fmtRate(settings.streamRate)} ev/s)`,
    backend: 'postgres',
    rate: latencies.length / (result.seconds - LATENCY_WARMUP_SECONDS),
    unit: 'events/s delivered',
    p50: latency.p50,
    p95: latency.p95,
    p99: latency.p99,
    errors: String(result.failed + missing),
    memory: server.memory(),
    cpu: receiverCountedAsBench(usage),
  });
  report.note(`streams latency: ${ingestSummary(result)}; max delivery latency ${fmtMs(latency.max)}; CPU% "bench" includes the receiver process (${Math.round(usage.processes.receiver ?? 0)}%)`);
  report.check('stream latency: every acked event arrived', `${fmtRate(result.acked - missing)} of ${fmtRate(result.acked)}${arrived ? '' : ' (timed out waiting)'}`, 'all, no ingest errors', missing === 0 && arrived && result.failed === 0);
  report.check('stream latency p50', fmtMs(latency.p50), `< ${LATENCY_P50_MS} ms`, latency.p50 < LATENCY_P50_MS);
  report.check('stream latency p99', fmtMs(latency.p99), `< ${fmtRate(LATENCY_P99_MS)} ms`, latency.p99 < LATENCY_P99_MS);
}

/**
 * Live load throughout; the receiver's port closes for `outageSeconds` and reopens. Reports how long after
 * it reopens the backlog (every event acknowledged while it was down) has arrived, and when the lag is back
 * under one second of events.
 */
async function measureOutage(ctx: Context): Promise<void> {
  const { server, receiver, report } = ctx;
  const org = await createOrganization(server, 'bench stream outage');
  await createSplunkStream(ctx, org, 'now');
  const before = 10;
  const recoveryLimit = 180;
  log(`streams outage: ${settings.streamRate} events/s; receiver down after ${before} s for ${settings.outageSeconds} s; up to ${recoveryLimit} s to recover`);
  const load = liveLoad(server, org, before + settings.outageSeconds + recoveryLimit, 31);
  await sleep(before * 1000);
  await receiver.down();
  const downAt = performance.now();
  let peakLag = 0;
  while (performance.now() - downAt < settings.outageSeconds * 1000) {
    peakLag = Math.max(peakLag, load.acked() - (await receiver.unique(org)));
    await sleep(500);
  }
  await receiver.up();
  const upAt = performance.now();
  const backlog = load.acked();
  let backlogDone: number | undefined;
  let lagNormal: number | undefined;
  while (performance.now() - upAt < recoveryLimit * 1000) {
    const delivered = await receiver.unique(org);
    const lag = load.acked() - delivered;
    peakLag = Math.max(peakLag, lag);
    const elapsed = (performance.now() - upAt) / 1000;
    if (backlogDone === undefined && delivered >= backlog) backlogDone = elapsed;
    if (lagNormal === undefined && backlogDone !== undefined && lag <= settings.streamRate) lagNormal = elapsed;
    if (backlogDone !== undefined && lagNormal !== undefined) break;
    await sleep(100);
  }
  load.stop();
  const result = await load.done;
  const complete = await waitForDelivery(receiver, org, result.acked, 60_000);
  const stats = (await receiver.stats()).organizations[org];
  const duplicates = (stats?.received ?? 0) - (stats?.unique ?? 0);
  const recovery = backlogDone === undefined ? `not within ${recoveryLimit} s` : `${backlogDone.toFixed(1)} s`;
  ctx.extra.push(
    `Stream lag recovery after a ${settings.outageSeconds} s receiver outage at ${fmtRate(settings.streamRate)} events/s: ` +
      `backlog of ${fmtRate(backlog)} events delivered ${recovery} after the receiver came back; lag under 1 s of events after ` +
      `${lagNormal === undefined ? '—' : `${lagNormal.toFixed(1)} s`}; peak lag ${fmtRate(peakLag)} events; ${fmtRate(duplicates)} duplicates; ` +
      `${ingestSummary(result)}. (Retries back off exponentially with jitter, so the first attempt after the outage waits for the next retry.)`,
  );
  report.check('outage: every acked event arrived', `${fmtRate(stats?.unique ?? 0)} of ${fmtRate(result.acked)}`, 'all, no ingest errors', complete && result.failed === 0);
}

/**
 * Appends `count` events to each organization's chain with the shared COPY loader. Only the primary key
 * (organization_id, seq) serves delivery, so the search indexes are not rebuilt (they would take longer
 * than the load); the live-load steps run before this.
 */
async function loadBacklog(databaseUrl: string, organizations: readonly string[], count: number): Promise<void> {
  for (const [index, organizationId] of organizations.entries()) {
    const generator = new EventGenerator({ seed: 100 + index });
    await bulkLoadEvents(databaseUrl, { organizationId, count, eventAt: () => generator.next(), rebuildIndexes: 'none' });
  }
}

/**
 * `streams` streams, each on its own organization holding `perStream` events, created with
 * start_from=beginning at the same moment; the clock runs from the creation until the receiver holds every
 * event of every organization.
 */
async function measureBacklog(ctx: Context, streams: number, perStream: number, target: number): Promise<void> {
  const { server, receiver, report } = ctx;
  const label = streams === 1 ? 'one stream' : `${streams} streams`;
  const orgs: string[] = [];
  for (let i = 0; i < streams; i++) orgs.push(await createOrganization(server, `bench ${label} ${i + 1}`));
  log(`streams ${label}: loading ${fmtRate(perStream)} events into each of ${streams} organization(s) (COPY)`);
  await loadBacklog(ctx.databaseUrl, orgs, perStream);
  const statsBefore = await receiver.stats();
  log(`streams ${label}: delivering the backlog to the HEC receiver`);
  const cpu = cpuProbe({ server: server.pid, receiver: receiver.pid, bench: process.pid });
  const started = performance.now();
  await Promise.all(orgs.map((org) => createSplunkStream(ctx, org, 'beginning')));
  let done = false;
  let peakRss = 0;
  const deadline = started + 300_000;
  while (!done && performance.now() < deadline) {
    const stats = await receiver.stats();
    done = orgs.every((org) => (stats.organizations[org]?.unique ?? 0) >= perStream);
    peakRss = Math.max(peakRss, memoryOf(server.pid)?.rssKiB ?? 0);
    if (!done) await sleep(50);
  }
  const seconds = (performance.now() - started) / 1000;
  const usage = cpu();
  const statsAfter = await receiver.stats();
  const received = orgs.reduce((sum, org) => sum + (statsAfter.organizations[org]?.received ?? 0), 0);
  const unique = orgs.reduce((sum, org) => sum + (statsAfter.organizations[org]?.unique ?? 0), 0);
  const requests = statsAfter.requests - statsBefore.requests;
  const rate = unique / seconds;
  report.add({
    name: `stream throughput, ${label} (backlog ${fmtRate(perStream)}${streams > 1 ? ' each' : ''}, Splunk HEC)`,
    backend: 'postgres',
    rate,
    unit: 'events/s',
    errors: done ? String(received - unique) + ' dup' : 'timed out',
    memory: { rssKiB: memoryOf(server.pid)?.rssKiB ?? 0, peakKiB: peakRss },
    cpu: receiverCountedAsBench(usage),
  });
  report.note(
    `streams ${label}: ${fmtRate(unique)} events in ${seconds.toFixed(1)} s over ${fmtRate(requests)} HEC requests (${fmtRate(unique / Math.max(1, requests))} events/request); ` +
      `receiver CPU ${Math.round(usage.processes.receiver ?? 0)}% (counted in "bench"); ${cpuPerEvent(usage, seconds, unique)}`,
  );
  report.check(`stream throughput, ${label}`, `${fmtRate(rate)} events/s`, `≥ ${fmtRate(target)} events/s`, done && rate >= target);
}
