import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import { hostname, userInfo } from 'node:os';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config/config.js';
import type { Db } from '../db/db.js';
import { LogAppender } from '../ingest/appender.js';
import { SystemAudit } from '../system-audit/system-audit.service.js';
import { openDatabase } from '../db/open.js';
import { organizationExists } from '../export/export.sql.js';
import { isExportDateTime, type CreateExportBody, type ExportFilters, type ExportFormat, type ExportView } from '../export/export.schema.js';
import { downloadName, exportFiltersOf, openExportStream, type ExportProgress } from '../export/export.service.js';
import { IntegrityService } from '../integrity/integrity.service.js';
import { existingSigningKey, verificationKeyFrom, type SigningKey } from '../integrity/signing-key.js';
import { selectNewestCheckpointKeyId } from '../integrity/integrity.sql.js';
import { callApi } from './api-client.js';

interface ExportOptions {
  organization: string;
  from: string;
  to: string;
  format: ExportFormat;
  gzip?: boolean;
  out?: string;
  actions?: string[];
  actorIds?: string[];
  actorNames?: string[];
  targets?: string[];
  metadata?: string[];
  url?: string;
  apiKey?: string;
}

const POLL_MS = 500;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function commaList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];
}

function metadataFilters(pairs: readonly string[]): Record<string, string[]> {
  const metadata: Record<string, string[]> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--metadata takes key=value (got "${pair}")`);
    const key = pair.slice(0, at);
    metadata[key] = [...(metadata[key] ?? []), pair.slice(at + 1)];
  }
  return metadata;
}

/** The create-export body, exactly as POST /audit_logs/exports takes it. */
function requestBody(options: ExportOptions): CreateExportBody {
  return {
    organization_id: options.organization,
    range_start: options.from,
    range_end: options.to,
    format: options.format,
    gzip: options.gzip ?? false,
    ...(options.actions ? { actions: options.actions } : {}),
    ...(options.actorIds ? { actor_ids: options.actorIds } : {}),
    ...(options.actorNames ? { actor_names: options.actorNames } : {}),
    ...(options.targets ? { targets: options.targets } : {}),
    ...(options.metadata ? { metadata: metadataFilters(options.metadata) } : {}),
  };
}

/**
 * A one-line progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise
 * (logs and CI), so the data on stdout (with --out -) is never mixed with it.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY;
  }

  update(progress: ExportProgress, final = false): void {
    const now = Date.now();
    if (!final && now - this.lastDraw < (this.tty ? 100 : 2_000)) return;
    this.lastDraw = now;
    const ratio = progress.rowsTotal === 0 ? (final ? 1 : 0) : Math.min(1, progress.rowsWritten / progress.rowsTotal);
    const width = 30;
    const filled = Math.round(ratio * width);
    const line =
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ` +
      `${progress.rowsWritten.toLocaleString('en-US')}/${progress.rowsTotal.toLocaleString('en-US')} events`;
    this.stream.write(this.tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  }
}

