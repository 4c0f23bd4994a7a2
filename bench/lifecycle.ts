import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseSigningKey, signingKeyFrom, type SigningKey } from '../src/integrity/signing-key.js';
import { EXPORT_POLL_MS, measureExport, type ExportRun } from './exports.js';
import { storeCheckpoints, timeVerifyWalks, VERIFY_TARGET_PER_SECOND } from './integrity.js';
import { bulkLoadEvents } from './lib/bulk-load.js';
import { EventGenerator } from './lib/events.js';
import { createScratchDatabase, dropScratchDatabase, withClient } from './lib/pg.js';
import { cpuProbe } from './lib/proc.js';
import { log, type Report } from './lib/report.js';
import { settings } from './lib/settings.js';
import { fmtMiB, fmtMs, fmtRate, table } from './lib/stats.js';
import { measurePurge } from './purge.js';
import { createOrganization, startVerity, withServer, type VerityServer } from './server.js';

export const LIFECYCLE_STEPS = ['export', 'purge', 'verify'] as const;
type Step = (typeof LIFECYCLE_STEPS)[number];

/** Targets of the lifecycle issue. */
const EXPORT_ROWS_PER_SECOND = 100_000;
const EXPORT_RSS_GROWTH_MB = 150;
const PURGE_EVENTS_PER_SECOND = 100_000;
const PURGE_INGEST_P99_FACTOR = 2;

const DAY_MS = 86_400_000;
/** The secondary index the export and verify reads use (the GIN indexes take minutes to build and serve neither). */
const EXPORT_INDEXES = ['events_org_time_idx'];
const CHECKPOINT_EVERY = 1_000;
/** The loaded events are 40 to 400 days old; the purge step gives their organization 30 days of retention. */
const OLDEST_DAYS = 400;
const NEWEST_DAYS = 40;
const RETENTION_DAYS = 30;

function knob(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

const lifecycle = {
  /** Events loaded into the organization that is exported, verified, then purged. */
  events: knob('BENCH_LIFECYCLE_EVENTS', 1_000_000, 1_000, 20_000_000),
  /** Single-event requests per second on the other organization, alone and during the purge. */
  ingestRate: knob('BENCH_PURGE_INGEST_RATE', 200, 10, 20_000),
  /** verify=true runs through the API, then in-process walks of the same chain. */
  verifyRuns: knob('BENCH_VERIFY_RUNS', 2, 1, 10),
};

/**
 * The lifecycle suite: CSV and NDJSON export of a large organization through the export job, the
 * retention purge of a large expired organization while ingest goes on, and verify=true over a large chain.
 */
export async function runLifecycle(report: Report): Promise<string[]> {
  const want = (step: Step): boolean => settings.only.length === 0 || settings.only.includes(step);
  const extra: string[] = [];
  const db = await createScratchDatabase('lifecycle');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'verity-bench-lifecycle-'));
  // The server signs with this key, and so do the checkpoints loaded beside the events: verify=true checks them all.
  const seed = randomBytes(32).toString('hex');
  const key = signingKeyOf(seed);
  try {
    await withServer(await startVerity({ kind: 'postgres', databaseUrl: db.url }, { VERITY_DATA_DIR: dataDir, VERITY_SIGNING_KEY: seed }), async (server) => {
      const org = await createOrganization(server, 'bench lifecycle');
      // Ten years while it is exported and verified; the purge step shortens it to 30 days. The server's
      // start-up purge may still be on its way (it would wait on the load's locks with the default period in
      // hand): a legal hold keeps it off the events until they are loaded.
      await setRetention(server, org, 3650);
      await legalHold(server, org, true);
      const ingestOrg = await createOrganization(server, 'bench lifecycle ingest');
      const count = lifecycle.events;
      const now = Date.now();
      log(`lifecycle: loading ${fmtRate(count)} events, 40–400 days old, into ${org}, a signed checkpoint every ${CHECKPOINT_EVERY}`);
      const checkpoints: { seq: number; hash: string }[] = [];
      const generator = new EventGenerator({ seed: 20, timeOf: (i) => new Date(now - OLDEST_DAYS * DAY_MS + (i / count) * (OLDEST_DAYS - NEWEST_DAYS) * DAY_MS) });
      const loaded = await bulkLoadEvents(db.url, {
        organizationId: org,
        count,
        eventAt: () => generator.next(),
        receivedAt: (event) => new Date(Date.parse(event.occurred_at) + 1_000),
        onAppended: (seq, hash) => {
          if (seq % CHECKPOINT_EVERY === 0) checkpoints.push({ seq, hash });
        },
        // Ingest beside the purge maintains every index; exports and the walk read by the primary key and
        // count over the time index, and the GIN indexes take minutes to build.
        rebuildIndexes: want('purge') ? 'all' : EXPORT_INDEXES,
      });
      await storeCheckpoints(db.url, org, key, checkpoints);
      await legalHold(server, org, false);
      log(`  loaded in ${loaded.seconds.toFixed(1)} s (incl. index builds, vacuum analyze, checkpoint), ${checkpoints.length} checkpoints`);
      report.note(
        `data: ${fmtRate(count)} events in one organization, loaded with COPY in ${loaded.seconds.toFixed(1)} s; ${checkpoints.length} signed checkpoints; ` +
          `secondary indexes: ${want('purge') ? 'all' : `${EXPORT_INDEXES.join(', ')} only (what the export and verify reads use)`}`,
      );

      if (want('export')) {
        extra.push(...(await exportStep(report, server, org, count, { start: new Date(now - (OLDEST_DAYS + 1) * DAY_MS), end: new Date(now) })));
      }
      if (want('verify')) extra.push(...(await verifyStep(report, server, { url: db.url, name: db.name }, org, count, key)));
      if (want('purge')) extra.push(...(await purgeStep(report, server, db.url, { expiredOrg: org, ingestOrg, count })));
    });
  } finally {
    await dropScratchDatabase(db.name);
    rmSync(dataDir, { recursive: true, force: true });
  }
  return extra;
}

