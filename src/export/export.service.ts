import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Logger } from 'pino';
import type { CsvCopy, Db, Queryable } from '../db/db.js';
import { AppError, notFound } from '../errors/app-error.js';
import type { JobRunner } from '../jobs/job-runner.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import { newId } from '../shared/ids.js';
import { rangeBound } from '../shared/instant.js';
import { idCursorOf, scanOrder, toList, type List, type PageParams } from '../shared/pagination.js';
import { ByteCounter, CSV_HEADER, CsvRecordFramer, crlfRecords, encodeNdjson, type NdjsonTrailer } from './export.format.js';
import type { CreateExportBody, ExportFilters, ExportFormat, ExportView } from './export.schema.js';
import type { DownloadSigner } from './export.signing.js';
import {
  countExportEvents,
  CSV_COPY_SETTINGS,
  csvWindowQuery,
  deleteExport,
  insertExport,
  markExportFailed,
  markExportReady,
  organizationExists,
  deleteFileRemovals,
  selectExpiredExports,
  selectExport,
  selectFileRemovals,
  selectLiveExport,
  selectExportChunk,
  selectExportPage,
  startExportRun,
  updateExportProgress,
  type ExportChunkRow,
  type ExportRow,
} from './export.sql.js';
import type { ExportStorage } from './export.storage.js';
import { searchTerms } from '../query/query.filters.js';

/** Job kinds on services.jobs. */
export const EXPORT_JOB_KIND = 'export';
export const EXPORT_CLEANUP_JOB_KIND = 'export.cleanup';

/**
 * Rows per database read: large enough to amortise the round trip, small enough to keep memory flat. With
 * the output made in small pieces (export.format.ts), 1,000 exported as fast as 2,000 and grew the process
 * by a fifth less (fewer rows live long enough to be promoted to the old generation), measured on 200,000
 * events.
 */
export const DEFAULT_CHUNK_SIZE = 1_000;

/**
 * Sequence numbers per COPY of a CSV export, by backend. A window's CSV is read whole and held until it is
 * written (on PostgreSQL with CSV_READ_AHEAD_WINDOWS more read meanwhile), so the window bounds memory: the
 * bench's events make ~540 bytes of CSV each (5 MB a window on PostgreSQL), events with ~2 KB of metadata
 * about 2 KB. PGlite's one connection serves nothing else while it copies (ingest waits): measured in
 * review on the ~2 KB events, a window of 20,000 was 43 MB of CSV, 129 MB of RSS growth and 0.9 s; one of
 * 1,000 took 44 ms with no RSS growth.
 */
export const DEFAULT_CSV_WINDOW: Readonly<Record<Db['kind'], number>> = { postgres: 10_000, pglite: 1_000 };

/** Windows read ahead of the one being written (PostgreSQL). */
const CSV_READ_AHEAD_WINDOWS = 2;
/**
 * CSV of one window held in memory before it is written (the window being written and each one read ahead):
 * a whole window within it is framed by its LFs alone (crlfRecords), a larger one streams.
 */
const CSV_WINDOW_BUFFER_BYTES = 16 * 1024 * 1024;

/** What an export is of, as the NDJSON trailer sees it (id is null for a CLI export written directly). */
export interface ExportSubject {
  id: string | null;
  organization_id: string;
  format: ExportFormat;
  filters: ExportFilters;
}

export type ExportTrailer = NdjsonTrailer<ExportSubject>;

/** A download, for the audit trail of administrative actions. */
export interface ExportDownload {
  export: ExportRow;
  ip: string;
  userAgent: string | undefined;
}

export interface ExportServiceOptions {
  storage: ExportStorage;
  signer: DownloadSigner;
  /** Base of the absolute download links (config.publicUrl). */
  publicUrl: string;
  ttlHours: number;
  logger: Logger;
  chunkSize?: number;
  /** Sequence numbers per COPY of a CSV export (default: DEFAULT_CSV_WINDOW for the backend). */
  csvWindow?: number;
  /** Lines appended to NDJSON exports after the events (integrity checkpoints). */
  trailer?: ExportTrailer;
  /** Records each served download as an audit event. */
  recordDownload?: (download: ExportDownload) => Promise<void>;
}

