import { expect, it } from 'vitest';
import { hashRequest } from '../../src/idempotency/idempotency.service.js';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

async function countEvents(ctx: () => import('../helpers/app.js').TestApp, org: string): Promise<number> {
  const rows = await ctx().testDb.db.query<{ n: number }>('select count(*)::int8 as n from events where organization_id = $1', [org]);
  return rows[0]?.n ?? 0;
}

describeEachBackend('Idempotency-Key', (ctx) => {
  it('stores an event once and answers a repeat with the first response', async () => {
    const org = await ctx().createOrg();
    const body = { organization_id: org, event: makeEvent() };
    const headers = { 'idempotency-key': 'workos-node-same-key-1' };
    const first = await ctx().call('POST', '/audit_logs/events', { body, headers });
    const second = await ctx().call('POST', '/audit_logs/events', { body, headers });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await countEvents(ctx, org)).toBe(1);
  });

  it('stores once when the same request races itself', async () => {
    const org = await ctx().createOrg();
    const body = { organization_id: org, event: makeEvent() };
    const headers = { 'idempotency-key': 'race-key' };
    const responses = await Promise.all(Array.from({ length: 10 }, () => ctx().call('POST', '/audit_logs/events', { body, headers })));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(await countEvents(ctx, org)).toBe(1);
  });

  it('gives concurrent repeats of any POST the first response, creating once', async () => {
    const headers = { 'idempotency-key': 'race-org-key' };
    const responses = await Promise.all(Array.from({ length: 5 }, () => ctx().call<{ id: string }>('POST', '/organizations', { body: { name: 'Raced' }, headers })));
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    const listed = await ctx().call<{ data: { name: string }[] }>('GET', '/organizations?limit=100');
    expect(listed.body.data.filter((org) => org.name === 'Raced')).toHaveLength(1);
  });

  it('a repeat that gives up waiting (409) or differs (409) leaves the first request\'s record alone', async () => {
    const [admin] = await ctx().testDb.db.query<{ id: string }>(`select id from api_keys where name = 'bootstrap (VERITY_BOOTSTRAP_API_KEY)'`);
    const body = { name: 'Slow' };
    // The first request is still running (its record is being processed, as a slow handler leaves it).
    await ctx().testDb.db.query(`insert into idempotency_keys (scope, key, request_hash, state) values ($1, 'in-flight', $2, 'processing')`, [
      admin?.id,
      hashRequest('POST', '/organizations', body),
    ]);
    const started = Date.now();
    const waiter = await ctx().call('POST', '/organizations', { body, headers: { 'idempotency-key': 'in-flight' } });
    expect(waiter.status).toBe(409);
    expect(waiter.body).toMatchObject({ code: 'idempotency_key_in_progress' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    const different = await ctx().call('POST', '/organizations', { body: { name: 'Other' }, headers: { 'idempotency-key': 'in-flight' } });
    expect(different.status).toBe(409);
    const [record] = await ctx().testDb.db.query<{ state: string; response_status: number | null }>(`select state, response_status from idempotency_keys where key = 'in-flight'`);
    expect(record).toEqual({ state: 'processing', response_status: null });
  }, 20_000);

  it('answers 409 when a key is reused with a different body, storing nothing new', async () => {
    const org = await ctx().createOrg();
    const headers = { 'idempotency-key': 'reused-key' };
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() }, headers });
    const conflict = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() }, headers });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: 'idempotency_key_reused' });
    expect(String(conflict.body.message)).toContain('different request');
    expect(await countEvents(ctx, org)).toBe(1);
  });

  it('replays batch responses with the same ids', async () => {
    const org = await ctx().createOrg();
    const body = { organization_id: org, events: [makeEvent(), makeEvent()] };
    const headers = { 'idempotency-key': 'batch-key' };
    const first = await ctx().call<{ ids: string[] }>('POST', '/audit_logs/events/batch', { body, headers });
    const second = await ctx().call<{ ids: string[] }>('POST', '/audit_logs/events/batch', { body, headers });
    expect(second.body.ids).toEqual(first.body.ids);
    expect(await countEvents(ctx, org)).toBe(2);
  });

  it('is honoured on other POSTs too (organizations)', async () => {
    const headers = { 'idempotency-key': 'retry-org-key' };
    const first = await ctx().call<{ id: string }>('POST', '/organizations', { body: { name: 'Once' }, headers });
    const second = await ctx().call<{ id: string }>('POST', '/organizations', { body: { name: 'Once' }, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
  });

  it('never keeps a new API key\'s secret: a repeat answers the same key without it', async () => {
    const headers = { 'idempotency-key': 'create-key-once' };
    const body = { name: 'ci deploy', scopes: ['events:write'] };
    const first = await ctx().call<{ id: string; secret?: string }>('POST', '/api_keys', { body, headers });
    expect(first.status).toBe(201);
    const secret = first.body.secret ?? '';
    expect(secret).toMatch(/^sk_/);
    const stored = await ctx().testDb.db.query<{ response_body: string }>(`select response_body from idempotency_keys where key = 'create-key-once'`);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.response_body).not.toContain(secret);
    const second = await ctx().call<{ id: string; secret?: string }>('POST', '/api_keys', { body, headers });
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    expect(second.body).not.toHaveProperty('secret');
  });

  it('never keeps a portal link: a repeat gets a fresh, working link; a different request under the key is still 409', async () => {
    const org = await ctx().createOrg();
    const headers = { 'idempotency-key': 'portal-link-once' };
    const body = { organization: org, intent: 'audit_logs' };
    const tokenOf = (link: string | undefined): string => new URL(link ?? 'http://x/').searchParams.get('token') ?? '';
    const first = await ctx().call<{ link?: string }>('POST', '/portal/generate_link', { body, headers });
    expect(first.status).toBe(201);
    const token = tokenOf(first.body.link);
    expect(token).toMatch(/^plt_/);
    const stored = await ctx().testDb.db.query<{ response_status: number; response_body: string }>(`select response_status, response_body from idempotency_keys where key = 'portal-link-once'`);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.response_status).toBe(201);
    expect(stored[0]?.response_body).not.toContain(token);
    expect(stored[0]?.response_body).not.toContain('plt_');

    // A WorkOS client reads `link` from the answer, so a repeat must carry one: a new link, not a replay.
    const second = await ctx().call<{ link?: string }>('POST', '/portal/generate_link', { body, headers });
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    const again = tokenOf(second.body.link);
    expect(again).toMatch(/^plt_/);
    expect(again).not.toBe(token);
    const afterRepeat = await ctx().testDb.db.query<{ response_body: string }>(`select response_body from idempotency_keys where key = 'portal-link-once'`);
    expect(afterRepeat).toEqual([{ response_body: stored[0]?.response_body }]);
    for (const link of [second.body.link, first.body.link]) {
      const launched = await ctx().app.inject({ method: 'GET', url: `/portal/launch?token=${tokenOf(link)}` });
      expect(launched.statusCode).toBe(302);
    }

    const other = await ctx().call('POST', '/portal/generate_link', { body: { organization: org, intent: 'log_streams' }, headers });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'idempotency_key_reused' });
  });

  it('keys are per API key: another key may use the same value', async () => {
    const org = await ctx().createOrg();
    const other = await ctx().createKey(['events:write'], org);
    const headers = { 'idempotency-key': 'shared-value' };
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() }, headers });
    const response = await ctx().call('POST', '/audit_logs/events', { key: other, body: { organization_id: org, event: makeEvent() }, headers });
    expect(response.status).toBe(200);
    expect(await countEvents(ctx, org)).toBe(2);
  });

  it('forgets keys after 24 hours', async () => {
    const org = await ctx().createOrg();
    const headers = { 'idempotency-key': 'old-key' };
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() }, headers });
    await ctx().testDb.db.query(`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'old-key'`);
    const again = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() }, headers });
    expect(again.status).toBe(200);
    expect(await countEvents(ctx, org)).toBe(2);
  });

  it('does not record a 404, so a retry after creating the organization succeeds', async () => {
    const headers = { 'idempotency-key': 'missing-org-key' };
    const body = { organization_id: 'org_does_not_exist', event: makeEvent() };
    expect((await ctx().call('POST', '/audit_logs/events', { body, headers })).status).toBe(404);
    expect((await ctx().call('POST', '/audit_logs/events', { body, headers })).status).toBe(404);
  });
});
