import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GenericServerException, NotFoundException, WorkOS } from '@workos-inc/node';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { DbKind } from '../../src/db/db.js';
import { openPglite } from '../../src/db/pglite.js';
import { CSV_COLUMNS } from '../../src/export/export.format.js';
import type { ExportView } from '../../src/export/export.schema.js';
import { openExportStream } from '../../src/export/export.service.js';
import { ADMIN_KEY, describeEachBackend, describeEachBackendWith, makeEvent, startTestApp, type Response, type TestApp } from '../helpers/app.js';
import { startFakeS3, type FakeS3 } from '../fakes/s3-server.js';
import { describeEachBackendListening } from '../helpers/server.js';
import { runCli, startServerProcess } from '../helpers/process.js';

type EventView = {
  id: string;
  organization_id: string;
  action: string;
  occurred_at: string;
  version: number;
  actor: { id: string; type: string; name?: string | null; metadata?: Record<string, unknown> };
  targets: { id: string; type: string }[];
  context: { location: string; user_agent?: string | null };
  metadata: Record<string, unknown>;
  seq: number;
  hash: string;
};
type Page = { data: EventView[]; list_metadata: { after: string | null } };

const dataDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dataDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

const at = (minute: number): string => new Date(Date.UTC(2026, 9, 1, 12, minute)).toISOString();
const RANGE = { range_start: '2026-10-01T00:00:00Z', range_end: '2026-10-02T00:00:00Z' };

/** Every event of an organization through the search API, in log order. */
async function allEvents(ctx: TestApp, org: string): Promise<EventView[]> {
  const events: EventView[] = [];
  let after: string | null = null;
  do {
    const page: Response<Page> = await ctx.call<Page>('GET', `/audit_logs/events?organization_id=${org}&order=asc&limit=100${after === null ? '' : `&after=${after}`}`);
    events.push(...page.body.data);
    after = page.body.list_metadata.after;
  } while (after !== null);
  return events.sort((a, b) => a.seq - b.seq);
}

/** What the CSV holds for an event (before formula neutralisation). */
function expectedRecord(event: EventView): Record<string, string> {
  return {
    id: event.id,
    organization_id: event.organization_id,
    occurred_at: event.occurred_at,
    action: event.action,
    version: String(event.version),
    actor_id: event.actor.id,
    actor_type: event.actor.type,
    actor_name: event.actor.name ?? '',
    actor_metadata: JSON.stringify(event.actor.metadata ?? {}),
    targets: JSON.stringify(event.targets),
    target_ids: event.targets.map((t) => t.id).join(','),
    target_types: event.targets.map((t) => t.type).join(','),
    context_location: event.context.location,
    context_user_agent: event.context.user_agent ?? '',
    metadata: JSON.stringify(event.metadata),
    seq: String(event.seq),
    hash: event.hash,
  };
}

const JSON_COLUMNS = ['actor_metadata', 'targets', 'metadata'];

/**
 * The CSV's records, with the JSON cells (jsonb text: a space after each `:` and `,`) written compactly so
 * they compare with JSON.stringify of the API's view, whose key order is jsonb's too.
 */
function parseCsv(text: string): Record<string, string>[] {
  return parse<Record<string, string>>(text, { columns: true }).map((record) =>
    Object.fromEntries(Object.entries(record).map(([key, value]) => [key, JSON_COLUMNS.includes(key) ? JSON.stringify(JSON.parse(value)) : value])),
  );
}

