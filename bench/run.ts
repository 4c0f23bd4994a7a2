import os from 'node:os';
import { CORE_STEPS, runCore } from './core.js';
import { LIFECYCLE_STEPS, runLifecycle } from './lifecycle.js';
import { STREAMS_STEPS, runStreams } from './streams.js';
import { ADMIN_URL, dropScratchDatabases, postgresAvailable } from './lib/pg.js';
import { log, Report } from './lib/report.js';
import { settings } from './lib/settings.js';
import { runningServers, serverMode } from './server.js';

/**
 * `npm run bench [suite]` — reproducible benchmarks (see bench/README.md). Exit status: 0 when every
 * target is met, 1 when one is missed, 2 when the bench could not run.
 */
interface Suite {
  run: (report: Report) => Promise<string[]>;
  /** The step names BENCH_ONLY may pick from. */
  steps: readonly string[];
}

const SUITES: Record<string, Suite> = {
  core: { run: runCore, steps: CORE_STEPS },
  lifecycle: { run: runLifecycle, steps: LIFECYCLE_STEPS },
  streams: { run: runStreams, steps: STREAMS_STEPS },
};

const suite = process.argv[2] ?? 'core';
const TIMEOUT_MINUTES = Number(process.env.BENCH_TIMEOUT_MINUTES ?? 20);

async function cleanup(): Promise<void> {
  await Promise.allSettled([...runningServers].map((server) => server.stop()));
  await dropScratchDatabases();
}

async function main(): Promise<number> {
  if (!(suite in SUITES)) {
    process.stderr.write(`unknown suite "${suite}"; suites: ${Object.keys(SUITES).join(', ')}\n`);
    return 2;
  }
  const { run, steps } = SUITES[suite] as Suite;
  if (settings.only.some((step) => !steps.includes(step))) {
    process.stderr.write(`BENCH_ONLY takes a comma-separated subset of the ${suite} suite's steps: ${steps.join(', ')}\n`);
    return 2;
  }
  const pgVersion = await postgresAvailable();
  if (pgVersion === undefined) {
    process.stderr.write(
      `PostgreSQL does not answer at ${ADMIN_URL.replace(/\/\/[^@]*@/, '//…@')}.\n` +
        'Start it (e.g. pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set BENCH_PG_URL.\n',
    );
    return 2;
  }
  const busy = (os.loadavg()[0] ?? 0) > 0.5 * os.cpus().length;
  const header = [
    `Verity bench, suite "${suite}" — ${new Date().toISOString()}`,
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; PostgreSQL ${pgVersion}`,
    `server: ${serverMode()}; load: autocannon in the bench process, ${settings.connections} connections, ${settings.seconds} s (+${settings.warmupSeconds} s warm-up)`,
    `load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}${busy ? '  (the machine is busy: expect noisy numbers)' : ''}`,
  ];
  log(header.join('\n'));
  const report = new Report();
  const extra = await run(report);
  process.stdout.write(`\n${header.join('\n')}\n\n${report.render()}\n`);
  if (extra.length > 0) process.stdout.write(`\n${extra.join('\n')}\n`);
  const failed = report.failed;
  process.stdout.write(failed.length === 0 ? '\nAll targets met.\n' : `\n${failed.length} target(s) missed: ${failed.map((c) => c.label).join('; ')}\n`);
  return failed.length === 0 ? 0 : 1;
}

const watchdog = setTimeout(() => {
  log(`bench exceeded ${TIMEOUT_MINUTES} minutes; stopping`);
  void cleanup().finally(() => process.exit(2));
}, TIMEOUT_MINUTES * 60_000);
watchdog.unref();

process.once('SIGINT', () => {
  log('interrupted; stopping servers and dropping scratch databases');
  void cleanup().finally(() => process.exit(130));
});

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanup();
    process.exit(2);
  });
