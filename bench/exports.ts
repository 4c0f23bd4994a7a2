import { setTimeout as sleep } from 'node:timers/promises';
import { cpuProbe, watchRss, type CpuUsage } from './lib/proc.js';
import { log } from './lib/report.js';
import type { VerityServer } from './server.js';

/** How often the bench asks GET /audit_logs/exports/:id for the state: ready is seen at most this late. */
export const EXPORT_POLL_MS = 100;

interface ExportView {
  id: string;
  state: 'pending' | 'ready' | 'error';
  created_at: string;
  updated_at: string;
  rows_written: number;
  url?: string;
  error?: string;
}

export interface ExportRun {
  format: 'csv' | 'ndjson';
  /** POST until GET first answered `ready` (client clock). */
  seconds: number;
  /** created_at → updated_at of the ready export (server clock: the job itself, without the poll delay). */
  serverSeconds: number;
  rowsWritten: number;
  rssBeforeKiB: number;
  rssPeakKiB: number;
  cpu: CpuUsage;
  file: FileCount;
  downloadSeconds: number;
}

export interface FileCount {
  bytes: number;
  /** Newline-terminated lines. */
  lines: number;
  /** Lines starting with the expected prefix (NDJSON: event lines, as opposed to the integrity trailer). */
  prefixed: number;
  endsWithNewline: boolean;
}

const EVENT_LINE = Buffer.from('{"object":"audit_log_event"');

/**
 * One export through the real API: POST /audit_logs/exports for the whole time range, poll the export
 * until it is ready while sampling the server's RSS, then download the signed url and count what arrived.
 */
export async function measureExport(server: VerityServer, organizationId: string, format: 'csv' | 'ndjson', range: { start: Date; end: Date }): Promise<ExportRun> {
  log(`export ${format}: POST /audit_logs/exports, polling every ${EXPORT_POLL_MS} ms`);
  const rss = watchRss(server.pid, 100);
  const cpu = cpuProbe({ server: server.pid });
  const t0 = performance.now();
  const created = await server.api<ExportView>('POST', '/audit_logs/exports', {
    organization_id: organizationId,
    range_start: range.start.toISOString(),
    range_end: range.end.toISOString(),
    format,
  });
  let view = created;
  let lastLog = t0;
  while (view.state === 'pending') {
    await sleep(EXPORT_POLL_MS);
    view = await server.api<ExportView>('GET', `/audit_logs/exports/${encodeURIComponent(created.id)}`);
    if (performance.now() - lastLog > 5_000) {
      lastLog = performance.now();
      log(`  ${view.rows_written.toLocaleString('en-US')} rows written`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const usage = cpu();
  const memory = rss.stop();
  if (view.state !== 'ready' || view.url === undefined) throw new Error(`export ${created.id} ended ${view.state}: ${view.error ?? ''}`);
  const serverSeconds = (Date.parse(view.updated_at) - Date.parse(view.created_at)) / 1000;
  log(`  ready after ${seconds.toFixed(2)} s (server: ${serverSeconds.toFixed(2)} s); downloading`);
  const d0 = performance.now();
  const file = await download(server, view.url);
  const downloadSeconds = (performance.now() - d0) / 1000;
  log(`  downloaded ${(file.bytes / 2 ** 20).toFixed(0)} MiB, ${file.lines.toLocaleString('en-US')} lines in ${downloadSeconds.toFixed(1)} s`);
  return {
    format,
    seconds,
    serverSeconds,
    rowsWritten: view.rows_written,
    rssBeforeKiB: memory.beforeKiB,
    rssPeakKiB: memory.peakKiB,
    cpu: usage,
    file,
    downloadSeconds,
  };
}

/**
 * Fetches the signed download link (no API key: the link is the credential). The link names the server's
 * public URL (localhost); the bench asks the loopback address it started the server on.
 */
async function download(server: VerityServer, signedUrl: string): Promise<FileCount> {
  const link = new URL(signedUrl);
  const response = await fetch(`${server.url}${link.pathname}${link.search}`, { signal: AbortSignal.timeout(300_000) });
  if (!response.ok || response.body === null) throw new Error(`download answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return countLines(response.body);
}

/** Counts lines (and lines that start with an event's prefix) of a streamed body without holding it. */
export async function countLines(body: AsyncIterable<Uint8Array>): Promise<FileCount> {
  let bytes = 0;
  let lines = 0;
  let prefixed = 0;
  let last = -1;
  // The first bytes of the line being read, enough to compare with the prefix.
  let start = Buffer.alloc(0);
  for await (const piece of body) {
    const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    bytes += chunk.length;
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
    let pos = 0;
    while (pos < chunk.length) {
      const newline = chunk.indexOf(10, pos);
      const end = newline === -1 ? chunk.length : newline;
      if (start.length < EVENT_LINE.length) {
        start = Buffer.concat([start, chunk.subarray(pos, Math.min(end, pos + EVENT_LINE.length - start.length))]);
      }
      if (newline === -1) break;
      lines += 1;
      if (start.equals(EVENT_LINE)) prefixed += 1;
      start = Buffer.alloc(0);
      pos = newline + 1;
    }
  }
  return { bytes, lines, prefixed, endsWithNewline: last === 10 };
}