/** The event lines of an NDJSON export (the integrity trailer lines that follow them left out). */
function eventLines(file: Buffer): EventView[] {
  return file
    .toString('utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '') // an export with no events is an empty file
    .map((line) => JSON.parse(line) as EventView & { object: string })
    .filter((line) => line.object === 'audit_log_event');
}

function neutralised(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

async function createExport(ctx: TestApp, body: Record<string, unknown>, key?: string): Promise<ExportView> {
  const created = await ctx.call<ExportView>('POST', '/audit_logs/exports', { body, ...(key === undefined ? {} : { key }) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

/** Creates an export, runs the job queue, and returns the ready export. */
async function readyExport(ctx: TestApp, body: Record<string, unknown>): Promise<ExportView> {
  const created = await createExport(ctx, body);
  await ctx.services.jobs.runDue();
  const ready = await ctx.call<ExportView>('GET', `/audit_logs/exports/${created.id}`);
  expect(ready.status).toBe(200);
  expect(ready.body.state, JSON.stringify(ready.body)).toBe('ready');
  return ready.body;
}

/** Fetches a signed url through the app (it is absolute, on config.publicUrl). */
async function download(ctx: TestApp, url: string): Promise<{ status: number; headers: Response['headers']; raw: Buffer; json: Record<string, unknown> | undefined }> {
  const link = new URL(url);
  const response = await ctx.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
  const json = String(response.headers['content-type'] ?? '').includes('application/json') ? response.json<Record<string, unknown>>() : undefined;
  return { status: response.statusCode, headers: response.headers, raw: response.rawPayload, json };
}

async function downloadCsv(ctx: TestApp, body: Record<string, unknown>): Promise<{ text: string; rows: Record<string, string>[] }> {
  const exported = await readyExport(ctx, body);
  const file = await download(ctx, exported.url ?? '');
  expect(file.status).toBe(200);
  const text = file.raw.toString('utf8');
  return { text, rows: parseCsv(text) };
}

const TRICKY_NAMES = ['=HYPERLINK("http://evil.example","x")', '+SUM(A1)', '-2+3', '@cmd', '\tTabbed', '\rReturn', 'Doe, Jane', 'He said "hi"', 'two\nlines', 'plain'];

describeEachBackend(
  'exports',
  (ctx) => {
    let org = '';
    let events: EventView[] = [];

    it('sets up an organization with events that need quoting and neutralising', async () => {
      org = await ctx().createOrg('Export Co');
      const batch = TRICKY_NAMES.map((name, i) =>
        makeEvent({
          action: i % 2 === 0 ? 'user.signed_in' : 'document.deleted',
          occurred_at: at(i),
          actor: { id: `actor_${i % 3}`, type: 'user', name, metadata: { role: i % 2 === 0 ? 'admin' : 'member', n: i } },
          targets: i === 4 ? [{ id: 'doc_1', type: 'document' }, { id: 'team_1', type: 'team' }] : [{ id: `doc_${i}`, type: i % 3 === 0 ? 'document' : 'team' }],
          context: { location: '203.0.113.7', user_agent: i === 3 ? null : 'Mozilla/5.0, "quoted"' },
          metadata: { plan: i < 5 ? 'pro' : 'free', attempts: i, note: i === 0 ? '=1+1' : 'ok' },
        }),
      );
      // Outside the range used below.
      batch.push(makeEvent({ occurred_at: '2026-09-30T23:59:59.999Z' }), makeEvent({ occurred_at: '2026-10-02T00:00:00.000Z' }));
      const response = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: batch } });
      expect(response.status).toBe(200);
      const [start, end] = [Date.parse(RANGE.range_start), Date.parse(RANGE.range_end)];
      events = (await allEvents(ctx(), org)).filter((e) => Date.parse(e.occurred_at) >= start && Date.parse(e.occurred_at) < end);
      expect(events).toHaveLength(TRICKY_NAMES.length);
    });

    it('creates a pending export in the WorkOS shape, then serves it ready with a signed absolute url', async () => {
      const created = await createExport(ctx(), { organization_id: org, ...RANGE });
      expect(created).toMatchObject({ object: 'audit_log_export', state: 'pending', rows_written: 0, percent: 0, format: 'csv', gzip: false });
      expect(created.id).toMatch(/^audit_log_export_[0-9A-Z]{26}$/);
      expect(created.url).toBeUndefined();
      expect(Date.parse(created.created_at)).not.toBeNaN();
      expect(Date.parse(created.updated_at)).not.toBeNaN();
      const pending = await ctx().call<ExportView>('GET', `/audit_logs/exports/${created.id}`);
      expect(pending.body).toMatchObject({ id: created.id, state: 'pending' });
      expect(pending.body.url).toBeUndefined();

      expect(await ctx().services.jobs.runDue()).toBeGreaterThanOrEqual(1);
      const ready = await ctx().call<ExportView>('GET', `/audit_logs/exports/${created.id}`);
      expect(ready.body).toMatchObject({ state: 'ready', rows_written: events.length, rows_total: events.length, percent: 100 });
      const url = new URL(ready.body.url ?? '');
      expect(`${url.protocol}//${url.host}`).toBe(ctx().config.publicUrl);
      expect(url.pathname).toBe(`/audit_logs/exports/${created.id}/download`);
      expect(url.searchParams.get('expires')).toMatch(/^\d+$/);
      expect(Number(url.searchParams.get('expires')) * 1000 - Date.now()).toBeGreaterThan(9 * 60_000);
      expect(Number(url.searchParams.get('expires')) * 1000 - Date.now()).toBeLessThanOrEqual(10 * 60_000);

      // A fresh link on every GET (a later expiry, another signature), and the first still works.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const again = await ctx().call<ExportView>('GET', `/audit_logs/exports/${created.id}`);
      expect(again.body.url).not.toBe(ready.body.url);
      expect((await download(ctx(), ready.body.url ?? '')).status).toBe(200);
    });

    it('writes the CSV with the exact columns, one record per event in log order, RFC 4180 quoted and formula-safe', async () => {
      const exported = await readyExport(ctx(), { organization_id: org, ...RANGE });
      const file = await download(ctx(), exported.url ?? '');
      expect(file.status).toBe(200);
      expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(file.headers['content-disposition']).toBe('attachment; filename="audit_logs_export.csv"');
      expect(Number(file.headers['content-length'])).toBe(file.raw.length);
      const text = file.raw.toString('utf8');
      expect(text.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
      expect(text.endsWith('\r\n')).toBe(true);

      const rows = parseCsv(text);
      expect(Object.keys(rows[0] ?? {})).toEqual([...CSV_COLUMNS]);
      const expected = events.map((event) => {
        const record = expectedRecord(event);
        return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, neutralised(value)]));
      });
      expect(rows).toEqual(expected);

      // Neutralised cells, and quoting of commas, quotes and line breaks, byte for byte.
      const names = rows.map((row) => row.actor_name);
      expect(names).toEqual([
        `'=HYPERLINK("http://evil.example","x")`,
        "'+SUM(A1)",
        "'-2+3",
        "'@cmd",
        "'\tTabbed",
        "'\rReturn",
        'Doe, Jane',
        'He said "hi"',
        'two\nlines',
        'plain',
      ]);
      expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
      expect(text).toContain('"Doe, Jane"');
      expect(text).toContain('"He said ""hi"""');
      expect(text).toContain('"two\nlines"');
      expect(text).toContain(`"'\rReturn"`);
      // JSON cells start with { or [ and are left alone; they hold the stored jsonb text. The null user agent
      // is an empty cell.
      expect(JSON.parse(rows[0]?.metadata ?? '')).toEqual({ plan: 'pro', attempts: 0, note: '=1+1' });
      expect(parse<Record<string, string>>(text, { columns: true })[0]?.metadata).toBe('{"note": "=1+1", "plan": "pro", "attempts": 0}');
      expect(rows[3]?.context_user_agent).toBe('');
      expect(rows[4]).toMatchObject({ target_ids: 'doc_1,team_1', target_types: 'document,team' });
    });

    it('writes NDJSON: each event as the search API returns it, in log order, then the integrity trailer', async () => {
      const exported = await readyExport(ctx(), { organization_id: org, ...RANGE, format: 'ndjson' });
      expect(exported.format).toBe('ndjson');
      const file = await download(ctx(), exported.url ?? '');
      expect(file.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(file.headers['content-disposition']).toBe('attachment; filename="audit_logs_export.ndjson"');
      const lines = file.raw.toString('utf8').split('\n');
      expect(lines.pop()).toBe('');
      const parsed = lines.map((line) => JSON.parse(line) as { object: string });
      expect(parsed.slice(0, events.length)).toEqual(events);
      expect(Object.keys(parsed[0] ?? {})).toEqual(expect.arrayContaining(['object', 'id', 'seq', 'hash', 'prev_hash', 'received_at']));
      // Whatever follows the events is trailer (src/integrity), never another event.
      expect(parsed.slice(events.length).filter((line) => line.object === 'audit_log_event')).toEqual([]);
    });

    it('gzips either format on request', async () => {
      const csv = await readyExport(ctx(), { organization_id: org, ...RANGE, gzip: true });
      const csvFile = await download(ctx(), csv.url ?? '');
      expect(csvFile.headers['content-type']).toBe('application/gzip');
      expect(csvFile.headers['content-disposition']).toBe('attachment; filename="audit_logs_export.csv.gz"');
      const rows = parseCsv(gunzipSync(csvFile.raw).toString('utf8'));
      expect(rows.map((row) => row.id)).toEqual(events.map((event) => event.id));

      const ndjson = await readyExport(ctx(), { organization_id: org, ...RANGE, format: 'ndjson', gzip: true });
      const ndjsonFile = await download(ctx(), ndjson.url ?? '');
      expect(ndjsonFile.headers['content-disposition']).toBe('attachment; filename="audit_logs_export.ndjson.gz"');
      expect(eventLines(gunzipSync(ndjsonFile.raw)).map((event) => event.id)).toEqual(events.map((event) => event.id));
    });

    it.each([
      ['actions', { actions: ['document.deleted'] }, (e: EventView) => e.action === 'document.deleted'],
      ['actor ids', { actor_ids: ['actor_0', 'actor_2'] }, (e: EventView) => ['actor_0', 'actor_2'].includes(e.actor.id)],
      ['actor names (a name may hold a comma)', { actor_names: ['Doe, Jane', 'plain'] }, (e: EventView) => ['Doe, Jane', 'plain'].includes(e.actor.name ?? '')],
      ['the deprecated actors alias', { actors: ['plain'] }, (e: EventView) => e.actor.name === 'plain'],
      ['target types', { targets: ['document'] }, (e: EventView) => e.targets.some((t) => t.type === 'document')],
      ['target ids, any of several', { target_ids: ['doc_1', 'doc_3'] }, (e: EventView) => e.targets.some((t) => t.id === 'doc_1' || t.id === 'doc_3')],
      ['metadata on the event (numbers as text)', { metadata: { attempts: 3 } }, (e: EventView) => e.metadata.attempts === 3],
      ['metadata on the actor, any of several values', { metadata: { role: 'member', n: [1, 3, 4] } }, (e: EventView) => e.actor.metadata?.role === 'member' && [1, 3, 4].includes(Number(e.actor.metadata.n))],
      ['metadata keys ANDed', { metadata: { plan: 'pro', role: ['admin'] } }, (e: EventView) => e.metadata.plan === 'pro' && e.actor.metadata?.role === 'admin'],
      ['filters combined', { actions: ['user.signed_in'], targets: ['team'] }, (e: EventView) => e.action === 'user.signed_in' && e.targets.some((t) => t.type === 'team')],
      ['a narrower range [start, end)', { range_start: at(2), range_end: at(5) }, (e: EventView) => e.occurred_at >= at(2) && e.occurred_at < at(5)],
    ])('filters by %s', async (_label, filter, keep) => {
      const { rows } = await downloadCsv(ctx(), { organization_id: org, ...RANGE, ...filter });
      const expected = events.filter(keep).map((event) => event.id);
      expect(expected.length).toBeGreaterThan(0);
      expect(rows.map((row) => row.id)).toEqual(expected);
    });

    it('exports the whole range including its first instant and excluding its end', async () => {
      const everything = await allEvents(ctx(), org);
      const { rows } = await downloadCsv(ctx(), { organization_id: org, range_start: '2026-09-30T23:59:59.999Z', range_end: '2026-10-02T00:00:00.000Z' });
      expect(rows.map((row) => row.id)).toEqual(everything.filter((e) => e.occurred_at !== '2026-10-02T00:00:00.000Z').map((e) => e.id));
    });

    it('filters by free text exactly as search does, in CSV and NDJSON, and echoes it in filters.q', async () => {
      for (const q of ['doe, JANE', 'said "hi', '=1+1', 'ok plain', '50%_']) {
        const search = await ctx().call<Page>('GET', `/audit_logs/events?organization_id=${org}&limit=100&order=asc&range_start=${RANGE.range_start}&range_end=${RANGE.range_end}&q=${encodeURIComponent(q)}`);
        const expected = search.body.data.map((e) => e.id).sort();
        const csv = await readyExport(ctx(), { organization_id: org, ...RANGE, q });
        expect(csv.filters).toMatchObject({ q });
        expect(parseCsv((await download(ctx(), csv.url ?? '')).raw.toString('utf8')).map((row) => row.id).sort(), q).toEqual(expected);
        const ndjson = await readyExport(ctx(), { organization_id: org, ...RANGE, q, format: 'ndjson' });
        expect(eventLines((await download(ctx(), ndjson.url ?? '')).raw).map((e) => e.id).sort(), q).toEqual(expected);
      }
      const tooMany = await ctx().call('POST', '/audit_logs/exports', { body: { organization_id: org, ...RANGE, q: 'a b c d e f g h i j k' } });
      // The same answer search gives for too many words.
      expect(tooMany.status).toBe(400);
      expect(tooMany.body).toMatchObject({ code: 'invalid_query', message: 'q may hold at most 10 words.' });
    });

    it('writes just the header when nothing matches', async () => {
      const exported = await readyExport(ctx(), { organization_id: org, ...RANGE, actions: ['never.happened'] });
      expect(exported).toMatchObject({ rows_written: 0, rows_total: 0, percent: 100 });
      const file = await download(ctx(), exported.url ?? '');
      expect(file.raw.toString('utf8')).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    });

    it.each([
      ['a start after the end', { range_start: at(5), range_end: at(1) }],
      ['an empty range', { range_start: at(5), range_end: at(5) }],
      ['a date that is not one', { range_start: 'yesterday', range_end: at(5) }],
      ['an impossible date', { range_start: '2026-13-45T00:00:00Z', range_end: at(5) }],
    ])('answers 400 in the WorkOS shape for %s', async (_label, range) => {
      const response = await ctx().call('POST', '/audit_logs/exports', { body: { organization_id: org, ...range } });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ message: 'Invalid date range', code: 'invalid_audit_log_export_range_date' });
    });

    it('answers 422 for missing fields and unknown formats, 404 for an unknown organization', async () => {
      const missing = await ctx().call('POST', '/audit_logs/exports', { body: { organization_id: org } });
      expect(missing.status).toBe(422);
      expect((await ctx().call('POST', '/audit_logs/exports', { body: { organization_id: org, ...RANGE, format: 'xlsx' } })).status).toBe(422);
      expect((await ctx().call('POST', '/audit_logs/exports', { body: { organization_id: org, ...RANGE, metadata: { 'bad key': 'x' } } })).status).toBe(422);
      const unknown = await ctx().call('POST', '/audit_logs/exports', { body: { organization_id: 'org_unknown', ...RANGE } });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ message: "Organization not found: 'org_unknown'." });
    });

    it('answers 404 in the WorkOS shape for an unknown export', async () => {
      const response = await ctx().call('GET', '/audit_logs/exports/audit_log_export_01GBZK5MP7TD1YCFQHFR22180V');
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ message: "Audit Log Export not found: 'audit_log_export_01GBZK5MP7TD1YCFQHFR22180V'." });
    });

    it('serves the file only with a genuine, unexpired signature (403 JSON otherwise), without an API key', async () => {
      const exported = await readyExport(ctx(), { organization_id: org, ...RANGE });
      const url = new URL(exported.url ?? '');
      const expires = url.searchParams.get('expires') ?? '';
      const signature = url.searchParams.get('signature') ?? '';
      const base = url.pathname;
      const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      const other = await readyExport(ctx(), { organization_id: org, ...RANGE, format: 'ndjson' });
      const otherUrl = new URL(other.url ?? '');
      for (const query of [
        `?expires=${expires}&signature=${flipped}`,
        `?expires=${Number(expires) + 60}&signature=${signature}`,
        `?expires=${expires}`,
        `?signature=${signature}`,
        `?expires=${expires}&signature=`,
        // A genuine signature of another export.
        `?expires=${otherUrl.searchParams.get('expires') ?? ''}&signature=${otherUrl.searchParams.get('signature') ?? ''}`,
      ]) {
        const response = await ctx().app.inject({ method: 'GET', url: `${base}${query}` });
        expect(response.statusCode, query).toBe(403);
        expect(response.json()).toMatchObject({ code: 'forbidden', message: expect.stringContaining('invalid or has expired') as unknown });
      }
      // No link at all is a missing credential, like a request without a key.
      for (const query of ['', '?expires=&signature=']) {
        const response = await ctx().app.inject({ method: 'GET', url: `${base}${query}` });
        expect(response.statusCode, query).toBe(401);
        expect(response.json()).toMatchObject({ code: 'unauthorized' });
      }
      // An unknown export with a forged link is the same 403, never a 404 that would confirm ids.
      const ghost = await ctx().app.inject({ method: 'GET', url: `/audit_logs/exports/audit_log_export_ghost/download?expires=${expires}&signature=${signature}` });
      expect(ghost.statusCode).toBe(403);

      // The genuine link works without any Authorization header ...
      expect((await download(ctx(), exported.url ?? '')).status).toBe(200);
      // ... until ten minutes have passed.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 + 1_000 });
      try {
        const expired = await download(ctx(), exported.url ?? '');
        expect(expired.status).toBe(403);
        expect(expired.json).toMatchObject({ code: 'forbidden' });
      } finally {
        vi.useRealTimers();
      }
    });

    it('records each download as an audit event in the system organization', async () => {
      const exported = await readyExport(ctx(), { organization_id: org, ...RANGE });
      const link = new URL(exported.url ?? '');
      const response = await ctx().app.inject({ method: 'GET', url: `${link.pathname}${link.search}`, headers: { 'user-agent': 'export-test/1.0' } });
      expect(response.statusCode).toBe(200);
      const systemOrg = await ctx().services.systemAudit.organizationId();
      const recorded = await ctx().call<Page>('GET', `/audit_logs/events?organization_id=${systemOrg}&actions=audit_log_export.downloaded&target_ids=${exported.id}`);
      expect(recorded.body.data).toHaveLength(1);
      expect(recorded.body.data[0]).toMatchObject({
        actor: { type: 'signed_link' },
        targets: expect.arrayContaining([expect.objectContaining({ id: exported.id, type: 'audit_log_export' }), expect.objectContaining({ id: org, type: 'organization' })]) as unknown,
        context: { user_agent: 'export-test/1.0' },
        metadata: expect.objectContaining({ organization_id: org, format: 'csv' }) as unknown,
      });
      // A refused link is not a download, and neither is HEAD: it answers the GET's headers and transfers nothing.
      await ctx().app.inject({ method: 'GET', url: `${link.pathname}?expires=1&signature=x` });
      const head = await ctx().app.inject({ method: 'HEAD', url: `${link.pathname}${link.search}` });
      expect(head.statusCode).toBe(200);
      expect(head.headers).toMatchObject({
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="audit_logs_export.csv"',
        'content-length': String(response.rawPayload.length),
      });
      expect(head.rawPayload).toHaveLength(0);
      expect((await ctx().app.inject({ method: 'HEAD', url: `${link.pathname}?expires=1&signature=x` })).statusCode).toBe(403);
      expect((await ctx().app.inject({ method: 'HEAD', url: link.pathname })).statusCode).toBe(401);
      const after = await ctx().call<Page>('GET', `/audit_logs/events?organization_id=${systemOrg}&actions=audit_log_export.downloaded&target_ids=${exported.id}`);
      expect(after.body.data).toHaveLength(1);
    });

    it('keeps organizations apart: restricted keys see and export only their own', async () => {
      const otherOrg = await ctx().createOrg('Other Co');
      const ownKey = await ctx().createKey(['events:read'], otherOrg);
      const theirs = await createExport(ctx(), { organization_id: org, ...RANGE });

      const denied = await ctx().call('POST', '/audit_logs/exports', { key: ownKey, body: { organization_id: org, ...RANGE } });
      expect(denied.status).toBe(404);
      expect(denied.body).toEqual({ message: `Organization not found: '${org}'.` });
      const hidden = await ctx().call('GET', `/audit_logs/exports/${theirs.id}`, { key: ownKey });
      expect(hidden.status).toBe(404);
      expect(hidden.body).toEqual({ message: `Audit Log Export not found: '${theirs.id}'.` });

      await ctx().call('POST', '/audit_logs/events', { body: { organization_id: otherOrg, event: makeEvent({ occurred_at: at(1) }) } });
      const mine = await createExport(ctx(), { organization_id: otherOrg, ...RANGE }, ownKey);
      await ctx().services.jobs.runDue();
      const ready = await ctx().call<ExportView>('GET', `/audit_logs/exports/${mine.id}`, { key: ownKey });
      expect(ready.body.state).toBe('ready');
      const rows = parseCsv((await download(ctx(), ready.body.url ?? '')).raw.toString('utf8'));
      expect(rows).toHaveLength(1);
      expect(rows[0]?.organization_id).toBe(otherOrg);

      // A key without events:read may not export at all.
      const writer = await ctx().createKey(['events:write']);
      expect((await ctx().call('POST', '/audit_logs/exports', { key: writer, body: { organization_id: org, ...RANGE } })).status).toBe(403);
      expect((await ctx().call('GET', `/audit_logs/exports/${theirs.id}`, { key: writer })).status).toBe(403);
      expect((await ctx().call('GET', `/audit_logs/exports/${theirs.id}`, { key: null })).status).toBe(401);
    });

    it('marks an export that cannot be written as error (no url), and the job does not retry it forever', async () => {
      const created = await createExport(ctx(), { organization_id: org, ...RANGE });
      // A directory where the finished file is to be renamed to makes the write fail.
      const blocker = path.join(ctx().config.dataDir, 'exports', `${created.id}.csv`);
      mkdirSync(blocker, { recursive: true });
      await ctx().services.jobs.runDue();
      rmSync(blocker, { recursive: true });
      // The partial file of the failed run was removed.
      expect(readdirSync(path.join(ctx().config.dataDir, 'exports')).filter((name) => name.startsWith(created.id))).toEqual([]);
      const failed = await ctx().call<ExportView>('GET', `/audit_logs/exports/${created.id}`);
      expect(failed.body).toMatchObject({ state: 'error', error: expect.stringContaining('could not be written') as unknown });
      expect(failed.body.url).toBeUndefined();
      expect(await ctx().services.jobs.runDue()).toBe(0);
    });

    it('deletes expired export files and objects', async () => {
      const exported = await readyExport(ctx(), { organization_id: org, ...RANGE });
      const file = path.join(ctx().config.dataDir, 'exports', `${exported.id}.csv`);
      expect(existsSync(file)).toBe(true);
      await ctx().testDb.db.query(`update exports set expires_at = now() - interval '1 second' where id = $1`, [exported.id]);
      expect(await ctx().services.exports.cleanup()).toBeGreaterThanOrEqual(1);
      expect(existsSync(file)).toBe(false);
      expect((await ctx().call('GET', `/audit_logs/exports/${exported.id}`)).status).toBe(404);
      expect((await download(ctx(), exported.url ?? '')).status).toBe(404);
      expect(readdirSync(path.join(ctx().config.dataDir, 'exports')).filter((name) => name.startsWith(exported.id))).toEqual([]);
    });

    it('takes the widest range there is (what the portal sends for "All time"): year 1 to the end of 9999', async () => {
      const datedOrg = await ctx().createOrg('Odd Clocks Co');
      for (const occurred_at of ['0001-01-01T10:00:00.000Z', '2026-11-01T00:00:00.000Z', '2099-11-27T10:00:00.000Z', '9999-12-31T23:59:59.998Z']) {
        const sent = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: datedOrg, event: makeEvent({ occurred_at }) } });
        expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      }
      const all = await readyExport(ctx(), { organization_id: datedOrg, range_start: '0001-01-01T00:00:00.000Z', range_end: '9999-12-31T23:59:59.999Z', format: 'ndjson' });
      const lines = eventLines((await download(ctx(), all.url ?? '')).raw);
      expect(lines.map((event) => event.occurred_at)).toEqual(['0001-01-01T10:00:00.000Z', '2026-11-01T00:00:00.000Z', '2099-11-27T10:00:00.000Z', '9999-12-31T23:59:59.998Z']);
    });

    it('exports 20,000 events completely, in constant-size chunks, reporting progress', async () => {
      const bigOrg = await ctx().createOrg('Big Co');
      const base = Date.UTC(2026, 9, 1, 0, 0, 0);
      for (let batch = 0; batch < 20; batch += 1) {
        const batchEvents = Array.from({ length: 1000 }, (_, i) =>
          makeEvent({ occurred_at: new Date(base + (batch * 1000 + i) * 1000).toISOString(), actor: { id: `user_${i % 50}`, type: 'user', name: `User, ${i}` } }),
        );
        const response = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: bigOrg, events: batchEvents } });
        expect(response.status).toBe(200);
      }

      const progress: { rowsWritten: number; rowsTotal: number }[] = [];
      // Windows of 1,000 sequence numbers (the service's default is larger), one COPY each.
      const stream = openExportStream(
        ctx().testDb.db,
        {
          id: null,
          organization_id: bigOrg,
          format: 'csv',
          filters: { range_start: '2026-10-01T00:00:00.000Z', range_end: '2026-10-02T00:00:00.000Z', actions: [], actor_ids: [], actor_names: [], target_types: [], metadata: {} },
        },
        { gzip: false, csvWindow: 1_000 },
        async (p) => {
          progress.push(p);
        },
      );
      // No cell holds a line break here, so line feeds count records (plus the header).
      let lines = 0;
      for await (const chunk of stream.body) for (const byte of chunk as Buffer) if (byte === 0x0a) lines += 1;
      expect(lines).toBe(20_001);
      const steps = Array.from({ length: 20_000 / 1_000 + 1 }, (_, i) => i * 1_000);
      expect(progress).toEqual(steps.map((rowsWritten) => ({ rowsWritten, rowsTotal: 20_000 })));

      const created = await createExport(ctx(), { organization_id: bigOrg, ...RANGE, format: 'csv' });
      const seen: number[] = [];
      const running = ctx().services.jobs.runDue();
      for (;;) {
        const current = await ctx().call<ExportView>('GET', `/audit_logs/exports/${created.id}`);
        seen.push(current.body.percent);
        if (current.body.state !== 'pending') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await running;
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      const ready = await ctx().call<ExportView>('GET', `/audit_logs/exports/${created.id}`);
      expect(ready.body).toMatchObject({ state: 'ready', rows_written: 20_000, rows_total: 20_000, percent: 100 });
      const rows = parseCsv((await download(ctx(), ready.body.url ?? '')).raw.toString('utf8'));
      expect(rows).toHaveLength(20_000);
      expect(rows.map((row) => Number(row.seq))).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    }, 120_000);
  },
  { VERITY_DATA_DIR: tempDir('verity-exports-') },
);

