import type { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../ingest/event.schema.js';
import { CSV_COLUMNS, CSV_HEADER, csvLines, encodeCsv, encodeNdjson } from './export.format.js';
import { DownloadSigner } from './export.signing.js';
import type { CsvChunkRow, ExportChunkRow } from './export.sql.js';

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

/** jsonb's text form: keys ordered by length then bytes, a space after each `,` and `:` (ASCII keys here). */
function jsonbText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((key) => `${JSON.stringify(key)}: ${jsonbText(object[key])}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** The row the CSV query reads for an event (its fields as PostgreSQL hands them over). */
function csvRow(seq: number, overrides: Partial<AuditEvent> = {}): CsvChunkRow {
  const e = event(seq, overrides);
  const json = (value: unknown): string | null => (value === undefined ? null : jsonbText(value));
  return {
    seq,
    hash: `hash${seq}`,
    id: e.id,
    organization_id: e.organization_id,
    occurred_at: e.occurred_at,
    action: e.action,
    version: String(e.version),
    actor_id: e.actor.id,
    actor_type: e.actor.type,
    actor_name: e.actor.name ?? null,
    actor_metadata: json(e.actor.metadata),
    targets: jsonbText(e.targets),
    target_ids: e.targets.map((t) => t.id).join(','),
    target_types: e.targets.map((t) => t.type).join(','),
    location: e.context.location,
    user_agent: e.context.user_agent ?? null,
    metadata: json(e.metadata),
  };
}

/** The documented columns of an event, from the parsed document: what a CSV row must hold. */
function documentedRecord(seq: number, e: AuditEvent): (string | number)[] {
  return [
    e.id, e.organization_id, e.occurred_at, e.action, e.version, e.actor.id, e.actor.type, e.actor.name ?? '',
    JSON.stringify(e.actor.metadata ?? {}), JSON.stringify(e.targets), e.targets.map((t) => t.id).join(','),
    e.targets.map((t) => t.type).join(','), e.context.location, e.context.user_agent ?? '', JSON.stringify(e.metadata ?? {}), seq, `hash${seq}`,
  ];
}

async function drain(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer | string));
  return Buffer.concat(chunks).toString('utf8');
}

async function csvText(rows: CsvChunkRow[][]): Promise<string> {
  return drain(encodeCsv((async function* () { yield* rows; })()));
}

describe('CSV encoding', () => {
  it('maps an event to the documented columns', () => {
    const csv = CSV_HEADER + csvLines([csvRow(7, { actor: { id: 'u', type: 'user', metadata: { role: 'admin' } }, targets: [{ id: 'a', type: 'x' }, { id: 'b', type: 'y' }] })]);
    const records = parse<Record<string, string>>(csv, { columns: true });
    expect(records).toHaveLength(1);
    expect(Object.keys(records[0] ?? {})).toEqual([...CSV_COLUMNS]);
    expect(records[0]).toEqual({
      id: 'event_7',
      organization_id: 'org_1',
      occurred_at: '2026-01-01T00:00:00.000Z',
      action: 'user.signed_in',
      version: '1',
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
      seq: '7',
      hash: 'hash7',
    });
  });

  it('quotes per RFC 4180 and neutralises formulas, across chunks', async () => {
    const names = ['=1+1', '+1', '-1', '@x', '\tx', '\rx', 'a,b', 'say "hi"', 'line\nbreak', 'ok', '＝1'];
    const csv = await csvText([names.slice(0, 5).map((name, i) => csvRow(i + 1, { actor: { id: 'u', type: 'user', name } })), names.slice(5).map((name, i) => csvRow(i + 6, { actor: { id: 'u', type: 'user', name } }))]);
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
    const events = tricky.map((value, i) =>
      event(i + 1, {
        action: `user.${value}`,
        actor: { id: value === '' ? 'u' : value, type: 'user', name: value, metadata: { note: value } },
        targets: [{ id: `t,${value}`, type: value === '' ? 'x' : value }],
        context: { location: value, user_agent: i % 2 === 0 ? value : null },
        metadata: { value, n: -i },
        version: i % 3 === 0 ? -1 : 1,
      }),
    );
    // The reference reads the document as it is stored (jsonb orders keys), as the export always did.
    const records = events.map((e, i) => documentedRecord(i + 1, JSON.parse(jsonbText(e)) as AuditEvent));
    const expected = stringify(records, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: true });
    expect(CSV_HEADER + csvLines(events.map((e, i) => csvRow(i + 1, e)))).toBe(expected);
  });

  it('writes the header alone when there are no events', async () => {
    expect(await csvText([])).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
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
