import { Readable, Transform, type TransformCallback } from 'node:stream';
import { stringify, type Options as StringifyOptions } from 'csv-stringify';
import { coerceError } from '../errors/app-error.js';
import { toEventView } from '../query/query.service.js';
import type { ExportFormat } from './export.schema.js';
import type { ExportChunkRow } from './export.sql.js';

/** The CSV header, in order. Documented in the README; changing it breaks customers' spreadsheets. */
export const CSV_COLUMNS = [
  'id',
  'organization_id',
  'occurred_at',
  'action',
  'version',
  'actor_id',
  'actor_type',
  'actor_name',
  'actor_metadata',
  'targets',
  'target_ids',
  'target_types',
  'context_location',
  'context_user_agent',
  'metadata',
  'seq',
  'hash',
] as const;

export type CsvRecord = (string | number)[];

/** One event as a CSV record: JSON columns are compact JSON; id and type lists are comma-joined. */
export function toCsvRecord(row: ExportChunkRow): CsvRecord {
  const event = row.data;
  return [
    event.id,
    event.organization_id,
    event.occurred_at,
    event.action,
    event.version,
    event.actor.id,
    event.actor.type,
    event.actor.name ?? '',
    JSON.stringify(event.actor.metadata ?? {}),
    JSON.stringify(event.targets),
    event.targets.map((target) => target.id).join(','),
    event.targets.map((target) => target.type).join(','),
    event.context.location,
    event.context.user_agent ?? '',
    JSON.stringify(event.metadata ?? {}),
    row.seq,
    row.hash,
  ];
}

/**
 * RFC 4180: CRLF between records, fields holding a comma, quote, CR or LF are quoted, quotes doubled.
 * `quote_record_delimiter` must be forced on: csv-stringify otherwise leaves a lone LF unquoted once a
 * CRLF record delimiter is chosen. `escape_formulas` prefixes a `'` to any text cell starting with
 * = + - @ tab or CR (and their full-width forms), so a spreadsheet shows it instead of evaluating it.
 */
export const CSV_OPTIONS: StringifyOptions = {
  header: true,
  columns: [...CSV_COLUMNS],
  record_delimiter: 'windows',
  quote_record_delimiter: true,
  escape_formulas: true,
};

export function csvStringifier(): Transform {
  return stringify(CSV_OPTIONS);
}

/** One NDJSON line: the event exactly as GET /audit_logs/events returns it. */
export function toNdjsonLine(row: ExportChunkRow): string {
  if (row.received_at === undefined || row.prev_hash === undefined) throw new Error(`event ${row.data.id} was read without its chain fields`);
  return `${JSON.stringify(toEventView({ ...row, received_at: row.received_at, prev_hash: row.prev_hash }))}\n`;
}

/**
 * Extra lines appended after the events of an NDJSON export (the integrity component adds its signed
 * checkpoints here so the file verifies offline). Gets the export and what was written.
 */
export type NdjsonTrailer<Export> = (exported: Export, written: { rows: number; firstSeq: number | null; lastSeq: number | null }) => AsyncIterable<Record<string, unknown>>;

/**
 * The file's bytes as a stream, pulled chunk by chunk from `chunks` only as fast as the consumer takes
 * them (Readable.from respects backpressure), so memory holds one chunk whatever the export's size.
 */
export function encodeExport(format: ExportFormat, chunks: AsyncIterable<ExportChunkRow[]>, trailer?: () => AsyncIterable<Record<string, unknown>>): Readable {
  if (format === 'csv') {
    const csv = csvStringifier();
    // Records go straight into the stringifier, waiting whenever it is full: the consumer's pace sets the
    // rate at which chunks are read from the database.
    void (async () => {
      for await (const chunk of chunks) {
        for (const row of chunk) {
          // A consumer that gave up destroys the stream: 'close' instead of 'drain' ends the reading.
          if (!csv.write(toCsvRecord(row))) await drained(csv);
          if (csv.destroyed) return;
        }
      }
      csv.end();
    })().catch((error: unknown) => csv.destroy(coerceError(error)));
    return csv;
  }
  return Readable.from(
    (async function* () {
      for await (const chunk of chunks) yield chunk.map(toNdjsonLine).join('');
      if (trailer !== undefined) for await (const line of trailer()) yield `${JSON.stringify(line)}\n`;
    })(),
  );
}

/** Resolves when `stream` takes writes again, or is closed (destroyed by its consumer or a failure). */
function drained(stream: Transform): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** Counts the bytes passing through (the stored size, after gzip). */
export class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}
