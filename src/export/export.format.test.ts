import type { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../ingest/event.schema.js';
import { CSV_COLUMNS, CSV_HEADER, CsvRecordFramer, crlfRecords, encodeNdjson } from './export.format.js';
import { DownloadSigner } from './export.signing.js';
import type { ExportChunkRow } from './export.sql.js';

function event(seq: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `event_${seq}`,
    organization_id: 'org_1',
    action: 'user.signed_in',
    occurred_at: '2026-01-01T00:00:00.000Z',
    version: 1,
    actor: { id: 'user_1', type: 'user', name: 'Jane' },
    targets: [{ id: 'team_1', type: 'team' }],
    context: { location: '203.0.113.7', user_agent: null },
    metadata: {},
    ...overrides,
  };
}

function row(seq: number, overrides: Partial<AuditEvent> = {}): ExportChunkRow {
  return { seq, hash: `hash${seq}`, prev_hash: `hash${seq - 1}`, received_at: new Date(Date.UTC(2026, 0, 1)), data: event(seq, overrides) };
}

async function drain(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer | string));
  return Buffer.concat(chunks).toString('utf8');
}

/** The framer's output when the input arrives cut at the given offsets. */
function framed(input: string, cuts: readonly number[]): { text: string; records: number } {
  const bytes = Buffer.from(input);
  const framer = new CsvRecordFramer();
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    parts.push(framer.frame(bytes.subarray(from, cut)));
    from = cut;
  }
  return { text: Buffer.concat(parts).toString('utf8'), records: framer.records };
}

describe('CSV record framing (COPY output to CRLF records)', () => {
  // What COPY (FORMAT csv) writes: LF record ends; quoted fields may hold LF, CR, CRLF and doubled quotes.
  const copy = 'a,"x\ny",1\n"say ""hi""\n",,\n"\r\n","""\n"""\n{}\n';
  const expected = 'a,"x\ny",1\r\n"say ""hi""\n",,\r\n"\r\n","""\n"""\r\n{}\r\n';

  it('ends records with CRLF and leaves line breaks inside quoted fields alone', () => {
    expect(framed(copy, [])).toEqual({ text: expected, records: 4 });
    expect(parse(framed(copy, []).text, { relax_column_count: true })).toEqual([['a', 'x\ny', '1'], ['say "hi"\n', '', ''], ['\r\n', '"\n"'], ['{}']]);
  });

  it('gives the same bytes and count wherever the input is cut', () => {
    for (let cut = 0; cut <= copy.length; cut++) expect(framed(copy, [cut]), `cut at ${cut}`).toEqual({ text: expected, records: 4 });
    expect(framed(copy, Array.from({ length: copy.length }, (_, i) => i))).toEqual({ text: expected, records: 4 });
  });

  it('frames more records than its initial buffer of record ends holds', () => {
    const many = 'x\n'.repeat(5_000);
    expect(framed(many, [])).toEqual({ text: 'x\r\n'.repeat(5_000), records: 5_000 });
  });

  it('frames a whole COPY the same way whether or not a line break is inside a field', () => {
    const whole = (input: string, rows: number, cuts: readonly number[] = []): string => {
      const bytes = Buffer.from(input);
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        chunks.push(bytes.subarray(from, cut));
        from = cut;
      }
      return Buffer.concat(crlfRecords(chunks, rows)).toString('utf8');
    };
    // Line breaks inside fields: more LFs than records, so the quotes are tracked.
    expect(whole(copy, 4)).toBe(expected);
    expect(whole(copy, 4, [3, 17])).toBe(expected);
    // None inside fields: every LF ends a record.
    expect(whole('a,"b,c",1\n"""q""",,\n', 2, [5])).toBe('a,"b,c",1\r\n"""q""",,\r\n');
    // A record count that does not match the LFs never makes an LF inside quotes a record end.
    expect(whole(copy, 7)).toBe(expected);
    expect(whole('', 0)).toBe('');
  });

  it('writes the header as CRLF-ended column names', () => {
    expect(CSV_HEADER).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});

describe('NDJSON encoding', () => {
  it('writes one event view per line, then the trailer lines', async () => {
    const out = await drain(
      encodeNdjson((async function* () { yield [row(1), row(2)]; })(), async function* () {
        yield { object: 'checkpoint', seq: 2 };
      }),
    );
    const lines = out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ object: 'audit_log_event', id: 'event_1', seq: 1, hash: 'hash1', prev_hash: 'hash0', received_at: '2026-01-01T00:00:00.000Z' }),
      expect.objectContaining({ id: 'event_2', seq: 2 }),
      { object: 'checkpoint', seq: 2 },
    ]);
  });
});

describe('download link signatures', () => {
  const signer = new DownloadSigner(Buffer.alloc(32, 7));
  const now = new Date('2026-05-01T12:00:00Z');

  it('accepts its own link for ten minutes, for that export only', () => {
    const { expires, signature } = signer.sign('audit_log_export_1', now);
    expect(expires).toBe(now.getTime() / 1000 + 600);
    expect(signer.verify('audit_log_export_1', String(expires), signature, now)).toBe(true);
    expect(signer.verify('audit_log_export_1', String(expires), signature, new Date(now.getTime() + 600_000))).toBe(true);
    expect(signer.verify('audit_log_export_1', String(expires), signature, new Date(now.getTime() + 601_000))).toBe(false);
    expect(signer.verify('audit_log_export_2', String(expires), signature, now)).toBe(false);
    expect(signer.verify('audit_log_export_1', String(expires + 1), signature, now)).toBe(false);
    expect(signer.verify('audit_log_export_1', `${expires}.0`, signature, now)).toBe(false);
  });

  it('rejects links signed with another master key', () => {
    const other = new DownloadSigner(Buffer.alloc(32, 8)).sign('audit_log_export_1', now);
    expect(signer.verify('audit_log_export_1', String(other.expires), other.signature, now)).toBe(false);
  });
});
