import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'verity-org-deletion-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function orgWithEvents(ctx: TestApp, name: string, events = 3): Promise<string> {
  const org = await ctx.createOrg(name);
  const batch = Array.from({ length: events }, () => makeEvent());
  const ingested = await ctx.call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: batch } });
  expect(ingested.status, JSON.stringify(ingested.body)).toBe(200);
  return org;
}

async function eventCount(ctx: TestApp, org: string): Promise<number> {
  return (await ctx.testDb.db.query('select 1 from events where organization_id = $1', [org])).length;
}

describeEachBackend(
  'deleting an organization',
  (ctx) => {
    it('is refused with 409 legal_hold_active while a legal hold is on, and deletes nothing', async () => {
      const org = await orgWithEvents(ctx(), 'Held Co');
      expect((await ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: true, reason: 'Matter 7' } })).status).toBe(200);

      const refused = await ctx().call('DELETE', `/organizations/${org}`);
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({
        message: `Organization '${org}' is on legal hold: lift the legal hold first (PUT /organizations/${org}/legal_hold {"enabled": false}), then delete it.`,
        code: 'legal_hold_active',
      });
      expect((await ctx().call('GET', `/organizations/${org}`)).status).toBe(200);
      expect(await eventCount(ctx(), org)).toBe(3);

      expect((await ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: false } })).status).toBe(200);
      expect((await ctx().call('DELETE', `/organizations/${org}`)).status).toBe(204);
      expect((await ctx().call('GET', `/organizations/${org}`)).status).toBe(404);
      expect(await eventCount(ctx(), org)).toBe(0);
    });

    it('never lets a hold placed at the same moment and the delete both succeed', async () => {
      for (let round = 0; round < 5; round += 1) {
        const org = await orgWithEvents(ctx(), `Race ${round}`, 1);
        const [hold, deleted] = await Promise.all([
          ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: true } }),
          ctx().call('DELETE', `/organizations/${org}`),
        ]);
        // Either the hold came first (the delete is refused, the events stay) or the delete did (no hold to place).
        if (hold.status === 200) {
          expect(deleted.status).toBe(409);
          expect(await eventCount(ctx(), org)).toBe(1);
        } else {
          expect([hold.status, deleted.status]).toEqual([404, 204]);
        }
      }
    });

    it('keeps it on the bills of closed months, with its name, identical to before', async () => {
      const org = await orgWithEvents(ctx(), 'Billed Then Gone', 2);
      await ctx().testDb.db.query(`update organizations set created_at = '2026-09-20T08:00:00Z' where id = $1`, [org]);
      for (let day = 1; day <= 31; day += 1) {
        await ctx().testDb.db.query(
          `insert into usage_daily (organization_id, day, events_stored, events_ingested, measured_at) values ($1, $2::date, $3, 10, now())`,
          [org, `2026-10-${String(day).padStart(2, '0')}`, day < 16 ? 1_500_000 : 2_200_000],
        );
      }
      // A live stream since September and one deleted in mid-October: both are October stream-days.
      await ctx().testDb.db.query(
        `insert into log_streams (id, organization_id, type, config, state, cursor_seq, created_at, deleted_at) values
           ($1, $3, 'Datadog', '{}'::jsonb, 'active', 0, '2026-09-25T00:00:00Z', null),
           ($2, $3, 'Splunk', '{}'::jsonb, 'active', 0, '2026-10-03T12:00:00Z', '2026-10-10T06:00:00Z')`,
        [`als_deltest1${org.slice(-8)}`, `als_deltest2${org.slice(-8)}`, org],
      );

      const before = await ctx().call<{ organizations: { organization_id: string }[] }>('GET', `/usage?month=2026-10&organization_id=${org}`);
      const allBefore = await ctx().call<{ organizations: { organization_id: string }[] }>('GET', '/usage?month=2026-10');
      expect(before.status).toBe(200);
      // (15 × 1.5 M + 16 × 2.2 M) / 31 → 2 units; 31 + 8 stream-days: 39 × 125 / 31 = 157.26.
      expect(before.body.organizations).toEqual([
        expect.objectContaining({ organization_id: org, name: 'Billed Then Gone', event_units: 2, siem_connections: 1.2581, siem_cost: 157.26, total_cost: 355.26 }),
      ]);

      expect((await ctx().call('DELETE', `/organizations/${org}`)).status).toBe(204);

      // The same bill, the organization now marked with when it was deleted.
      const after = await ctx().call<{ organizations: { deleted_at?: string }[] }>('GET', `/usage?month=2026-10&organization_id=${org}`);
      expect(after.status).toBe(200);
      const deletedAt = after.body.organizations[0]?.deleted_at ?? '';
      expect(Date.now() - Date.parse(deletedAt)).toBeLessThan(60_000);
      const unmarked = (line: object | undefined): object | undefined => (line === undefined ? undefined : Object.fromEntries(Object.entries(line).filter(([key]) => key !== 'deleted_at')));
      expect({ ...after.body, organizations: after.body.organizations.map(unmarked) }).toEqual(before.body);
      const allAfter = await ctx().call<{ organizations: { organization_id: string }[] }>('GET', '/usage?month=2026-10');
      expect(unmarked(allAfter.body.organizations.find((o) => o.organization_id === org))).toEqual(allBefore.body.organizations.find((o) => o.organization_id === org));
      // It is still billed for this month up to the day it was deleted, at the figure it had then.
      const current = await ctx().call<{ organizations: { organization_id: string; events_stored: number }[] }>('GET', `/usage?organization_id=${org}`);
      expect(current.status).toBe(200);
      expect(current.body.organizations).toEqual([expect.objectContaining({ organization_id: org, name: 'Billed Then Gone', events_stored: 2 })]);
    });

    it('deletes its export files once the delete has committed; a file that cannot be removed is not fatal', async () => {
      const org = await orgWithEvents(ctx(), 'Exporting Co');
      const range = { range_start: '2026-10-01T00:00:00Z', range_end: '2026-12-01T00:00:00Z' };
      const ids: string[] = [];
      for (const format of ['csv', 'ndjson']) {
        const created = await ctx().call<{ id: string }>('POST', '/audit_logs/exports', { body: { organization_id: org, format, ...range } });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        ids.push(created.body.id);
      }
      await ctx().services.jobs.runDue();
      const exportsDir = path.join(ctx().config.dataDir, 'exports');
      const [csvId, ndjsonId] = ids as [string, string];
      const csvFile = path.join(exportsDir, `${csvId}.csv`);
      const ndjsonFile = path.join(exportsDir, `${ndjsonId}.ndjson`);
      expect(existsSync(csvFile) && existsSync(ndjsonFile)).toBe(true);
      // The CSV file becomes a directory, which removing a file cannot remove.
      rmSync(csvFile);
      mkdirSync(path.join(csvFile, 'stuck'), { recursive: true });

      // A delete refused (legal hold) removes no file.
      await ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: true } });
      expect((await ctx().call('DELETE', `/organizations/${org}`)).status).toBe(409);
      expect(existsSync(ndjsonFile)).toBe(true);
      await ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: false } });

      expect((await ctx().call('DELETE', `/organizations/${org}`)).status).toBe(204);
      expect(existsSync(ndjsonFile)).toBe(false);
      expect(readdirSync(exportsDir).filter((name) => name.startsWith(ndjsonId))).toEqual([]);
      // The file that could not go is still recorded, and only it: the export cleanup retries it.
      const recorded = async (): Promise<string[]> =>
        (await ctx().testDb.db.query<{ name: string }>('select name from export_file_removals where organization_id = $1', [org])).map((row) => row.name);
      expect(await recorded()).toEqual([`${csvId}.csv`]);
      expect(await ctx().services.exports.retryFileRemovals()).toBe(0);
      expect(await recorded()).toEqual([`${csvId}.csv`]);
      // Once storage can remove it, the next cleanup does, and forgets it.
      rmSync(csvFile, { recursive: true, force: true });
      writeFileSync(csvFile, 'the export of a deleted organization');
      expect(await ctx().services.exports.retryFileRemovals()).toBe(1);
      expect(existsSync(csvFile)).toBe(false);
      expect(await recorded()).toEqual([]);
    });
  },
  { VERITY_DATA_DIR: dataDir },
);