export interface ExportProgress {
  rowsWritten: number;
  rowsTotal: number;
}

export interface ExportFile {
  body: Readable;
  fileName: string;
  contentType: string;
  bytes: number | null;
}

const INVALID_RANGE = 'Invalid date range';

/** The name a downloaded file gets (WorkOS: audit_logs_export.csv). */
export function downloadName(format: ExportFormat, gzip: boolean): string {
  return `audit_logs_export.${format}${gzip ? '.gz' : ''}`;
}

export function contentTypeOf(format: ExportFormat, gzip: boolean): string {
  if (gzip) return 'application/gzip';
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
}

function fileDescription(row: ExportRow): Omit<ExportFile, 'body'> {
  return { fileName: downloadName(row.format, row.gzip), contentType: contentTypeOf(row.format, row.gzip), bytes: row.bytes };
}

/** The export's file name in storage (the data directory or the bucket). */
export function storedName(row: Pick<ExportRow, 'id' | 'format' | 'gzip'>): string {
  return `${row.id}.${row.format}${row.gzip ? '.gz' : ''}`;
}

/**
 * Removes files recorded in export_file_removals and drops the record of each one storage confirmed gone;
 * a file that cannot be removed now keeps its record for the next cleanup, and does not stop the others.
 * Returns how many were removed.
 */
export async function removeRecordedFiles(
  db: Queryable,
  storage: ExportStorage,
  files: readonly { name: string; organization_id: string }[],
  log: Pick<Logger, 'warn'>,
): Promise<number> {
  const removed: string[] = [];
  for (const file of files) {
    try {
      await storage.remove(file.name);
      removed.push(file.name);
    } catch (error) {
      log.warn({ err: error, organizationId: file.organization_id, file: file.name }, 'could not delete the export file of a deleted organization; the export cleanup retries');
    }
  }
  await deleteFileRemovals(db, removed);
  return removed.length;
}

/** The body's filters, normalised and checked: a start at or after the end is WorkOS's range error. */
export function exportFiltersOf(body: Omit<CreateExportBody, 'organization_id'>): ExportFilters {
  const start = rangeBound(body.range_start);
  const end = rangeBound(body.range_end);
  if (start === undefined || end === undefined || start >= end) {
    throw new AppError('invalid_audit_log_export_range_date', INVALID_RANGE);
  }
  const unique = (values: readonly string[] | undefined): string[] => [...new Set(values ?? [])];
  const metadata: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(body.metadata ?? {})) {
    // Numbers and booleans match as their text, exactly as metadata[key]=value does in search.
    metadata[key] = unique((Array.isArray(value) ? value : [value]).map(String));
  }
  return {
    range_start: start.toISOString(),
    range_end: end.toISOString(),
    actions: unique(body.actions),
    actor_names: unique([...(body.actor_names ?? []), ...(body.actors ?? [])]),
    actor_ids: unique(body.actor_ids),
    target_types: unique(body.targets),
    target_ids: unique(body.target_ids),
    metadata,
    // Checked now (at most 10 words) so a bad one is the request's 400 (as in search), not the job's failure.
    ...(body.q === undefined || searchTerms(body.q).length === 0 ? {} : { q: body.q.trim() }),
  };
}

export interface ExportStream {
  body: Readable;
  /** Resolves to the bytes produced once the stream has ended; rejects with the stream's failure. */
  counted: Promise<number>;
}

/**
 * The export's bytes (gzipped when asked), read from the database in chunks only as the consumer pulls
 * them. Used by the export job and by `verity export` working on the database directly.
 */
