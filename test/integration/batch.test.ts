import { expect, it } from 'vitest';
import { verifyChain } from '../helpers/chain.js';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

describeEachBackend('POST /audit_logs/events/batch', (ctx) => {
  it('stores every event of a valid batch in order and returns their ids', async () => {
    const org = await ctx().createOrg();
    const events = Array.from({ length: 1000 }, () => makeEvent());
    const response = await ctx().call<{ success: boolean; ids: string[] }>('POST', '/audit_logs/events/batch', { body: { organization_id: org, events } });
    expect(response.status).toBe(200);
    expect(response.body.success).toBe(true);
    expect(response.body.ids).toHaveLength(1000);
    const rows = await ctx().testDb.db.query<{ id: string; seq: number }>('select id, seq from events where organization_id = $1 order by seq', [org]);
    expect(rows.map((row) => row.id)).toEqual(response.body.ids);
    // Ids are minted in batch order, so id order, seq order and batch order agree (cursors rely on it).
    expect([...response.body.ids].sort()).toEqual(response.body.ids);
    expect(await verifyChain(ctx().testDb.db, org)).toEqual({ valid: true, checked: 1000 });
  });

  it('stores nothing when any event is invalid, and names each invalid index', async () => {
    const org = await ctx().createOrg();
    const events = [makeEvent(), makeEvent({ targets: 'x' }), makeEvent(), makeEvent({ action: undefined }), makeEvent()];
    const response = await ctx().call<{ code: string; errors: { index?: number }[] }>('POST', '/audit_logs/events/batch', {
      body: { organization_id: org, events: JSON.parse(JSON.stringify(events)) as unknown },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('invalid_audit_log_event');
    expect(response.body.errors.map((e) => e.index)).toEqual([1, 3]);
    const rows = await ctx().testDb.db.query('select 1 from events where organization_id = $1', [org]);
    expect(rows).toHaveLength(0);
  });

  it('stores nothing when an event breaks its action schema', async () => {
    const org = await ctx().createOrg();
    await ctx().call('POST', '/audit_logs/actions/doc.shared/schemas', {
      body: { targets: [{ type: 'document' }], metadata: { type: 'object', properties: { size: { type: 'number' } } } },
    });
    const good = makeEvent({ action: 'doc.shared', targets: [{ id: 'd1', type: 'document' }], metadata: { size: 3 } });
    const bad = makeEvent({ action: 'doc.shared', targets: [{ id: 'd2', type: 'document' }], metadata: { size: 'big' } });
    const response = await ctx().call<{ errors: { index: number }[] }>('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: [good, bad] } });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e) => e.index)).toEqual([1]);
    expect(await ctx().testDb.db.query('select 1 from events where organization_id = $1', [org])).toHaveLength(0);
  });

  it('refuses more than 1,000 events and empty batches', async () => {
    const org = await ctx().createOrg();
    const over = await ctx().call('POST', '/audit_logs/events/batch', {
      body: { organization_id: org, events: Array.from({ length: 1001 }, () => makeEvent()) },
    });
    expect(over.status).toBe(400);
    const empty = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: [] } });
    expect(empty.status).toBe(400);
  });

  it('accepts bodies over 1 MB up to 10 MB, and answers 413 above', async () => {
    const org = await ctx().createOrg();
    const padded = (size: number): Record<string, unknown> => makeEvent({ metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'x'.repeat(size)])) });
    const twoMb = Array.from({ length: 100 }, () => padded(450));
    const ok = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: twoMb } });
    expect(ok.status).toBe(200);
    const elevenMb = Array.from({ length: 500 }, () => padded(450));
    const tooBig = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: elevenMb } });
    expect(tooBig.status).toBe(413);
  });

  it('answers 404 for an unknown organization', async () => {
    const response = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: 'org_nope', events: [makeEvent()] } });
    expect(response.status).toBe(404);
  });
});