function legalHold(server: VerityServer, org: string, enabled: boolean): Promise<unknown> {
  return server.api('PUT', `/organizations/${encodeURIComponent(org)}/legal_hold`, { enabled, reason: enabled ? 'bench: loading' : null });
}

function setRetention(server: VerityServer, org: string, days: number): Promise<unknown> {
  return server.api('PUT', `/organizations/${encodeURIComponent(org)}/audit_logs_retention`, { retention_period_in_days: days });
}

function signingKeyOf(seedHex: string): SigningKey {
  const privateKey = parseSigningKey(seedHex);
  if (privateKey === undefined) throw new Error('could not make a signing key from the seed');
  return signingKeyFrom(privateKey);
}

async function exportStep(report: Report, server: VerityServer, org: string, count: number, range: { start: Date; end: Date }): Promise<string[]> {
  const runs: ExportRun[] = [];
  for (const format of ['csv', 'ndjson'] as const) {
    const run = await measureExport(server, org, format, range);
    runs.push(run);
    const rate = count / run.seconds;
    report.add({
      name: `export ${format.toUpperCase()}, ${fmtRate(count)} rows (POST → ready)`,
      backend: 'postgres',
      rate,
      unit: 'rows/s',
      errors: '0',
      memory: { rssKiB: run.rssBeforeKiB, peakKiB: run.rssPeakKiB },
      cpu: run.cpu,
    });
  }
  const growthMiB = (run: ExportRun): number => (run.rssPeakKiB - run.rssBeforeKiB) / 1024;
  for (const run of runs) {
    const rate = count / run.seconds;
    if (run.format === 'csv') {
      report.check(`export CSV rows/s (${fmtRate(count)} events)`, `${fmtRate(rate)} rows/s`, `≥ ${fmtRate(EXPORT_ROWS_PER_SECOND)}`, rate >= EXPORT_ROWS_PER_SECOND);
      report.check('export CSV server RSS growth', `${growthMiB(run).toFixed(0)} MiB`, `< ${EXPORT_RSS_GROWTH_MB} MB`, growthMiB(run) < (EXPORT_RSS_GROWTH_MB * 1e6) / 2 ** 20);
      const complete = run.file.lines === count + 1 && run.file.endsWithNewline && run.rowsWritten === count;
      report.check('export CSV file: header + every event', `${fmtRate(run.file.lines)} lines`, `${fmtRate(count + 1)}`, complete);
    } else {
      const trailer = run.file.lines - run.file.prefixed;
      const complete = run.file.prefixed === count && trailer > 0 && run.file.endsWithNewline && run.rowsWritten === count;
      report.check('export NDJSON file: every event + trailer', `${fmtRate(run.file.prefixed)} events + ${trailer} trailer lines`, `${fmtRate(count)} + ≥ 1`, complete);
    }
  }
  return [
    `Exports of ${fmtRate(count)} events (one organization, whole range, local file storage; the job starts at once — enqueue wakes the job runner, no poll interval applies — and the bench polls GET every ${EXPORT_POLL_MS} ms, so "POST → ready" is up to ${EXPORT_POLL_MS} ms late; "job" is the export's own created_at → updated_at):`,
    table(
      ['format', 'POST → ready', 'job', 'rows/s', 'file', 'server RSS before', 'peak during', 'growth', 'download', 'lines'],
      runs.map((run) => [
        run.format,
        `${run.seconds.toFixed(2)} s`,
        `${run.serverSeconds.toFixed(2)} s`,
        fmtRate(count / run.seconds),
        fmtMiB(run.file.bytes / 1024),
        fmtMiB(run.rssBeforeKiB),
        fmtMiB(run.rssPeakKiB),
        `${growthMiB(run).toFixed(0)} MiB`,
        `${run.downloadSeconds.toFixed(1)} s`,
        fmtRate(run.file.lines),
      ]),
    ),
    '',
  ];
}

