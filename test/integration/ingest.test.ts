import { describe, expect, it } from 'vitest';
import { verifyChain } from '../helpers/chain.js';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

describeEachBackend('POST /audit_logs/events', (ctx) => {
  it('stores an event and finds it by actor id', async () => {
    const org = await ctx().createOrg();
    const event = makeEvent({ actor: { id: 'alice', type: 'user', name: 'Alice' } });
    const created = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ success: true });
    expect(created.headers['x-request-id']).toMatch(/^req_/);

    const found = await ctx().call<{ data: Record<string, unknown>[] }>('GET', `/audit_logs/events?organization_id=${org}&actor_ids=alice`);
    expect(found.status).toBe(200);
    expect(found.body.data).toHaveLength(1);
    expect(found.body.data[0]).toMatchObject({ action: 'user.signed_in', organization_id: org, seq: 1, actor: { id: 'alice' } });
  });

  it('answers 404 in the WorkOS shape for an unknown organization and stores nothing', async () => {
    const response = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: 'org_missing', event: makeEvent() } });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ message: "Organization not found: 'org_missing'." });
  });

  it('answers 422 naming a missing required field', async () => {
    const org = await ctx().createOrg();
    const { action: _omit, ...event } = makeEvent();
    const response = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event } });
    expect(response.status).toBe(422);
    expect(response.body).toEqual({ message: 'Validation failed.', errors: [{ code: 'required', field: 'event.action' }] });
  });

  it.each([
    ['too many metadata keys', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, '/metadata'],
    ['a metadata key with a bad character', { metadata: { 'bad key': 'v' } }, '/metadata'],
    ['a metadata key over 40 characters', { metadata: { ['k'.repeat(41)]: 'v' } }, '/metadata'],
    ['a metadata value over 500 characters', { metadata: { k: 'x'.repeat(501) } }, '/metadata/k'],
    ['a nested metadata value', { metadata: { k: { nested: true } } }, '/metadata/k'],
    ['targets not an array', { targets: 'team' }, '/targets'],
    ['an actor id of the wrong type', { actor: { id: 42, type: 'user' } }, '/actor/id'],
    ['an unknown field', { surprise: 1 }, ''],
    ['an occurred_at that is not a date', { occurred_at: 'yesterday' }, '/occurred_at'],
    ['over-limit actor metadata', { actor: { id: 'a', type: 'user', metadata: { k: 'x'.repeat(501) } } }, '/actor/metadata/k'],
  ])('answers 400 invalid_audit_log_event for %s', async (_label, override, path) => {
    const org = await ctx().createOrg();
    const response = await ctx().call<{ code: string; message: string; errors: { instancePath: string }[] }>('POST', '/audit_logs/events', {
      body: { organization_id: org, event: makeEvent(override) },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('invalid_audit_log_event');
    expect(response.body.message).toBe('Invalid Audit Log event.');
    expect(response.body.errors.map((e) => e.instancePath)).toContain(path);
    const stored = await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/events?organization_id=${org}`);
    expect(stored.body.data).toHaveLength(0);
  });

  it('reports a nested metadata value as one error naming the allowed types', async () => {
    const org = await ctx().createOrg();
    const response = await ctx().call<{ errors: unknown[] }>('POST', '/audit_logs/events', {
      body: { organization_id: org, event: makeEvent({ metadata: { nested: { a: 1 } } }) },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { instancePath: '/metadata/nested', keyword: 'type', message: 'must be string,number,boolean', params: { type: ['string', 'number', 'boolean'] } },
    ]);
  });

  it('refuses a lone surrogate escape with a 400 naming where it is, on every POST and with an idempotency key too', async () => {
    const org = await ctx().createOrg();
    const event = JSON.stringify({ organization_id: org, event: makeEvent({ actor: { id: 'u_1', type: 'user', name: 'NAME' } }) }).replace('NAME', '\\ud800');
    for (const headers of [{}, { 'idempotency-key': 'surrogate-1' }] as Record<string, string>[]) {
      const single = await ctx().call('POST', '/audit_logs/events', { rawBody: event, headers });
      expect(single.status).toBe(400);
      expect(single.body).toMatchObject({
        message: 'The request body is not valid Unicode: the string at /event/actor/name holds a lone surrogate escape (such as \\ud800).',
        code: 'invalid_json',
        errors: [{ instancePath: '/event/actor/name' }],
      });
    }
    const batch = await ctx().call('POST', '/audit_logs/events/batch', {
      rawBody: JSON.stringify({ organization_id: org, events: [makeEvent(), makeEvent({ targets: [{ id: 'TARGET', type: 'team' }] })] }).replace('TARGET', 'x\\udc00'),
    });
    expect(batch.status).toBe(400);
    expect(batch.body).toMatchObject({
      message: 'The request body is not valid Unicode: the string at /events/1/targets/0/id holds a lone surrogate escape (such as \\ud800).',
      code: 'invalid_json',
      errors: [{ instancePath: '/events/1/targets/0/id' }],
    });
    const organization = await ctx().call('POST', '/organizations', { rawBody: '{"name":"\\udbff"}', headers: { 'idempotency-key': 'surrogate-2' } });
    expect(organization.status).toBe(400);
    const stored = await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/events?organization_id=${org}`);
    expect(stored.body.data).toHaveLength(0);
    // A well-formed pair of escapes is an ordinary character.
    const emoji = JSON.stringify({ organization_id: org, event: makeEvent({ actor: { id: 'u_2', type: 'user', name: 'NAME' } }) }).replace('NAME', '\\ud83d\\ude00');
    expect((await ctx().call('POST', '/audit_logs/events', { rawBody: emoji })).status).toBe(200);
  });

  it('refuses a NUL character or an overflowing number with a 400 naming where it is, in bodies and URLs', async () => {
    const org = await ctx().createOrg();
    const withName = (name: string) => JSON.stringify({ organization_id: org, event: makeEvent({ actor: { id: 'u_1', type: 'user', name: 'NAME' } }) }).replace('"NAME"', name);
    for (const headers of [{}, { 'idempotency-key': 'nul-1' }] as Record<string, string>[]) {
      const nul = await ctx().call('POST', '/audit_logs/events', { rawBody: withName('"Bob\\u0000"'), headers });
      expect(nul.status).toBe(400);
      const message = 'The request body holds a NUL character (\\u0000) at /event/actor/name; text values and keys may not contain one.';
      expect(nul.body).toEqual({ message, code: 'invalid_json', errors: [{ instancePath: '/event/actor/name', message }] });
    }
    const huge = await ctx().call('POST', '/audit_logs/events', {
      rawBody: JSON.stringify({ organization_id: org, event: makeEvent({ metadata: { n: 7 } }) }).replace('"n":7', '"n":-1e400'),
    });
    expect(huge.status).toBe(400);
    const tooLarge = 'The number at /event/metadata/n is too large to store (beyond ±1.8e308).';
    expect(huge.body).toEqual({ message: tooLarge, code: 'invalid_json', errors: [{ instancePath: '/event/metadata/n', message: tooLarge }] });
    expect((await ctx().call('POST', '/organizations', { rawBody: '{"name":"a\\u0000b"}' })).status).toBe(400);
    for (const url of [`/organizations/org_%00`, `/audit_logs/events?organization_id=${org}&actor_ids=a%00b`, '/audit_logs/actions/a%00b/schemas']) {
      const response = await ctx().call('GET', url);
      expect(response.status, url).toBe(400);
      expect(response.body, url).toMatchObject({ code: 'bad_request' });
    }
    const stored = await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/events?organization_id=${org}`);
    expect(stored.body.data).toHaveLength(0);
    // Other control characters are ordinary text.
    expect((await ctx().call('POST', '/audit_logs/events', { rawBody: withName('"tab\\tand\\u0001"') })).status).toBe(200);
  });

  it('accepts metadata at exactly the limits', async () => {
    const org = await ctx().createOrg();
    const metadata = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`.padEnd(40, 'x'), 'v'.repeat(500)]));
    const response = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ metadata }) } });
    expect(response.status).toBe(200);
  });

  it('rejects malformed JSON, a wrong content type and bodies over 1 MB with clear 4xx bodies', async () => {
    const malformed = await ctx().call('POST', '/audit_logs/events', { rawBody: '{"organization_id": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'invalid_json' });

    const text = await ctx().call('POST', '/audit_logs/events', { rawBody: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);

    const org = await ctx().createOrg();
    const huge = await ctx().call('POST', '/audit_logs/events', {
      body: { organization_id: org, event: makeEvent({ metadata: { k: 'x' }, padding: 'x'.repeat(1024 * 1024) }) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ code: 'payload_too_large' });
  });

  it('keeps the stored-events and ingested-today counters in the same commit as the events', async () => {
    const org = await ctx().createOrg();
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() } });
    await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: [makeEvent(), makeEvent()] } });
    const head = await ctx().testDb.db.query<{ events_stored: number }>('select events_stored from org_log_heads where organization_id = $1', [org]);
    expect(head[0]?.events_stored).toBe(3);
    const usage = await ctx().testDb.db.query<{ events_ingested: number }>(
      "select events_ingested from usage_daily where organization_id = $1 and day = (now() at time zone 'utc')::date",
      [org],
    );
    expect(usage[0]?.events_ingested).toBe(3);
  });

  it('chains every event to the one before it', async () => {
    const org = await ctx().createOrg();
    for (let i = 0; i < 5; i += 1) {
      await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() } });
    }
    const result = await verifyChain(ctx().testDb.db, org);
    expect(result).toEqual({ valid: true, checked: 5 });
  });
});

describe('group commit under concurrency', () => {
  describeEachBackend('50 concurrent clients', (ctx) => {
    it('assigns gap-free sequence numbers 1..n and a valid chain', async () => {
      const org = await ctx().createOrg();
      const clients = 50;
      const perClient = 4;
      const results = await Promise.all(
        Array.from({ length: clients }, async () => {
          const statuses: number[] = [];
          for (let i = 0; i < perClient; i += 1) {
            const response = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() } });
            statuses.push(response.status);
          }
          return statuses;
        }),
      );
      expect(results.flat().every((status) => status === 200)).toBe(true);
      const seqs = await ctx().testDb.db.query<{ seq: number }>('select seq from events where organization_id = $1 order by seq', [org]);
      expect(seqs.map((row) => row.seq)).toEqual(Array.from({ length: clients * perClient }, (_, i) => i + 1));
      expect(await verifyChain(ctx().testDb.db, org)).toEqual({ valid: true, checked: clients * perClient });
    });
  });
});