export function openExportStream(
  db: Db,
  subject: ExportSubject,
  options: {
    gzip: boolean;
    chunkSize?: number | undefined;
    csvWindow?: number | undefined;
    /** CSV of a window held in memory before it streams instead (default CSV_WINDOW_BUFFER_BYTES). */
    csvBufferBytes?: number | undefined;
    trailer?: ExportTrailer | undefined;
  },
  onProgress: (progress: ExportProgress) => Promise<void>,
): ExportStream {
  const encoded =
    subject.format === 'csv'
      ? Readable.from(csvBytes(db, subject, { window: options.csvWindow ?? DEFAULT_CSV_WINDOW[db.kind], bufferBytes: options.csvBufferBytes ?? CSV_WINDOW_BUFFER_BYTES }, onProgress), {
          objectMode: false,
        })
      : ndjsonStream(db, subject, options.chunkSize ?? DEFAULT_CHUNK_SIZE, options.trailer, onProgress);
  const counter = new ByteCounter();
  const counted = pipeline([encoded, ...(options.gzip ? [createGzip()] : []), counter]).then(() => counter.bytes);
  // Whoever consumes `body` sees any failure as a stream error; this promise must not be unhandled.
  counted.catch(() => undefined);
  return { body: counter, counted };
}

/**
 * The CSV: the header, then the matching events as PostgreSQL writes them with COPY (quoting, formula
 * neutralising and JSON text all happen in the database, see csvWindowQuery), one window of the log's
 * sequence numbers per statement, with CRLF record ends. This process only moves bytes, which is what
 * makes a CSV export several times faster than encoding rows here.
 */
async function* csvBytes(
  db: Db,
  subject: ExportSubject,
  { window, bufferBytes }: { window: number; bufferBytes: number },
  onProgress: (progress: ExportProgress) => Promise<void>,
): AsyncGenerator<Buffer> {
  const { total, minSeq, maxSeq } = await countExportEvents(db, subject.organization_id, subject.filters);
  await onProgress({ rowsWritten: 0, rowsTotal: total });
  yield Buffer.from(CSV_HEADER);
  const readWindow = (after: number): Promise<BufferedWindow> => {
    const read = bufferWindow(db.copyCsv(csvWindowQuery(subject.organization_id, subject.filters, after, Math.min(maxSeq, after + window)), CSV_COPY_SETTINGS), bufferBytes);
    // Read ahead and maybe abandoned (the consumer failed): its failure must not go unhandled.
    read.catch(() => undefined);
    return read;
  };
  // Windows read ahead of the one being written, each on its own connection: PostgreSQL making the CSV is
  // the slower side and one backend uses one core. PGlite has one connection, which ingest needs too.
  const readAhead = db.kind === 'postgres' ? CSV_READ_AHEAD_WINDOWS : 0;
  const reading: Promise<BufferedWindow>[] = [];
  let current: BufferedWindow | undefined;
  let next = minSeq - 1;
  let written = 0;
  try {
    while (reading.length > 0 || next < maxSeq) {
      while (next < maxSeq && reading.length <= readAhead) {
        reading.push(readWindow(next));
        next += window;
      }
      const pending = reading.shift();
      if (pending === undefined) break;
      const read = await pending;
      current = read;
      let records: number;
      if (read.rest === undefined) {
        records = read.copy.rows();
        yield* crlfRecords(read.head, records);
      } else {
        // Larger than the buffer: framed with quote tracking as the rest streams in.
        const framer = new CsvRecordFramer();
        for (const chunk of read.head) yield framer.frame(chunk);
        for (let chunk = await read.rest.next(); chunk.done !== true; chunk = await read.rest.next()) yield framer.frame(chunk.value);
        records = framer.records;
      }
      current = undefined;
      // A selective filter over a long log leaves many windows empty: no progress, nothing to record.
      if (records === 0) continue;
      written += records;
      await onProgress({ rowsWritten: written, rowsTotal: total });
    }
  } finally {
    // Stopped early (the consumer failed or went away): cancel the COPYs still open, freeing their connections.
    void current?.rest?.return?.(undefined);
    for (const pending of reading) pending.then((read) => read.rest?.return?.(undefined)).catch(() => undefined);
  }
}