interface S3TestApp extends TestApp {
  s3: FakeS3;
}

async function startWithS3(kind: DbKind): Promise<S3TestApp> {
  const s3 = await startFakeS3({ buckets: ['verity-exports'] });
  try {
    const app = await startTestApp(kind, {
      VERITY_DATA_DIR: tempDir('verity-exports-s3-'),
      VERITY_EXPORT_S3_BUCKET: 'verity-exports',
      VERITY_EXPORT_S3_REGION: 'us-east-1',
      VERITY_EXPORT_S3_ENDPOINT: s3.endpoint,
      VERITY_EXPORT_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      VERITY_EXPORT_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      VERITY_EXPORT_S3_FORCE_PATH_STYLE: 'true',
      VERITY_EXPORT_S3_PREFIX: 'audit/exports/',
    });
    return {
      ...app,
      s3,
      async close() {
        await app.close();
        await s3.close();
      },
    };
  } catch (error) {
    await s3.close();
    throw error;
  }
}

describeEachBackendWith('exports to an S3-compatible bucket', startWithS3, (ctx) => {
  it('writes the file to the bucket, serves it through the signed link and deletes it when expired', async () => {
    const org = await ctx().createOrg('Bucket Co');
    const batch = Array.from({ length: 30 }, (_, i) => makeEvent({ occurred_at: at(i) }));
    await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: batch } });
    const exported = await readyExport(ctx(), { organization_id: org, ...RANGE, format: 'ndjson', gzip: true });
    const key = `audit/exports/${exported.id}.ndjson.gz`;
    expect(await ctx().s3.listKeys('verity-exports', 'audit/exports/')).toContain(key);
    const stored = await ctx().s3.getObject('verity-exports', key);
    expect(stored.contentType).toBe('application/gzip');

    const file = await download(ctx(), exported.url ?? '');
    expect(file.status).toBe(200);
    expect(file.raw.equals(stored.body)).toBe(true);
    expect(eventLines(gunzipSync(file.raw))).toHaveLength(30);
    // Nothing went to the data directory.
    expect(existsSync(path.join(ctx().config.dataDir, 'exports'))).toBe(false);

    await ctx().testDb.db.query(`update exports set expires_at = now() - interval '1 second' where id = $1`, [exported.id]);
    await ctx().services.exports.cleanup();
    expect(await ctx().s3.listKeys('verity-exports', 'audit/exports/')).not.toContain(key);
    expect((await ctx().call('GET', `/audit_logs/exports/${exported.id}`)).status).toBe(404);
  });
});