interface IntegrityView {
  verification?: { valid: boolean; checked: number; checkpoints_checked: number; duration_ms: number };
}

/** verify=true through the API (what a user waits for), then the same walk in this process (no HTTP). */
async function verifyStep(report: Report, server: VerityServer, database: { url: string; name: string }, org: string, count: number, key: SigningKey): Promise<string[]> {
  log(`verify: GET /audit_logs/integrity?verify=true, ${lifecycle.verifyRuns} runs`);
  const runs: { seconds: number; serverMs: number; checkpoints: number }[] = [];
  let best: { rate: number; cpu: ReturnType<ReturnType<typeof cpuProbe>> } | undefined;
  for (let i = 0; i < lifecycle.verifyRuns; i++) {
    const cpu = cpuProbe({ server: server.pid });
    const t0 = performance.now();
    const view = await server.api<IntegrityView>('GET', `/audit_logs/integrity?organization_id=${encodeURIComponent(org)}&verify=true`);
    const seconds = (performance.now() - t0) / 1000;
    const usage = cpu();
    const verification = view.verification;
    if (verification === undefined || !verification.valid || verification.checked !== count) {
      throw new Error(`verify=true did not pass: ${JSON.stringify(verification)}`);
    }
    runs.push({ seconds, serverMs: verification.duration_ms, checkpoints: verification.checkpoints_checked });
    log(`  run ${i + 1}: ${seconds.toFixed(2)} s = ${fmtRate(count / seconds)} events/s (server walk ${verification.duration_ms} ms, ${verification.checkpoints_checked} checkpoints)`);
    if (best === undefined || count / seconds > best.rate) best = { rate: count / seconds, cpu: usage };
  }
  if (best !== undefined) {
    report.add({ name: `verify=true via API, ${fmtRate(count)} events (best of ${runs.length})`, backend: 'postgres', rate: best.rate, unit: 'events/s', errors: '0', memory: server.memory(), cpu: best.cpu });
    report.check(`verify=true events/s (API, ${fmtRate(count)} events)`, `${fmtRate(best.rate)} events/s`, `≥ ${fmtRate(VERIFY_TARGET_PER_SECOND)}`, best.rate >= VERIFY_TARGET_PER_SECOND);
  }

  log('verify: the same walk in the bench process (verifyStoredChain, no HTTP)');
  const checkpoints = await withClient(database.url, async (client) =>
    Number((await client.query<{ n: string }>('select count(*) as n from checkpoints where organization_id = $1', [org])).rows[0]?.n),
  );
  const walks = await timeVerifyWalks(database, org, new Map([[key.keyId, key.publicKey]]), { events: count, checkpoints }, lifecycle.verifyRuns);
  const bestWalk = Math.max(...walks.runs.map((run) => run.perSecond));
  report.add({ name: `verify walk in-process, ${fmtRate(count)} events (best of ${walks.runs.length})`, backend: 'postgres', rate: bestWalk, unit: 'events/s', errors: '0' });
  report.check(`verify walk events/s (in-process, ${fmtRate(count)} events)`, `${fmtRate(bestWalk)} events/s`, `≥ ${fmtRate(VERIFY_TARGET_PER_SECOND)}`, bestWalk >= VERIFY_TARGET_PER_SECOND);
  return [
    `verify=true over ${fmtRate(count)} events and ${checkpoints} checkpoints: API runs ${runs.map((run) => `${run.seconds.toFixed(2)} s (walk ${run.serverMs} ms)`).join(', ')}; ` +
      `in-process walks ${walks.runs.map((run) => `${fmtRate(run.perSecond)}/s (CPU per event: node ${run.nodeMicros.toFixed(2)} µs, postgres ${run.postgresMicros.toFixed(2)} µs)`).join(', ')}`,
    '',
  ];
}

