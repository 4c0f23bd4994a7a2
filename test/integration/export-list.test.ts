/**
 * GET /audit_logs/exports: the recent exports the dashboard and the Admin Portal show, newest first, with
 * cursor pagination like every other list, state and progress, a fresh signed link on ready ones, the
 * filters each was made with, and nothing of another organization for a restricted caller.
 */
import { expect, it } from 'vitest';
import type { ExportView } from '../../src/export/export.schema.js';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

type ExportList = { object: 'list'; data: ExportView[]; list_metadata: { before: string | null; after: string | null } };

const RANGE = { range_start: '2026-10-01T00:00:00Z', range_end: '2026-10-02T00:00:00Z' };

describeEachBackend('listing exports', (ctx) => {
  async function createExport(organizationId: string, extra: Record<string, unknown> = {}): Promise<ExportView> {
    const created = await ctx().call<ExportView>('POST', '/audit_logs/exports', { body: { organization_id: organizationId, ...RANGE, ...extra } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  it('lists one organization’s exports newest first, with state, progress and filters; pages with after/before', async () => {
    const org = await ctx().createOrg('Lister');
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ occurred_at: '2026-10-01T12:00:00Z' }) } });
    const first = await createExport(org, { actions: ['user.signed_in'], format: 'ndjson' });
    const second = await createExport(org);
    const third = await createExport(org, { gzip: true });

    const all = await ctx().call<ExportList>('GET', `/audit_logs/exports?organization_id=${org}`);
    expect(all.status).toBe(200);
    expect(all.body.object).toBe('list');
    expect(all.body.data.map((item) => item.id)).toEqual([third.id, second.id, first.id]);
    const oldest = all.body.data[2];
    expect(oldest).toMatchObject({ object: 'audit_log_export', state: 'pending', organization_id: org, format: 'ndjson', percent: 0 });
    expect(oldest?.filters).toMatchObject({ range_start: '2026-10-01T00:00:00.000Z', range_end: '2026-10-02T00:00:00.000Z', actions: ['user.signed_in'] });
    expect(oldest?.url).toBeUndefined();

    const page1 = await ctx().call<ExportList>('GET', `/audit_logs/exports?organization_id=${org}&limit=2`);
    expect(page1.body.data.map((item) => item.id)).toEqual([third.id, second.id]);
    expect(page1.body.list_metadata).toEqual({ before: null, after: second.id });
    const page2 = await ctx().call<ExportList>('GET', `/audit_logs/exports?organization_id=${org}&limit=2&after=${second.id}`);
    expect(page2.body.data.map((item) => item.id)).toEqual([first.id]);
    expect(page2.body.list_metadata).toEqual({ before: first.id, after: null });
    const back = await ctx().call<ExportList>('GET', `/audit_logs/exports?organization_id=${org}&limit=2&before=${first.id}`);
    expect(back.body.data.map((item) => item.id)).toEqual([third.id, second.id]);
    const ascending = await ctx().call<ExportList>('GET', `/audit_logs/exports?organization_id=${org}&order=asc`);
    expect(ascending.body.data.map((item) => item.id)).toEqual([first.id, second.id, third.id]);

    // Once written, the list shows it ready, at 100%, with a signed download link.
    await ctx().services.jobs.runDue();
    const done = await ctx().call<ExportList>('GET', `/audit_logs/exports?organization_id=${org}`);
    for (const item of done.body.data) {
      expect(item.state).toBe('ready');
      expect(item.percent).toBe(100);
      expect(item.url).toMatch(new RegExp(`/audit_logs/exports/${item.id}/download\\?expires=\\d+&signature=`));
    }
    const link = new URL(done.body.data[0]?.url ?? '');
    expect((await ctx().app.inject({ method: 'GET', url: `${link.pathname}${link.search}` })).statusCode).toBe(200);
  });

  it('answers 404 for an organization that does not exist, and an empty list for one with no exports', async () => {
    const unknown = await ctx().call('GET', '/audit_logs/exports?organization_id=org_nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ message: "Organization not found: 'org_nope'." });
    const org = await ctx().createOrg('No Exports');
    const none = await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/exports?organization_id=${org}`);
    expect(none.status).toBe(200);
    expect(none.body.data).toEqual([]);
  });

  it('leaves expired exports out (their files are about to be swept)', async () => {
    const org = await ctx().createOrg('Expiring');
    const kept = await createExport(org);
    const expired = await createExport(org);
    await ctx().testDb.db.query("update exports set expires_at = now() - interval '1 second' where id = $1", [expired.id]);
    const list = await ctx().call<ExportList>('GET', `/audit_logs/exports?organization_id=${org}`);
    expect(list.body.data.map((item) => item.id)).toEqual([kept.id]);
  });

  it('an unrestricted key sees every organization’s; a restricted key only its own, named or not', async () => {
    const mine = await ctx().createOrg('Mine');
    const theirs = await ctx().createOrg('Theirs');
    const own = await createExport(mine);
    const other = await createExport(theirs);

    const everything = await ctx().call<ExportList>('GET', '/audit_logs/exports?limit=100');
    expect(everything.body.data.map((item) => item.id)).toEqual(expect.arrayContaining([own.id, other.id]));

    const key = await ctx().createKey(['events:read'], mine);
    const implied = await ctx().call<ExportList>('GET', '/audit_logs/exports?limit=100', { key });
    expect(implied.status).toBe(200);
    expect(implied.body.data.map((item) => item.organization_id)).toEqual(implied.body.data.map(() => mine));
    expect(implied.body.data.map((item) => item.id)).toContain(own.id);
    const aimed = await ctx().call('GET', `/audit_logs/exports?organization_id=${theirs}`, { key });
    expect(aimed.status).toBe(404);
    expect(JSON.stringify(aimed.body)).not.toContain(other.id);

    expect((await ctx().call('GET', '/audit_logs/exports', { key: await ctx().createKey(['events:write'], mine) })).status).toBe(403);
    expect((await ctx().call('GET', '/audit_logs/exports', { key: null })).status).toBe(401);
    expect((await ctx().call('GET', '/audit_logs/exports?before=a&after=b')).status).toBe(400);
  });
});