/** Writes `body` to the file (via a temporary name, so a failed export never leaves a partial file) or stdout. */
async function save(body: Readable, out: string): Promise<void> {
  if (out === '-') {
    await pipeline(body, process.stdout as Writable, { end: false });
    return;
  }
  const partial = `${out}.partial`;
  try {
    await pipeline(body, createWriteStream(partial));
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** On the database directly: the same stream the export job writes, straight into the file. */
async function exportDirect(options: ExportOptions, out: string, bar: ProgressBar): Promise<number> {
  const body = requestBody(options);
  const filters = exportFiltersOf(body);
  const config = loadConfig();
  // Refused with a clear message (use --url) while a server holds the embedded database.
  const opened = await openDatabase(config, { pid: process.pid, role: 'cli export' }, undefined, { existing: true });
  try {
    if (!(await organizationExists(opened.db, options.organization))) throw new Error(`Organization not found: '${options.organization}'.`);
    const signingKey = options.format === 'ndjson' ? await serverSigningKey(opened.db, config) : undefined;
    let last: ExportProgress = { rowsWritten: 0, rowsTotal: 0 };
    // NDJSON carries the same signed integrity trailer as a server export, so `verity verify` can check it.
    const integrity =
      signingKey !== undefined
        ? new IntegrityService(opened.db, signingKey, {
            checkpointEveryEvents: config.checkpointEveryEvents,
            checkpointIntervalMinutes: config.checkpointIntervalMinutes,
            retiredKeys: config.retiredPublicKeys.map(verificationKeyFrom),
          })
        : undefined;
    const stream = openExportStream(
      opened.db,
      { id: null, organization_id: options.organization, format: options.format, filters },
      { gzip: options.gzip ?? false, trailer: integrity === undefined ? undefined : (subject, written) => integrity.exportTrailer(subject, written) },
      async (progress) => {
        last = progress;
        bar.update(progress);
      },
    );
    await save(stream.body, out);
    bar.update(last, true);
    await recordDirectExport(opened.db, config, { organizationId: options.organization, format: options.format, gzip: options.gzip ?? false, rows: last.rowsWritten, filters });
    return last.rowsWritten;
  } finally {
    await opened.close();
  }
}

/**
 * The key the server signs with, which signs this export's statement too: an auditor checks the file
 * against the server's published key. Refused rather than made up: a key generated here (another working
 * directory's ./data) would sign a file no published key verifies.
 */
async function serverSigningKey(db: Db, config: Config): Promise<SigningKey> {
  const found = existingSigningKey(config);
  if (found === undefined) {
    throw new Error(
      `An NDJSON export is signed with the server's key, and there is none here (VERITY_SIGNING_KEY is unset and ${path.resolve(config.dataDir, 'signing-key.pem')} does not exist). ` +
        'Set VERITY_SIGNING_KEY or VERITY_DATA_DIR as the server has them, or pass --url to export through the server.',
    );
  }
  const newest = await selectNewestCheckpointKeyId(db);
  const known = new Set([found.key.keyId, ...config.retiredPublicKeys.map((key) => verificationKeyFrom(key).keyId)]);
  if (newest !== undefined && !known.has(newest)) {
    throw new Error(
      `The signing key here (key ${found.key.keyId}${found.file === undefined ? ', from VERITY_SIGNING_KEY' : `, ${found.file}`}) is not the server's: its newest checkpoint is signed by key ${newest}. ` +
        'Set VERITY_SIGNING_KEY or VERITY_DATA_DIR as the server has them, or pass --url to export through the server.',
    );
  }
  return found.key;
}

/**
 * An export read straight from the database skips the server, and with it the download record that every
 * server export leaves: it is recorded here instead, in the same system log, naming the machine and user.
 */
async function recordDirectExport(
  db: Db,
  config: Config,
  exported: { organizationId: string; format: ExportFormat; gzip: boolean; rows: number; filters: ExportFilters },
): Promise<void> {
  // SystemAudit logs a failed record instead of throwing: to stderr here, so it is not lost silently.
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const systemAudit = new SystemAudit(db, new LogAppender(db, logger), config, logger);
  const who = `${userInfo().username}@${hostname()}`;
  await systemAudit.record(
    'audit_log_export.exported_directly',
    { id: `cli:${who}`, type: 'cli', name: `verity export by ${who}` },
    [{ id: exported.organizationId, type: 'organization' }],
    {
      organization_id: exported.organizationId,
      format: exported.format,
      gzip: exported.gzip,
      rows: exported.rows,
      range_start: exported.filters.range_start,
      range_end: exported.filters.range_end,
    },
    { ip: 'cli' },
  );
}

/** Through a running server: create the export, poll it with a progress bar, download the signed link. */
async function exportRemote(options: ExportOptions, baseUrl: string, out: string, bar: ProgressBar): Promise<number> {
  const apiKey = options.apiKey ?? process.env.VERITY_API_KEY;
  if (apiKey === undefined) throw new Error('--url needs an API key with events:read: pass --api-key or set VERITY_API_KEY.');
  const call = (method: string, path: string, body?: unknown): Promise<ExportView> => callApi<ExportView>(baseUrl, apiKey, method, path, body);
  let current = await call('POST', '/audit_logs/exports', requestBody(options));
  while (current.state === 'pending') {
    // Until the job has counted the rows there is no total to draw against.
    if (current.rows_total !== null) bar.update({ rowsWritten: current.rows_written, rowsTotal: current.rows_total });
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    current = await call('GET', `/audit_logs/exports/${encodeURIComponent(current.id)}`);
  }
  if (current.state === 'error' || current.url === undefined) throw new Error(`export ${current.id} failed: ${current.error ?? 'unknown error'}`);
  // The link is signed over the export id, not the host: fetch it through the address given with --url,
  // which works even when the server's VERITY_PUBLIC_URL is not reachable from here.
  const link = new URL(current.url);
  const response = await fetch(new URL(`${link.pathname}${link.search}`, baseUrl));
  if (!response.ok || response.body === null) throw new Error(`downloading export ${current.id} failed: HTTP ${response.status}`);
  await save(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), out);
  bar.update({ rowsWritten: current.rows_written, rowsTotal: current.rows_total ?? current.rows_written }, true);
  return current.rows_written;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("export an organization's events to CSV or NDJSON (directly from the database, or through a server with --url)")
    .requiredOption('--organization <id>', 'organization to export')
    .requiredOption('--from <iso>', 'range start, inclusive (ISO-8601, e.g. 2026-01-01T00:00:00Z)')
    .requiredOption('--to <iso>', 'range end, exclusive (ISO-8601)')
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'ndjson']).default('csv'))
    .option('--gzip', 'gzip the file')
    .option('--out <file>', 'where to write ("-" for stdout); default audit_logs_export.<format>[.gz]')
    .option('--actions <list>', 'only these actions (comma-separated, repeatable)', commaList)
    .option('--actor-ids <list>', 'only these actor ids (comma-separated, repeatable)', commaList)
    .option('--actor-names <name>', 'only this actor name (repeatable; names may contain commas)', collect)
    .option('--targets <list>', 'only events with these target types (comma-separated, repeatable)', commaList)
    .option('--metadata <key=value>', 'only events with this metadata (repeatable)', collect)
    .option('--url <url>', 'export through a running server (needed while it holds the embedded database)')
    .option('--api-key <key>', 'API key with events:read for --url (or set VERITY_API_KEY)')
    .action(async (options: ExportOptions) => {
      // The server's check, made here too: a direct export would otherwise read "2026-02-30" as March 2.
      for (const [flag, value] of [['--from', options.from], ['--to', options.to]] as const) {
        if (!isExportDateTime(value)) {
          throw new Error(`${flag} must match format "date-time" (ISO-8601 with a time zone, e.g. 2026-01-01T00:00:00Z); got "${value}".`);
        }
      }
      const out = options.out ?? downloadName(options.format, options.gzip ?? false);
      const bar = new ProgressBar();
      const started = Date.now();
      const rows = options.url === undefined ? await exportDirect(options, out, bar) : await exportRemote(options, options.url, out, bar);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(`Exported ${rows.toLocaleString('en-US')} event${rows === 1 ? '' : 's'}${out === '-' ? '' : ` to ${out}`} in ${seconds} s.\n`);
    });
}