/** A window's COPY, its first bytes held in memory and, when it is larger, the rest still to be read. */
interface BufferedWindow {
  copy: CsvCopy;
  head: Uint8Array[];
  /** Undefined when `head` is the whole window. */
  rest: AsyncIterator<Uint8Array> | undefined;
}

/**
 * Reads a window's COPY into memory up to `limit` bytes and stops there, the COPY waiting with backpressure
 * until the window is written: memory stays bounded whatever the size of events.
 */
async function bufferWindow(copy: CsvCopy, limit: number): Promise<BufferedWindow> {
  const iterator = copy.chunks[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < limit) {
    const chunk = await iterator.next();
    if (chunk.done === true) return { copy, head, rest: undefined };
    head.push(chunk.value);
    bytes += chunk.value.length;
  }
  return { copy, head, rest: iterator };
}

/** The NDJSON file: events read in chunks and written as the API shows them, then the trailer. */
function ndjsonStream(
  db: Db,
  subject: ExportSubject,
  chunkSize: number,
  trailer: ExportTrailer | undefined,
  onProgress: (progress: ExportProgress) => Promise<void>,
): Readable {
  let written = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  async function* chunks(): AsyncGenerator<ExportChunkRow[]> {
    const { total, minSeq, maxSeq } = await countExportEvents(db, subject.organization_id, subject.filters);
    await onProgress({ rowsWritten: 0, rowsTotal: total });
    const read = (after: number): Promise<ExportChunkRow[]> => selectExportChunk(db, subject.organization_id, subject.filters, after, maxSeq, chunkSize);
    let next: Promise<ExportChunkRow[]> | undefined = read(minSeq - 1);
    while (next !== undefined) {
      const rows: ExportChunkRow[] = await next;
      const last = rows[rows.length - 1];
      if (last === undefined) return;
      // The next chunk is read while this one is encoded and stored, so database time and encoding overlap
      // (PostgreSQL runs elsewhere); at most two chunks are in memory. If the consumer stops meanwhile, the
      // read in flight must not become an unhandled rejection.
      next = rows.length < chunkSize ? undefined : read(last.seq);
      next?.catch(() => undefined);
      yield rows;
      firstSeq ??= rows[0]?.seq ?? null;
      lastSeq = last.seq;
      written += rows.length;
      await onProgress({ rowsWritten: written, rowsTotal: total });
    }
  }
  return encodeNdjson(chunks(), trailer === undefined ? undefined : (linesSha256) => trailer(subject, { rows: written, firstSeq, lastSeq, linesSha256 }));
}

function exportIdOf(payload: unknown): string {
  const id = typeof payload === 'object' && payload !== null ? (payload as { export_id?: unknown }).export_id : undefined;
  if (typeof id !== 'string') throw new Error(`export job payload has no export_id: ${JSON.stringify(payload)}`);
  return id;
}

/**
 * Audit log exports (WorkOS's /audit_logs/exports): an export is created pending, written by a background
 * job that streams the organization's log from the database into a file (data directory or bucket), and
 * served through short-lived signed links until it expires.
 */
export class ExportService {
  private trailer: ExportTrailer | undefined;

  constructor(
    private readonly db: Db,
    private readonly jobs: Pick<JobRunner, 'enqueue'>,
    private readonly options: ExportServiceOptions,
  ) {
    this.trailer = options.trailer;
  }

  /** Plugs in the NDJSON trailer after construction (the integrity component is built alongside). */
  setTrailer(trailer: ExportTrailer | undefined): void {
    this.trailer = trailer;
  }

  async create(principal: Principal, body: CreateExportBody): Promise<ExportView> {
    requireScope(principal, 'events:read');
    assertOrganizationAccess(principal, body.organization_id);
    const filters = exportFiltersOf(body);
    if (!(await organizationExists(this.db, body.organization_id))) {
      throw notFound('Organization', body.organization_id);
    }
    const row = await insertExport(this.db, {
      id: newId('export'),
      organizationId: body.organization_id,
      format: body.format ?? 'csv',
      gzip: body.gzip ?? false,
      filters,
      createdBy: principal.id,
      ttlHours: this.options.ttlHours,
    });
    try {
      // The job id is derived from the export: however often this is retried, one job writes the file.
      await this.jobs.enqueue(EXPORT_JOB_KIND, { export_id: row.id }, { id: `export:${row.id}` });
    } catch (error) {
      // Without its job the export would stay pending forever; better no export and a 5xx to retry.
      await deleteExport(this.db, row.id).catch(() => undefined);
      throw error;
    }
    return this.view(row);
  }

