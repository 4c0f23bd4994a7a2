import path from 'node:path';
import { EventGenerator } from './lib/events.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { freePort, LOOPBACK, memoryOf, spawnNode, waitForHttp } from './lib/proc.js';
import { log } from './lib/report.js';
import { settings } from './lib/settings.js';
import { ROOT } from './server.js';

/** Bodies exactly like the single-event ingest run sends: one varied event per request. */
export function singleEventBodies(organizationId: string, seed: number): () => { path: string; body: string } {
  const generator = new EventGenerator({ seed });
  return () => ({ path: '/audit_logs/events', body: JSON.stringify({ organization_id: organizationId, event: generator.next() }) });
}

export interface CeilingResult {
  load: LoadResult;
  memory: { rssKiB: number; peakKiB: number } | undefined;
}

/**
 * A minimal Node HTTP server (bench/http-ceiling-server.ts: read body, JSON.parse, 200, store nothing) in
 * its own process, driven exactly like the real server. Verity's ingest rate is judged against this.
 */
export async function measureHttpCeiling(): Promise<CeilingResult> {
  const port = await freePort();
  const child = spawnNode(['--import', 'tsx', path.join(ROOT, 'bench/http-ceiling-server.ts')], { PORT: String(port) }, ROOT);
  const url = `http://${LOOPBACK}:${port}`;
  try {
    await waitForHttp(`${url}/`, child, 30_000);
    log(`HTTP ceiling: minimal node:http server (pid ${child.pid}), ${settings.connections} connections, ${settings.seconds} s`);
    const load = await runLoad({
      url,
      connections: settings.connections,
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk_ceiling_not_checked' },
      next: singleEventBodies('org_ceiling', 1),
      cpuPids: { server: child.pid },
    });
    return { load, memory: memoryOf(child.pid) };
  } finally {
    await child.stop();
  }
}