describeEachBackendListening('exports through the WorkOS SDK', (ctx) => {
  it('creates and gets an export with the official client', async () => {
    const workos = new WorkOS(ADMIN_KEY, { apiHostname: '127.0.0.1', port: ctx().port, https: false });
    const org = await ctx().createOrg('SDK Export Co');
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ occurred_at: at(1) }) } });
    const created = await workos.auditLogs.createExport({
      organizationId: org,
      rangeStart: new Date(RANGE.range_start),
      rangeEnd: new Date(RANGE.range_end),
      actions: ['user.signed_in'],
      actorNames: [],
      targets: ['team'],
    });
    expect(created).toMatchObject({ object: 'audit_log_export', state: 'pending' });
    await ctx().services.jobs.runDue();
    const ready = await workos.auditLogs.getExport(created.id);
    expect(ready.state).toBe('ready');
    const link = new URL(ready.url ?? '');
    const file = await fetch(new URL(`${link.pathname}${link.search}`, ctx().baseUrl));
    expect(file.status).toBe(200);
    expect(parseCsv(await file.text()).length).toBe(1);

    const badRange = await workos.auditLogs
      .createExport({ organizationId: org, rangeStart: new Date(RANGE.range_end), rangeEnd: new Date(RANGE.range_start) })
      .catch((error: unknown) => error);
    // WorkOS's body has a code but no errors list, which the SDK surfaces as a generic 400.
    expect(badRange).toBeInstanceOf(GenericServerException);
    expect(badRange).toMatchObject({ status: 400, message: 'Invalid date range', rawData: { code: 'invalid_audit_log_export_range_date' } });
    const missing = await workos.auditLogs.getExport('audit_log_export_missing').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundException);
  });
});