  async get(principal: Principal, id: string): Promise<ExportView> {
    requireScope(principal, 'events:read');
    const row = await selectLiveExport(this.db, id);
    if (row === undefined || (principal.organizationId !== null && row.organization_id !== principal.organizationId)) {
      throw new AppError('not_found', `Audit Log Export not found: '${id}'.`);
    }
    return this.view(row);
  }

  /** Unexpired exports, newest first by default: one organization's, or every one for an unrestricted caller. */
  async list(principal: Principal, organizationId: string | undefined, page: PageParams): Promise<List<ExportView>> {
    requireScope(principal, 'events:read');
    if (organizationId !== undefined) assertOrganizationAccess(principal, organizationId);
    const scope = principal.organizationId ?? organizationId ?? null;
    const { cursor, op } = idCursorOf(page, 'export', 'an export');
    const rows = await selectExportPage(this.db, scope, cursor, op, scanOrder(page), page.limit + 1);
    // As for event search: an empty list of an organization that does not exist is a mistyped id.
    if (rows.length === 0 && organizationId !== undefined && !(await organizationExists(this.db, organizationId))) {
      throw notFound('Organization', organizationId);
    }
    return toList(rows, page, (row) => row.id, (row) => this.view(row));
  }

  /**
   * The file behind a signed link. The signature is checked before anything is looked up, so without a
   * valid link nobody learns even whether an export exists.
   */
  async download(id: string, expires: string | undefined, signature: string | undefined, client: { ip: string; userAgent: string | undefined }): Promise<ExportFile> {
    const { row, body } = await this.openDownload(id, expires, signature);
    if (this.options.recordDownload !== undefined) {
      await this.options.recordDownload({ export: row, ip: client.ip, userAgent: client.userAgent });
    }
    return { body, ...fileDescription(row) };
  }

  /**
   * What a download through this link would send, without sending it (HEAD): the same checks and headers,
   * and no download in the audit trail, since nothing is transferred.
   */
  async describeDownload(id: string, expires: string | undefined, signature: string | undefined): Promise<Omit<ExportFile, 'body'>> {
    const { row, body } = await this.openDownload(id, expires, signature);
    body.destroy();
    return fileDescription(row);
  }

  private async openDownload(id: string, expires: string | undefined, signature: string | undefined): Promise<{ row: ExportRow; body: Readable }> {
    // No link at all is a missing credential (401, like a request without a key); a link that does not
    // verify is a refused one (403).
    if (!expires && !signature) {
      throw new AppError('unauthorized', 'Unauthorized: downloads need the signed url from GET /audit_logs/exports/:id.');
    }
    if (expires === undefined || signature === undefined || !this.options.signer.verify(id, expires, signature)) {
      throw new AppError('forbidden', 'This download link is invalid or has expired; get the export again for a fresh link.');
    }
    // An expired export is as gone as a deleted one, though its file may wait for the cleanup.
    const row = await selectLiveExport(this.db, id);
    const body = row?.state === 'ready' ? await this.options.storage.read(storedName(row)) : undefined;
    if (row === undefined || body === undefined) throw new AppError('not_found', `Audit Log Export not found: '${id}'.`);
    return { row, body };
  }