/** The loaded organization's retention cut to 30 days, so all its events expire, purged while another ingests. */
async function purgeStep(report: Report, server: VerityServer, databaseUrl: string, orgs: { expiredOrg: string; ingestOrg: string; count: number }): Promise<string[]> {
  const { expiredOrg, ingestOrg, count } = orgs;
  await setRetention(server, expiredOrg, RETENTION_DAYS);
  const run = await measurePurge(server, {
    databaseUrl,
    expiredOrg,
    ingestOrg,
    rate: lifecycle.ingestRate,
    seconds: settings.seconds,
    warmupSeconds: settings.warmupSeconds,
  });
  const rate = run.purged / run.seconds;
  const ingestName = (label: string): string => `single-event POST at ${lifecycle.ingestRate}/s (open loop), ${label}`;
  const failures = (failed: number, skipped: number): string => (failed + skipped === 0 ? '0' : `${failed} failed, ${skipped} skipped`);
  report.add({ name: ingestName('unloaded'), backend: 'postgres', rate: run.unloaded.loop.acked / run.unloaded.loop.seconds, unit: 'events/s', ...latencyOf(run.unloaded.latency), errors: failures(run.unloaded.loop.failed, run.unloaded.loop.skipped), memory: undefined, cpu: run.unloaded.cpu });
  report.add({ name: ingestName('during purge'), backend: 'postgres', rate: run.during.loop.acked / run.during.loop.seconds, unit: 'events/s', ...latencyOf(run.during.latency), errors: failures(run.during.loop.failed, run.during.loop.skipped), memory: undefined, cpu: run.during.cpu });
  report.add({ name: `retention purge, ${fmtRate(run.purged)} expired events`, backend: 'postgres', rate, unit: 'events/s', errors: '0', memory: server.memory(), cpu: run.during.cpu });

  const ratio = run.during.latency.p99 / run.unloaded.latency.p99;
  report.check(`purge events/s (${fmtRate(count)} expired events)`, `${fmtRate(rate)} events/s`, `≥ ${fmtRate(PURGE_EVENTS_PER_SECOND)}`, rate >= PURGE_EVENTS_PER_SECOND);
  report.check(
    'ingest p99 during purge / unloaded',
    `${ratio.toFixed(2)}× (${fmtMs(run.during.latency.p99)} / ${fmtMs(run.unloaded.latency.p99)})`,
    `≤ ${PURGE_INGEST_P99_FACTOR.toFixed(2)}×`,
    ratio <= PURGE_INGEST_P99_FACTOR,
  );
  const purgedAll = run.purged === count && run.left === 0 && run.chain.valid && run.chain.anchorSeq === count;
  report.check('purge: every expired event gone, chain still verifies', `${fmtRate(run.purged)} purged, ${fmtRate(run.left)} left, chain ${run.chain.valid ? 'valid' : 'INVALID'} (anchor ${run.chain.anchorSeq ?? 'none'})`, `${fmtRate(count)} purged, 0 left, valid`, purgedAll);
  const failed = run.unloaded.loop.failed + run.during.loop.failed + run.unloaded.loop.skipped + run.during.loop.skipped;
  report.check('purge: ingest acked and stored', `${fmtRate(run.ingestStored)} stored ≥ ${fmtRate(run.ingestAcked)} acked, ${failed} failed`, 'stored ≥ acked, none failed', run.ingestStored >= run.ingestAcked && failed === 0);
  return [
    `Retention purge of ${fmtRate(count)} events: ${run.seconds.toFixed(2)} s = ${fmtRate(rate)} events/s; ` +
      `ingest on another organization at ${lifecycle.ingestRate}/s: unloaded p50/p95/p99 ${fmtMs(run.unloaded.latency.p50)} / ${fmtMs(run.unloaded.latency.p95)} / ${fmtMs(run.unloaded.latency.p99)} ` +
      `(${fmtRate(run.unloaded.loop.acked)} requests), during the purge ${fmtMs(run.during.latency.p50)} / ${fmtMs(run.during.latency.p95)} / ${fmtMs(run.during.latency.p99)} (${fmtRate(run.during.loop.acked)} requests, max ${fmtMs(run.during.latency.max)})`,
    '',
  ];
}

function latencyOf(latency: { p50: number; p95: number; p99: number }): { p50: number; p95: number; p99: number } {
  return { p50: latency.p50, p95: latency.p95, p99: latency.p99 };
}
