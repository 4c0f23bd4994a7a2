import { Readable, Transform, type TransformCallback } from 'node:stream';
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

/** The header line: column names need no quoting. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

// RFC 4180: a field holding a comma, quote, CR or LF is quoted, with its quotes doubled.
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;
// A text cell starting with one of these (= + - @ tab CR and their full-width forms) would be evaluated
// as a formula by spreadsheets: it gets a leading ' so it is shown instead (OWASP "CSV injection").
const FORMULA_STARTS = new Set([0x3d, 0x2b, 0x2d, 0x40, 0x09, 0x0d, 0xff1d, 0xff0b, 0xff0d, 0xff20]);

/**
 * One cell. Exactly what csv-stringify wrote with { record_delimiter: 'windows', quote_record_delimiter:
 * true, escape_formulas: true } (export.format.test.ts compares the two; a lone CR or LF is quoted too),
 * without its per-field option handling, which profiled at a quarter of a CSV export's CPU time. Numbers
 * are never formula-escaped (-1 stays -1).
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  if (value === '') return '';
  const escaped = FORMULA_STARTS.has(value.charCodeAt(0)) ? `'${value}` : value;
  return NEEDS_QUOTES.test(value) ? `"${escaped.replace(QUOTES, '""')}"` : escaped;
}

/** Records as CSV text, each ending with CRLF. */
export function csvLines(rows: readonly ExportChunkRow[]): string {
  let out = '';
  for (const row of rows) {
    const record = toCsvRecord(row);
    let line = csvCell(record[0] as string | number);
    for (let i = 1; i < record.length; i++) line += `,${csvCell(record[i] as string | number)}`;
    out += `${line}\r\n`;
  }
  return out;
}

/**
 * Rows encoded per piece of output. A piece is made and turned into bytes while its strings are young: one
 * string for thousands of rows keeps every line alive across garbage collections (measured: encoding
 * 20,000 rows as one string cost three times as much per row as pieces of 100–200). Between pieces the
 * stream waits for its consumer, so the database driver also gets to read the next chunk meanwhile.
 */
const ROWS_PER_PIECE = 200;

function* pieces(rows: readonly ExportChunkRow[], encode: (rows: readonly ExportChunkRow[]) => string): Generator<string> {
  for (let start = 0; start < rows.length; start += ROWS_PER_PIECE) yield encode(rows.slice(start, start + ROWS_PER_PIECE));
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
  // A byte stream (not object mode), so what waits in its buffer is bounded by bytes, not by chunk count.
  if (format === 'csv') {
    return Readable.from(
      (async function* () {
        yield CSV_HEADER;
        for await (const chunk of chunks) yield* pieces(chunk, csvLines);
      })(),
      { objectMode: false },
    );
  }
  return Readable.from(
    (async function* () {
      for await (const chunk of chunks) yield* pieces(chunk, (rows) => rows.map(toNdjsonLine).join(''));
      if (trailer !== undefined) for await (const line of trailer()) yield `${JSON.stringify(line)}\n`;
    })(),
    { objectMode: false },
  );
}

/** Counts the bytes passing through (the stored size, after gzip). */
export class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}
