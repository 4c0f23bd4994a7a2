import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { toEventView } from '../query/query.service.js';
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

/** The CSV header line: column names need no quoting. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Turns PostgreSQL's COPY CSV (records end in LF) into the documented CRLF records, and counts them. A
 * record ends at an LF outside quotes; an LF or CR inside a quoted field is data and stays as it is. Quotes
 * inside a field are doubled, so toggling on every quote keeps track across fields, records and chunks.
 */
export class CsvRecordFramer {
  /** Records framed so far. */
  records = 0;
  private quoted = false;
  private ends: Int32Array = new Int32Array(512);

  frame(chunk: Uint8Array): Buffer {
    let quoted = this.quoted;
    let count = 0;
    // A plain loop over the bytes: a CSV line of JSON cells holds dozens of quotes, so jumping between
    // them with indexOf costs more than looking at every byte.
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) quoted = !quoted;
      else if (byte === LF && !quoted) {
        if (count === this.ends.length) this.ends = grow(this.ends);
        this.ends[count++] = i;
      }
    }
    this.quoted = quoted;
    this.records += count;
    return withCrBefore(chunk, this.ends, count);
  }
}

/** `chunk` with a CR inserted before the LF at each of the first `count` positions of `ends` (ascending). */
function withCrBefore(chunk: Uint8Array, ends: ArrayLike<number>, count: number): Buffer {
  const out = Buffer.allocUnsafe(chunk.length + count);
  let from = 0;
  let at = 0;
  for (let k = 0; k < count; k++) {
    const end = ends[k] as number;
    out.set(chunk.subarray(from, end), at);
    at += end - from;
    out[at++] = CR;
    out[at++] = LF;
    from = end + 1;
  }
  out.set(chunk.subarray(from), at);
  return out;
}

/**
 * A whole COPY's CSV (`rows` records) as the documented CRLF records. When the COPY holds exactly as many
 * LFs as records, no LF is inside a quoted field, so every LF ends a record and is found by Buffer#indexOf
 * (native) instead of by looking at every byte for quotes: measured on 514 MB of bench CSV, about 35 ms
 * against 550 ms to 1.5 s. Otherwise (a value with a line break in it) the bytes are framed with quote
 * tracking. A COPY starts at a record boundary, so each is framed on its own.
 */
export function crlfRecords(chunks: readonly Uint8Array[], rows: number): Buffer[] {
  const lineFeeds = chunks.map(lineFeedsOf);
  if (lineFeeds.reduce((sum, ends) => sum + ends.length, 0) !== rows) {
    const framer = new CsvRecordFramer();
    return chunks.map((chunk) => framer.frame(chunk));
  }
  return chunks.map((chunk, i) => {
    const ends = lineFeeds[i] as number[];
    return withCrBefore(chunk, ends, ends.length);
  });
}

function lineFeedsOf(chunk: Uint8Array): number[] {
  const ends: number[] = [];
  for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) ends.push(at);
  return ends;
}

function grow(array: Int32Array): Int32Array {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
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
  return `${JSON.stringify(toEventView(row))}\n`;
}

/**
 * Extra lines appended after the events of an NDJSON export (the integrity component adds its signed
 * checkpoints here so the file verifies offline). Gets the export and what was written.
 */
export type NdjsonTrailer<Export> = (exported: Export, written: NdjsonWritten) => AsyncIterable<Record<string, unknown>>;

/** What an NDJSON export wrote before its trailer, for the trailer to sign. */
export interface NdjsonWritten {
  rows: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** SHA-256 (hex) of every byte written so far, the trailer's lines included: what a signed statement covers. */
  linesSha256(): string;
}

/**
 * An NDJSON file's bytes as a stream, pulled chunk by chunk from `chunks` only as fast as the consumer takes
 * them (Readable.from respects backpressure), so memory holds one chunk whatever the export's size; then
 * the trailer's lines.
 */
export function encodeNdjson(chunks: AsyncIterable<readonly ExportChunkRow[]>, trailer?: (linesSha256: () => string) => AsyncIterable<Record<string, unknown>>): Readable {
  // Every byte is hashed as it is handed on, so the trailer can sign a digest of the file before it.
  const digest = createHash('sha256');
  const hashed = (text: string): string => {
    digest.update(text);
    return text;
  };
  return Readable.from(
    (async function* () {
      for await (const chunk of chunks) for (const piece of pieces(chunk, (rows) => rows.map(toNdjsonLine).join(''))) yield hashed(piece);
      if (trailer !== undefined) for await (const line of trailer(() => digest.copy().digest('hex'))) yield hashed(`${JSON.stringify(line)}\n`);
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
