import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort, LOOPBACK, spawnNode, waitForHttp } from '../lib/proc.js';
import { ROOT } from '../server.js';

export interface ReceiverStats {
  organizations: Record<string, { received: number; unique: number } | undefined>;
  requests: number;
  bytes: number;
  up: boolean;
}

/** The HEC receiver (bench/receivers/hec.ts) running in its own process, and its control calls. */
export interface HecReceiver {
  pid: number;
  /** What a Splunk stream's config needs to reach it. */
  hecUrl: string;
  token: string;
  stats(): Promise<ReceiverStats>;
  /** Events of this organization seen so far, duplicates not counted. */
  unique(organizationId: string): Promise<number>;
  record(): Promise<void>;
  /** [key, epoch ms] per event received since record(); key is metadata.bench_n (or the event id). */
  arrivals(organizationId: string): Promise<[string, number][]>;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHecReceiver(): Promise<HecReceiver> {
  const [hecPort, controlPort] = [await freePort(), await freePort()];
  const token = randomBytes(16).toString('hex');
  const child = spawnNode(
    ['--import', 'tsx', path.join(ROOT, 'bench/receivers/hec.ts')],
    { HEC_PORT: String(hecPort), CONTROL_PORT: String(controlPort), HEC_TOKEN: token, HOST: LOOPBACK },
    ROOT,
  );
  const control = `http://${LOOPBACK}:${controlPort}`;
  await waitForHttp(`${control}/stats`, child, 30_000);
  const call = async <T>(method: string, route: string): Promise<T> => {
    const response = await fetch(`${control}${route}`, { method, signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`receiver ${method} ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const stats = (): Promise<ReceiverStats> => call<ReceiverStats>('GET', '/stats');
  return {
    pid: child.pid,
    hecUrl: `http://${LOOPBACK}:${hecPort}`,
    token,
    stats,
    unique: async (organizationId) => (await stats()).organizations[organizationId]?.unique ?? 0,
    record: async () => {
      await call('POST', '/record');
    },
    arrivals: (organizationId) => call<[string, number][]>('GET', `/arrivals?organization_id=${encodeURIComponent(organizationId)}`),
    down: async () => {
      await call('POST', '/down');
    },
    up: async () => {
      await call('POST', '/up');
    },
    stop: () => child.stop(),
  };
}
