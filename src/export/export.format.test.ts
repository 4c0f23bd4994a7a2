import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../ingest/event.schema.js';
import { CSV_COLUMNS, CSV_HEADER, csvLines, encodeExport, toCsvRecord } from './export.format.js';
import { DownloadSigner } from './export.signing.js';
import type { ExportChunkRow } from './export.sql.js';

function row(seq: number, overrides: Partial<AuditEvent> = {}): ExportChunkRow {
  return {
    seq,
    hash: `hash${seq}`,
    prev_hash: `hash${seq - 1}`,
    received_at: new Date(Date.UTC(2026, 0, 1)),
    data: {
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
    },
  };
}

async function text(format: 'csv' | 'ndjson', rows: ExportChunkRow[][], trailer?: () => AsyncIterable<Record<string, unknown>>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of encodeExport(format, (async function* () { yield* rows; })(), trailer)) chunks.push(Buffer.from(chunk as Buffer | string));
  return Buffer.concat(chunks).toString('utf8');
}

describe('CSV encoding', () => {
  it('maps an event to the documented columns', () => {
    const record = toCsvRecord(row(7, { actor: { id: 'u', type: 'user', metadata: { role: 'admin' } }, targets: [{ id: 'a', type: 'x' }, { id: 'b', type: 'y' }] }));
    expect(record).toHaveLength(CSV_COLUMNS.length);
    expect(Object.fromEntries(CSV_COLUMNS.map((column, i) => [column, record[i]]))).toEqual({
      id: 'event_7',
      organization_id: 'org_1',
      occurred_at: '2026-01-01T00:00:00.000Z',
      action: 'user.signed_in',
      version: 1,
      actor_id: 'u',
      actor_type: 'user',
      actor_name: '',
      actor_metadata: '{"role":"admin"}',
      targets: '[{"id":"a","type":"x"},{"id":"b","type":"y"}]',
      target_ids: 'a,b',
      target_types: 'x,y',
      context_location: '203.0.113.7',
      context_user_agent: '',
      metadata: '{}',
      seq: 7,
      hash: 'hash7',
    });
  });

  it('quotes per RFC 4180 and neutralises formulas, across chunks', async () => {
    const names = ['=1+1', '+1', '-1', '@x', '\tx', '\rx', 'a,b', 'say "hi"', 'line\nbreak', 'ok', '＝1'];
    const csv = await text('csv', [names.slice(0, 5).map((name, i) => row(i + 1, { actor: { id: 'u', type: 'user', name } })), names.slice(5).map((name, i) => row(i + 6, { actor: { id: 'u', type: 'user', name } }))]);
    expect(csv.startsWith(`${CSV_COLUMNS.join(',')}\r\n`)).toBe(true);
    const parsed = parse<Record<string, string>>(csv, { columns: true });
    expect(parsed.map((r) => r.actor_name)).toEqual(["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", 'a,b', 'say "hi"', 'line\nbreak', 'ok', "'＝1"]);
    expect(csv).toContain('"line\nbreak"');
    expect(csv).toContain('"say ""hi"""');
    expect(parsed.map((r) => r.seq)).toEqual(names.map((_, i) => String(i + 1)));
  });

  it('writes byte for byte what csv-stringify wrote with the documented options', () => {
    // The encoder replaced csv-stringify for speed; files must not change for the people who parse them.
    const tricky = ['', 'plain', '=1+1', '+1', '-1', '-', '@x', '\tx', '\rx', '\nx', 'a,b', ',', 'say "hi"', '"', 'line\nbreak', 'cr\rlf\r\n', '\r\n',
      '＝1', '＋', '－', '＠', "'quoted", ' lead', 'tail ', 'é ü 中文 🎉', 'a\u2028b', '\u0000', 'x"=,'];
    const rows = tricky.map((value, i) =>
      row(i + 1, {
        action: `user.${value}`,
        actor: { id: value === '' ? 'u' : value, type: 'user', name: value, metadata: { note: value } },
        targets: [{ id: `t,${value}`, type: value === '' ? 'x' : value }],
        context: { location: value, user_agent: i % 2 === 0 ? value : null },
        metadata: { value, n: -i },
        version: i % 3 === 0 ? -1 : 1,
      }),
    );
    const expected = stringify(rows.map(toCsvRecord), { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: true });
    expect(CSV_HEADER + csvLines(rows)).toBe(expected);
  });

  it('writes the header alone when there are no events', async () => {
    expect(await text('csv', [])).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});

describe('NDJSON encoding', () => {
  it('writes one event view per line, then the trailer lines', async () => {
    const out = await text('ndjson', [[row(1), row(2)]], async function* () {
      yield { object: 'checkpoint', seq: 2 };
    });
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