  /**
   * Job handler (kind 'export'). Never leaves the export pending on its own failure: any error marks it
   * `error` (details in the log, a generic message on the object). Only when even that cannot be recorded
   * does it throw, so the job runner retries the whole run later.
   */
  async run(payload: unknown): Promise<void> {
    const id = exportIdOf(payload);
    await this.cleanup().catch((error: unknown) => this.options.logger.warn({ err: error }, 'export cleanup failed'));
    const row = await selectExport(this.db, id);
    if (row === undefined || row.state !== 'pending') return;
    const name = storedName(row);
    try {
      const written = await this.writeFile(row, name);
      if (!(await markExportReady(this.db, id, written))) {
        // Deleted or expired while it was being written.
        await this.options.storage.remove(name);
      }
    } catch (error) {
      this.options.logger.error({ err: error, exportId: id, organizationId: row.organization_id }, 'export failed');
      await this.options.storage.remove(name).catch(() => undefined);
      await markExportFailed(this.db, id, `The export could not be written (export ${id}); create a new export to try again.`);
    }
  }

  close(): void {
    this.options.storage.close();
  }

  /**
   * Retries the files deleted organizations left (recorded in export_file_removals when storage could not
   * remove them at once), every one of them once; returns how many are gone. Hourly, not before each export
   * run: a bucket that hangs must not hold up exports.
   */
  async retryFileRemovals(): Promise<number> {
    let removed = 0;
    for (let after = ''; ; ) {
      const files = await selectFileRemovals(this.db, after, 100);
      removed += await removeRecordedFiles(this.db, this.options.storage, files, this.options.logger);
      const last = files[files.length - 1];
      if (last === undefined || files.length < 100) return removed;
      after = last.name;
    }
  }

  /** Deletes expired exports and their files; returns how many. */
  async cleanup(): Promise<number> {
    let removed = 0;
    for (;;) {
      const expired = await selectExpiredExports(this.db, 100);
      for (const item of expired) {
        // The file first: a row without a file is harmless, a file without its row would never be found again.
        await this.options.storage.remove(storedName(item));
        await deleteExport(this.db, item.id);
        removed += 1;
      }
      if (expired.length < 100) return removed;
    }
  }

  /** The export's bytes; see openExportStream. */
  openStream(subject: ExportSubject, gzip: boolean, onProgress: (progress: ExportProgress) => Promise<void>): ExportStream {
    return openExportStream(this.db, subject, { gzip, chunkSize: this.options.chunkSize, csvWindow: this.options.csvWindow, trailer: this.trailer }, onProgress);
  }

  private async writeFile(row: ExportRow, name: string): Promise<{ rowsWritten: number; bytes: number; location: string }> {
    let rowsWritten = 0;
    const { body, counted } = this.openStream(row, row.gzip, async (progress) => {
      rowsWritten = progress.rowsWritten;
      if (progress.rowsWritten === 0) await startExportRun(this.db, row.id, progress.rowsTotal);
      else await updateExportProgress(this.db, row.id, progress.rowsWritten);
    });
    try {
      const [location, bytes] = await Promise.all([this.options.storage.write(name, body, contentTypeOf(row.format, row.gzip)), counted]);
      return { rowsWritten, bytes, location };
    } catch (error) {
      // Stops the database reads if the storage side failed first.
      body.destroy();
      throw error;
    }
  }

  private view(row: ExportRow): ExportView {
    const view: ExportView = {
      object: 'audit_log_export',
      id: row.id,
      state: row.state,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
      organization_id: row.organization_id,
      format: row.format,
      gzip: row.gzip,
      rows_written: row.rows_written,
      rows_total: row.rows_total,
      percent: percentOf(row),
      expires_at: row.expires_at.toISOString(),
      filters: row.filters,
    };
    if (row.state === 'ready') {
      const { expires, signature } = this.options.signer.sign(row.id);
      view.url = `${this.options.publicUrl}/audit_logs/exports/${encodeURIComponent(row.id)}/download?expires=${expires}&signature=${signature}`;
    }
    if (row.state === 'error' && row.error !== null) view.error = row.error;
    return view;
  }
}

function percentOf(row: ExportRow): number {
  if (row.state === 'ready') return 100;
  if (row.rows_total === null || row.rows_total === 0) return 0;
  // Never 100 before the file is complete: the last rows may still be on their way to storage.
  return Math.min(99, Math.floor((row.rows_written * 100) / row.rows_total));
}
