import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import { openPostgres } from '../../src/db/postgres.js';
import { CSV_COLUMNS } from '../../src/export/export.format.js';
import type { ExportFilters } from '../../src/export/export.schema.js';
import { openExportStream } from '../../src/export/export.service.js';
import type { AuditEvent } from '../../src/ingest/event.schema.js';
import { describeEachBackendWith } from '../helpers/app.js';
import { createTestDb, postgresAvailability } from '../helpers/db.js';
import { adminUrl, postgresUrlFor } from '../helpers/postgres-url.js';

// The CSV is written by PostgreSQL (COPY … FORMAT csv, see csvWindowQuery); these tests hold it, on both
// backends, to an independent reference: csv-stringify with the documented options over the documented
// columns, JSON columns being the stored jsonb text.

const ORG = 'org_01CSVTEST00000000000000000';
const OCCURRED = '2026-10-01T12:00:00.000Z';
const FILTERS: ExportFilters = {
  range_start: '2026-10-01T00:00:00.000Z',
  range_end: '2026-10-02T00:00:00.000Z',
  actions: [],
  actor_names: [],
  actor_ids: [],
  target_types: [],
  metadata: {},
};

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

// Every kind of cell content that quoting or formula neutralising must handle (PostgreSQL text cannot hold NUL).
const TRICKY = ['', 'plain', '=1+1', '+1', '-1', '-', '@x', '\tx', '\rx', '\nx', 'a,b', ',', 'say "hi"', '"', 'line\nbreak', 'cr\rlf\r\n', '\r\n',
  '＝1', '＋', '－', '＠', "'quoted", ' lead', 'tail ', 'é ü 中文 🎉', 'a\u2028b', 'x"=,', '\\back\\slash', "it's"];

function trickyEvent(seq: number, value: string): AuditEvent {
  return {
    id: `event_${String(seq).padStart(4, '0')}`,
    organization_id: ORG,
    action: `user.${value}`,
    occurred_at: OCCURRED,
    version: seq % 3 === 0 ? -1 : 1,
    actor: { id: value === '' ? 'u' : value, type: 'user', name: value, metadata: { note: value } },
    // None to three targets: the CSV reads one or two by position and joins more in a subquery.
    targets: [{ id: `t,${value}`, type: value === '' ? 'x' : value }, { id: 'second', type: 'team' }, { id: value, type: '=cmd' }].slice(0, seq % 4),
    context: { location: value, user_agent: seq % 2 === 0 ? value : null },
    metadata: { value, n: -seq },
  };
}

async function insertEvents(db: Db, events: readonly AuditEvent[]): Promise<void> {
  for (const [i, event] of events.entries()) {
    await db.query(
      `insert into events (organization_id, seq, id, occurred_at, action, actor_id, actor_name, tags, search_text, data, prev_hash, hash)
       values ($1, $2, $3, $4, $5, $6, $7, $8, '', $9::jsonb, $10, $11)`,
      [event.organization_id, i + 1, event.id, event.occurred_at, event.action, event.actor.id, event.actor.name ?? null,
        [`an:${event.actor.name ?? ''}`], JSON.stringify(event), `hash${i}`, `hash${i + 1}`],
    );
  }
}

/** The documented columns of a stored event, as csv-stringify writes them with the documented options. */
function referenceCsv(events: readonly { seq: number; event: AuditEvent }[]): string {
  const records = events.map(({ seq, event: e }) => [
    e.id, e.organization_id, e.occurred_at, e.action, e.version, e.actor.id, e.actor.type, e.actor.name ?? '',
    jsonbText(e.actor.metadata ?? {}), jsonbText(e.targets), e.targets.map((t) => t.id).join(','), e.targets.map((t) => t.type).join(','),
    e.context.location, e.context.user_agent ?? '', jsonbText(e.metadata ?? {}), seq, `hash${seq}`,
  ]);
  return stringify(records, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: true });
}

async function exportCsv(db: Db, filters: ExportFilters, csvWindow: number, csvBufferBytes?: number): Promise<{ text: string; rows: number }> {
  let rows = 0;
  const { body, counted } = openExportStream(db, { id: null, organization_id: ORG, format: 'csv', filters }, { gzip: false, csvWindow, csvBufferBytes }, async (progress) => {
    rows = progress.rowsWritten;
  });
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  await counted;
  return { text: Buffer.concat(chunks).toString('utf8'), rows };
}

