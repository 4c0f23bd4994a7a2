import { Readable, Transform, type TransformCallback } from 'node:stream';
import { toEventView } from '../query/query.service.js';
import type { CsvChunkRow, ExportChunkRow } from './export.sql.js';
import { compactFast, compactJsonbText } from './jsonb-text.js';

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

/** The CSV header line: column names need no quoting. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

// RFC 4180: a field holding a comma, quote, CR or LF is quoted, with its quotes doubled.
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;
// A text cell starting with one of these (= + - @ tab CR and their full-width forms) would be evaluated
// as a formula by spreadsheets: it gets a leading ' so it is shown instead (OWASP "CSV injection").
const FORMULA_STARTS = new Set([0x3d, 0x2b, 0x2d, 0x40, 0x09, 0x0d, 0xff1d, 0xff0b, 0xff0d, 0xff20]);
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

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

/**
 * The cell of a JSON column: compact JSON. An object's or array's JSON starts with `{` or `[` (never a
 * formula) and holds no raw CR or LF, so it is quoted exactly when it holds a quote or a comma; its quotes
 * are doubled while it is compacted, rather than in a second pass.
 */
function jsonCell(text: string): string {
  const first = text.charCodeAt(0);
  const doubled = first === OPEN_BRACE || first === OPEN_BRACKET ? compactFast(text, '""') : undefined;
  if (doubled === undefined) return csvCell(compactJsonbText(text));
  return doubled.indexOf('"') === -1 && doubled.indexOf(',') === -1 ? doubled : `"${doubled}"`;
}

/** An object column (metadata): {} for an absent or null object. */
function objectCell(text: string | null): string {
  return text === null || text === 'null' ? '{}' : jsonCell(text);
}

/**
 * Events as CSV records, each ending with CRLF, in the documented columns (CSV_COLUMNS): JSON columns
 * are compact JSON; id and type lists are comma-joined. Written field by field into one string per
 * record (no record array per event: this runs a million times per million-event export).
 */
export function csvLines(rows: readonly CsvChunkRow[]): string {
  let out = '';
  for (const row of rows) {
    out +=
      `${csvCell(row.id)},${csvCell(row.organization_id)},${csvCell(row.occurred_at)},${csvCell(row.action)},` +
      `${csvCell(Number(row.version))},${csvCell(row.actor_id)},${csvCell(row.actor_type)},${csvCell(row.actor_name ?? '')},` +
      `${objectCell(row.actor_metadata)},${jsonCell(row.targets)},${csvCell(row.target_ids)},${csvCell(row.target_types)},` +
      `${csvCell(row.location)},${csvCell(row.user_agent ?? '')},` +
      `${objectCell(row.metadata)},${row.seq},${csvCell(row.hash)}\r\n`;
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

function* pieces<Row>(rows: readonly Row[], encode: (rows: readonly Row[]) => string): Generator<string> {
  for (let start = 0; start < rows.length; start += ROWS_PER_PIECE) yield encode(rows.slice(start, start + ROWS_PER_PIECE));
}

/** One NDJSON line: the event exactly as GET /audit_logs/events returns it. */
export function toNdjsonLine(row: ExportChunkRow): string {
  return `${JSON.stringify(toEventView(row))}\n`;
}

/**
 * Extra lines appended after the events of an NDJSON export (the integrity component adds its signed
 * checkpoints here so the file verifies offline). Gets the export and what was written.
 */
export type NdjsonTrailer<Export> = (exported: Export, written: { rows: number; firstSeq: number | null; lastSeq: number | null }) => AsyncIterable<Record<string, unknown>>;

/**
 * A CSV file's bytes as a stream, pulled chunk by chunk from `chunks` only as fast as the consumer takes
 * them (Readable.from respects backpressure), so memory holds one chunk whatever the export's size.
 */
export function encodeCsv(chunks: AsyncIterable<readonly CsvChunkRow[]>): Readable {
  // A byte stream (not object mode), so what waits in its buffer is bounded by bytes, not by chunk count.
  return Readable.from(
    (async function* () {
      yield CSV_HEADER;
      for await (const chunk of chunks) yield* pieces(chunk, csvLines);
    })(),
    { objectMode: false },
  );
}

/** An NDJSON file's bytes as a stream (as encodeCsv), then the trailer's lines. */
export function encodeNdjson(chunks: AsyncIterable<readonly ExportChunkRow[]>, trailer?: () => AsyncIterable<Record<string, unknown>>): Readable {
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
