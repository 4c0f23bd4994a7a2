import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, LOOPBACK, memoryOf, spawnNode, waitForHttp, type Child } from './lib/proc.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The admin key every bench server is started with (VERITY_BOOTSTRAP_API_KEY). */
export const BENCH_KEY = `sk_bench_${randomBytes(18).toString('base64url')}`;

export type Backend = { kind: 'postgres'; databaseUrl: string } | { kind: 'pglite'; dataDir: string };

export interface VerityServer {
  url: string;
  pid: number;
  memory(): { rssKiB: number; peakKiB: number } | undefined;
  /** Calls the API with the bench key; throws on a non-2xx answer. */
  api<T>(method: string, route: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * How the server runs: `tsx` (default; node with tsx's loader, straight from src/, so it always measures the
 * current source) or `dist` (node dist/src/cli/main.js; run `npm run build` first).
 */
function serverArgs(): string[] {
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles only the server.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  return [...nodeArgs, ...entryArgs()];
}

function entryArgs(): string[] {
  if (process.env.BENCH_SERVER === 'dist') {
    const main = path.join(ROOT, 'dist/src/cli/main.js');
    if (!existsSync(main)) throw new Error('BENCH_SERVER=dist but dist/src/cli/main.js is missing: run `npm run build`');
    return [main, 'serve'];
  }
  return ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve'];
}

export function serverMode(): string {
  return process.env.BENCH_SERVER === 'dist' ? 'node dist/src/cli/main.js serve' : 'node --import tsx src/cli/main.ts serve';
}

/** Starts `verity serve` in its own process; `extraEnv` adds or overrides settings (e.g. stream knobs). */
export async function startVerity(backend: Backend, extraEnv: Record<string, string> = {}): Promise<VerityServer> {
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: LOOPBACK,
    VERITY_BOOTSTRAP_API_KEY: BENCH_KEY,
    VERITY_RATE_LIMIT_PER_MINUTE: '0',
    VERITY_SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  if (backend.kind === 'postgres') env.DATABASE_URL = backend.databaseUrl;
  else env.VERITY_DATA_DIR = backend.dataDir;
  const child: Child = spawnNode(serverArgs(), env, ROOT);
  const url = `http://${LOOPBACK}:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, child, 120_000);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    url,
    pid: child.pid,
    memory: () => memoryOf(child.pid),
    api: async <T>(method: string, route: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { authorization: `Bearer ${BENCH_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 500)}`);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
    stop: () => child.stop(),
  };
}

/** Servers started by a suite, stopped on the way out even after an error or Ctrl-C. */
export const runningServers = new Set<VerityServer>();

/** Runs `fn` with a started server and stops the server afterwards, whatever happens. */
export async function withServer<T>(server: VerityServer, fn: (server: VerityServer) => Promise<T>): Promise<T> {
  runningServers.add(server);
  try {
    return await fn(server);
  } finally {
    await server.stop();
    runningServers.delete(server);
  }
}

export async function createOrganization(server: VerityServer, name: string): Promise<string> {
  const org = await server.api<{ id: string }>('POST', '/organizations', { name });
  return org.id;
}

export interface CommitStats {
  groups: number;
  events: number;
  busySeconds: number;
}

/** Group-commit counters from the server's /metrics (verity_group_commit_*). */
export async function commitStats(server: VerityServer): Promise<CommitStats> {
  const text = await (await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const value = (name: string): number => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    groups: value('verity_group_commit_events_count'),
    events: value('verity_group_commit_events_sum'),
    busySeconds: value('verity_group_commit_duration_seconds_sum'),
  };
}

/** "412 commits/s, 8.2 events/commit, 2.1 ms/commit, appender busy 87%" between two snapshots. */
export function describeCommits(before: CommitStats, after: CommitStats, seconds: number): string {
  const groups = after.groups - before.groups;
  if (!Number.isFinite(groups) || groups <= 0) return 'no group commits seen in /metrics';
  const events = after.events - before.events;
  const busy = after.busySeconds - before.busySeconds;
  return (
    `${Math.round(groups / seconds)} commits/s, ${(events / groups).toFixed(1)} events/commit, ` +
    `${((1000 * busy) / groups).toFixed(1)} ms/commit, appender busy ${Math.round((100 * busy) / seconds)}% of the time`
  );
}