async function startDb(kind: 'pglite' | 'postgres'): Promise<{ db: Db; close(): Promise<void> }> {
  const testDb = await createTestDb(kind);
  await insertEvents(testDb.db, TRICKY.map((value, i) => trickyEvent(i + 1, value)));
  return { db: testDb.db, close: () => testDb.drop() };
}

describeEachBackendWith('CSV export bytes', startDb, (ctx) => {
  const stored = TRICKY.map((value, i) => ({ seq: i + 1, event: JSON.parse(JSON.stringify(trickyEvent(i + 1, value))) as AuditEvent }));

  it('writes byte for byte what csv-stringify writes with escape_formulas and CRLF records, in any window size', async () => {
    const expected = referenceCsv(stored);
    for (const window of [1, 4, 1_000]) {
      const { text, rows } = await exportCsv(ctx().db, FILTERS, window);
      expect(rows, `window ${window}`).toBe(TRICKY.length);
      expect(text, `window ${window}`).toBe(expected);
      // Windows larger than the memory buffer stream through the quote-tracking framer instead.
      const streamed = await exportCsv(ctx().db, FILTERS, window, 1);
      expect(streamed, `window ${window}, streamed`).toEqual({ text: expected, rows: TRICKY.length });
    }
    // And a CSV reader gets every value back (neutralised where it starts like a formula).
    const parsed = parse<Record<string, string>>(expected, { columns: true });
    expect(parsed.map((record) => record.actor_name)).toEqual(TRICKY.map((value) => (/^[=+\-@\t\r＝＋－＠]/.test(value) ? `'${value}` : value)));
    expect(parsed.map((record) => JSON.parse(record.metadata ?? '') as unknown)).toEqual(stored.map(({ event }) => event.metadata));
  });

  it('applies filters whose values hold quotes and backslashes as data (COPY takes them as literals)', async () => {
    const wanted = ["it's", '\\back\\slash', 'say "hi"'];
    const byAction = await exportCsv(ctx().db, { ...FILTERS, actions: wanted.map((value) => `user.${value}`) }, 3);
    expect(byAction.text).toBe(referenceCsv(stored.filter(({ event }) => wanted.includes(event.actor.name ?? ''))));
    const byName = await exportCsv(ctx().db, { ...FILTERS, actor_names: ["x'); drop table events; --", "it's"] }, 3);
    expect(parse(byName.text, { columns: true })).toHaveLength(1);
    expect((await ctx().db.query<{ n: number }>('select count(*)::int as n from events'))[0]?.n).toBe(TRICKY.length);
  });

  it('writes the header alone when nothing matches', async () => {
    const { text, rows } = await exportCsv(ctx().db, { ...FILTERS, actions: ['nothing.matches'] }, 5);
    expect(text).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    expect(rows).toBe(0);
  });
});

// PostgreSQL databases need not be UTF-8 (initdb under a C locale makes SQL_ASCII), where ascii() answers a
// multibyte character's first byte: the full-width formula starts must still be neutralised there.
describe.runIf(postgresAvailability().available)('CSV export in a SQL_ASCII database', () => {
  const name = `verity_test_sqlascii_${randomBytes(4).toString('hex')}`;
  let db: Db | undefined;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`create database ${name} template template0 encoding 'SQL_ASCII' lc_collate 'C' lc_ctype 'C'`);
    await admin.end();
    db = await openPostgres({ connectionString: postgresUrlFor(name), poolSize: 2 });
    // The events table's columns as the migrations define them, without the indexes (pg_trgm is not needed here).
    await db.exec(`create table events (organization_id text not null, seq bigint not null, id text not null, occurred_at timestamptz not null,
      received_at timestamptz not null default now(), action text not null, actor_id text not null, actor_name text, tags text[] not null,
      search_text text not null, data jsonb not null, prev_hash text not null, hash text not null, primary key (organization_id, seq))`);
    await insertEvents(db, TRICKY.map((value, i) => trickyEvent(i + 1, value)));
  });

  afterAll(async () => {
    await db?.close();
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it('neutralises the same cells as in UTF-8', async () => {
    const { text } = await exportCsv(db as Db, FILTERS, 1_000);
    const names = parse<Record<string, string>>(text, { columns: true }).map((record) => record.actor_name);
    expect(names).toEqual(TRICKY.map((value) => (/^[=+\-@\t\r＝＋－＠]/.test(value) ? `'${value}` : value)));
  });
});