describe('verity export (CLI)', () => {
  it('exports directly from the embedded database, and through --url while a server holds it', async () => {
    const dir = tempDir('verity-cli-export-');
    const env = { VERITY_DATA_DIR: dir, VERITY_BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'warn' };
    // A first start initialises a fresh embedded database: under the full suite on two cores that took over 30 s once in CI.
    const server = await startServerProcess(env, 120_000);
    let org = '';
    try {
      const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
      const created = await fetch(`${server.url}/organizations`, { method: 'POST', headers, body: JSON.stringify({ name: 'CLI Export Co' }) });
      org = ((await created.json()) as { id: string }).id;
      const batch = Array.from({ length: 25 }, (_, i) => makeEvent({ occurred_at: at(i), action: i % 5 === 0 ? 'user.deleted' : 'user.signed_in' }));
      const ingested = await fetch(`${server.url}/audit_logs/events/batch`, { method: 'POST', headers, body: JSON.stringify({ organization_id: org, events: batch }) });
      expect(ingested.status).toBe(200);

      // The server holds the data directory: direct mode is refused with advice to use --url.
      const refused = await runCli(['export', '--organization', org, '--from', RANGE.range_start, '--to', RANGE.range_end, '--out', path.join(dir, 'x.csv')], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--url');

      const out = path.join(dir, 'remote.ndjson');
      const remote = await runCli(
        ['export', '--organization', org, '--from', RANGE.range_start, '--to', RANGE.range_end, '--format', 'ndjson', '--actions', 'user.deleted', '--out', out, '--url', server.url, '--api-key', ADMIN_KEY],
        env,
      );
      expect(remote.code, remote.stderr).toBe(0);
      expect(remote.stderr).toMatch(/\[#+\] 100% 5\/5 events/);
      const lines = eventLines(readFileSync(out));
      expect(lines).toHaveLength(5);
      expect(lines.every((event) => event.action === 'user.deleted')).toBe(true);
    } finally {
      await server.stop();
    }

    const out = path.join(dir, 'direct.csv.gz');
    const direct = await runCli(['export', '--organization', org, '--from', RANGE.range_start, '--to', RANGE.range_end, '--gzip', '--out', out], env);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toMatch(/100% 25\/25 events/);
    expect(direct.stderr).toContain('Exported 25 events');
    const rows = parseCsv(gunzipSync(readFileSync(out)).toString('utf8'));
    expect(rows).toHaveLength(25);
    expect(Object.keys(rows[0] ?? {})).toEqual([...CSV_COLUMNS]);

    // NDJSON written directly carries the signed integrity trailer too.
    const ndjsonOut = path.join(dir, 'direct.ndjson');
    const ndjson = await runCli(['export', '--organization', org, '--from', RANGE.range_start, '--to', RANGE.range_end, '--format', 'ndjson', '--out', ndjsonOut], env);
    expect(ndjson.code, ndjson.stderr).toBe(0);
    const ndjsonLines = readFileSync(ndjsonOut, 'utf8').trim().split('\n');
    expect(eventLines(readFileSync(ndjsonOut))).toHaveLength(25);
    expect(ndjsonLines.length).toBeGreaterThan(25);

    const bad = await runCli(['export', '--organization', org, '--from', RANGE.range_end, '--to', RANGE.range_start], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid date range');

    // Pointed at a directory without a database, it says so and leaves none behind.
    const empty = tempDir('verity-cli-export-empty-');
    const nowhere = await runCli(['export', '--organization', org, '--from', RANGE.range_start, '--to', RANGE.range_end, '--out', path.join(empty, 'x.csv')], { ...env, VERITY_DATA_DIR: empty });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('No Verity database in');
    expect(readdirSync(empty)).toEqual([]);

    // NDJSON is signed with the server's key or not at all: never with a key made up here.
    const keyFile = path.join(dir, 'signing-key.pem');
    renameSync(keyFile, `${keyFile}.away`);
    const unsigned = await runCli(['export', '--organization', org, '--from', RANGE.range_start, '--to', RANGE.range_end, '--format', 'ndjson', '--out', path.join(dir, 'unsigned.ndjson')], env);
    renameSync(`${keyFile}.away`, keyFile);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain("signed with the server's key, and there is none here");
    expect(existsSync(path.join(dir, 'unsigned.ndjson'))).toBe(false);

    // Reading the database directly skips the server's download record: each direct export records itself.
    const db = await openPglite({ dataDir: path.join(dir, 'pglite') });
    try {
      const recorded = await db.query<{ metadata: Record<string, unknown>; actor_type: string }>(
        `select data->'metadata' as metadata, data#>>'{actor,type}' as actor_type from events where action = 'audit_log_export.exported_directly' order by seq`,
      );
      expect(recorded.map((row) => [row.actor_type, row.metadata.organization_id, row.metadata.format, row.metadata.rows])).toEqual([
        ['cli', org, 'csv', 25],
        ['cli', org, 'ndjson', 25],
      ]);
      // The server has since signed with another key (rotated elsewhere): the key here is not the server's.
      await db.query(`insert into checkpoints (organization_id, seq, hash, key_id, signature) values ($1, 25, 'x', 'ffffffffffffffff', 'x')
        on conflict (organization_id, seq) do update set key_id = excluded.key_id, created_at = now()`, [org]);
    } finally {
      await db.close();
    }
    const stale = await runCli(['export', '--organization', org, '--from', RANGE.range_start, '--to', RANGE.range_end, '--format', 'ndjson', '--out', path.join(dir, 'stale.ndjson')], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('newest checkpoint is signed by key ffffffffffffffff');
    // A server and nine CLI processes, each starting and opening the embedded database: about 45 s on a
    // quiet machine; in CI on a slow day, with the suite's other worker beside it, past 120 s.
  }, 300_000);
});
