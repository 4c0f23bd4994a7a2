import { beforeAll, expect, it } from 'vitest';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

type Page = { data: { id: string; action: string; actor: { id: string } }[]; list_metadata: { before: string | null; after: string | null } };

describeEachBackend('GET /audit_logs/events', (ctx) => {
  let org = '';
  const at = (minute: number): string => new Date(Date.UTC(2026, 9, 1, 12, minute)).toISOString();

  beforeAll(async () => {
    org = await ctx().createOrg('Search Co');
    const events = [
      makeEvent({ action: 'user.signed_in', occurred_at: at(1), actor: { id: 'alice', type: 'user', name: 'Alice Doe', metadata: { role: 'admin' } }, targets: [{ id: 'team_1', type: 'team' }], metadata: { plan: 'pro' } }),
      makeEvent({ action: 'user.signed_in', occurred_at: at(2), actor: { id: 'bob', type: 'user', name: 'Doe, Bob' }, targets: [{ id: 'team_2', type: 'team', metadata: { tier: 'gold' } }], metadata: { plan: 'free' } }),
      makeEvent({ action: 'document.deleted', occurred_at: at(3), actor: { id: 'alice', type: 'user', name: 'Alice Doe' }, targets: [{ id: 'doc_9', type: 'document', name: 'Quarterly Report' }], metadata: { attempts: 3, forced: true } }),
      makeEvent({ action: 'api_key.created', occurred_at: at(4), actor: { id: 'svc', type: 'service' }, targets: [{ id: 'key_1', type: 'api_key' }], context: { location: '198.51.100.4', user_agent: 'curl/8.0' }, metadata: {} }),
      makeEvent({ action: 'user.signed_out', occurred_at: at(5), actor: { id: 'carol', type: 'user', name: 'Carol' }, targets: [{ id: 'team_1', type: 'team' }], metadata: { plan: 'pro' } }),
    ];
    const response = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events } });
    expect(response.status).toBe(200);
  });

  const search = async (query: string): Promise<Page> => {
    const response = await ctx().call<Page>('GET', `/audit_logs/events?organization_id=${org}&${query}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };
  const actorsOf = (page: Page): string[] => page.data.map((e) => e.actor.id);

  it('answers 404 for an organization that does not exist, and an empty list for one without matches', async () => {
    const unknown = await ctx().call('GET', '/audit_logs/events?organization_id=org_01M8E5JF5XEC8J7HDY32J4RPA0');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ message: "Organization not found: 'org_01M8E5JF5XEC8J7HDY32J4RPA0'." });
    expect((await search('actions=nothing.happened')).data).toEqual([]);
    const empty = await ctx().createOrg('Empty Co');
    const none = await ctx().call<Page>('GET', `/audit_logs/events?organization_id=${empty}`);
    expect(none.status).toBe(200);
    expect(none.body.data).toEqual([]);
  });

  it('lists newest first by default, oldest first with order=asc', async () => {
    expect(actorsOf(await search(''))).toEqual(['carol', 'svc', 'alice', 'bob', 'alice']);
    expect(actorsOf(await search('order=asc'))).toEqual(['alice', 'bob', 'alice', 'svc', 'carol']);
  });

  it('filters by actions in repeated, bracket and comma forms', async () => {
    const expected = ['carol', 'bob', 'alice'];
    expect(actorsOf(await search('actions=user.signed_in&actions=user.signed_out'))).toEqual(expected);
    expect(actorsOf(await search('actions[]=user.signed_in&actions[]=user.signed_out'))).toEqual(expected);
    expect(actorsOf(await search('actions=user.signed_in,user.signed_out'))).toEqual(expected);
  });

  it('filters by actor ids and actor names (names may contain commas)', async () => {
    expect(actorsOf(await search('actor_ids=alice'))).toEqual(['alice', 'alice']);
    expect(actorsOf(await search(`actor_names=${encodeURIComponent('Doe, Bob')}`))).toEqual(['bob']);
  });

  it('filters by target ids and target types', async () => {
    expect(actorsOf(await search('target_ids=team_1'))).toEqual(['carol', 'alice']);
    expect(actorsOf(await search('target_types=document,api_key'))).toEqual(['svc', 'alice']);
  });

  it('filters by metadata on the event, the actor and the targets, numbers and booleans as text', async () => {
    expect(actorsOf(await search('metadata[plan]=pro'))).toEqual(['carol', 'alice']);
    expect(actorsOf(await search('metadata[role]=admin'))).toEqual(['alice']);
    expect(actorsOf(await search('metadata[tier]=gold'))).toEqual(['bob']);
    expect(actorsOf(await search('metadata[attempts]=3&metadata[forced]=true'))).toEqual(['alice']);
    expect(actorsOf(await search('metadata[plan]=pro&actions=user.signed_out'))).toEqual(['carol']);
  });

  it('searches free text across names, ids, context and metadata, case-insensitively', async () => {
    expect(actorsOf(await search('q=quarterly'))).toEqual(['alice']);
    expect(actorsOf(await search('q=CURL'))).toEqual(['svc']);
    expect(actorsOf(await search('q=doe'))).toEqual(['alice', 'bob', 'alice']);
    expect(actorsOf(await search(`q=${encodeURIComponent('alice report')}`))).toEqual(['alice']);
    expect(actorsOf(await search('q=100%25'))).toEqual([]);
  });

  it('filters by time range [range_start, range_end)', async () => {
    expect(actorsOf(await search(`range_start=${at(2)}&range_end=${at(4)}`))).toEqual(['alice', 'bob']);
    // A bound a microsecond after an event's time excludes it as the start and includes it as the end (times
    // below the millisecond used to be cut to it, so the start kept the event before it).
    const justAfter = (i: number): string => encodeURIComponent(at(i).replace(/Z$/, '001Z'));
    expect(actorsOf(await search(`range_start=${justAfter(2)}&range_end=${justAfter(4)}`))).toEqual(['svc', 'alice']);
  });

  it('pages forward and back with stable cursors', async () => {
    const first = await search('limit=2');
    expect(actorsOf(first)).toEqual(['carol', 'svc']);
    expect(first.list_metadata.before).toBeNull();
    const second = await search(`limit=2&after=${first.list_metadata.after}`);
    expect(actorsOf(second)).toEqual(['alice', 'bob']);
    const third = await search(`limit=2&after=${second.list_metadata.after}`);
    expect(actorsOf(third)).toEqual(['alice']);
    expect(third.list_metadata.after).toBeNull();
    const back = await search(`limit=2&before=${second.list_metadata.before}`);
    expect(actorsOf(back)).toEqual(['carol', 'svc']);
  });

  it("refuses a cursor that is not one of the organization's events instead of answering an empty page", async () => {
    const other = await ctx().createOrg('Other Co');
    const foreign = await ctx().call<{ success: boolean }>('POST', '/audit_logs/events', { body: { organization_id: other, event: makeEvent({ occurred_at: at(3) }) } });
    expect(foreign.status).toBe(200);
    const [foreignEvent] = (await ctx().call<Page>('GET', `/audit_logs/events?organization_id=${other}`)).body.data;
    for (const cursor of ['after=event_01M8E5JF5XEC8J7HDY32J4RPA0', 'before=nonsense', `after=${foreignEvent?.id}`, `before=${foreignEvent?.id}`]) {
      const response = await ctx().call('GET', `/audit_logs/events?organization_id=${org}&${cursor}`);
      expect(response.status, cursor).toBe(400);
      expect(response.body).toMatchObject({ code: 'invalid_query' });
      expect(String(response.body.message)).toContain('Unknown cursor');
    }
    // The last event as a cursor is fine: nothing comes after it.
    const last = await search('limit=5');
    expect(last.list_metadata.after).toBeNull();
    const oldest = last.data[last.data.length - 1]?.id;
    expect((await search(`after=${oldest}`)).data).toEqual([]);
  });

  it('refuses a parameter it does not know (a misspelt filter would widen the search), and takes every form it documents', async () => {
    for (const [query, name] of [['actor_id=carol', 'actor_id'], ['action=user.signed_in', 'action'], ['foo=bar', 'foo']] as const) {
      const response = await ctx().call('GET', `/audit_logs/events?organization_id=${org}&${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body).toMatchObject({ code: 'invalid_query' });
      expect(String(response.body.message)).toContain(`'${name}'`);
    }
    const every = 'limit=5&order=desc&actions[]=user.signed_in&actor_ids=carol&actor_names[]=Carol&target_ids[]=t&target_types=team&q=x&metadata[plan]=pro&range_start=2000-01-01T00:00:00Z&range_end=2100-01-01T00:00:00Z';
    expect((await ctx().call('GET', `/audit_logs/events?organization_id=${org}&${every}`)).status).toBe(200);
  });

  it('returns one event by id', async () => {
    const [newest] = (await search('limit=1')).data;
    const one = await ctx().call('GET', `/audit_logs/events/${newest?.id}`);
    expect(one.body).toMatchObject({ id: newest?.id, seq: 5, object: 'audit_log_event' });
    expect((await ctx().call('GET', '/audit_logs/events/event_unknown')).status).toBe(404);
  });

  it.each([
    ['limit over 100', 'limit=500', 422],
    ['a bad order', 'order=sideways', 422],
    ['a bad date', 'range_start=yesterday', 422],
    ['a malformed metadata key', 'metadata[a b]=x', 400],
    ['before and after together', 'before=a&after=b', 400],
    ['more than ten words of free text', `q=${encodeURIComponent('a b c d e f g h i j k')}`, 400],
  ])('answers a clear 4xx for %s', async (_label, query, status) => {
    const response = await ctx().call('GET', `/audit_logs/events?organization_id=${org}&${query}`);
    expect(response.status).toBe(status);
    expect(typeof response.body.message).toBe('string');
  });

  it('names the allowed values of an enumerated parameter in one error', async () => {
    const response = await ctx().call('GET', `/audit_logs/events?organization_id=${org}&order=sideways`);
    expect(response.status).toBe(422);
    expect(response.body).toEqual({ message: 'Validation failed.', errors: [{ code: 'invalid', field: 'order', message: 'must be one of: asc, desc, normal' }] });
  });

  it('treats injection attempts as plain values', async () => {
    // No stored event contains these strings, so every search must come back empty (and the table intact).
    // (Spaces would split q into words and "_" is a legitimate literal match, so q gets space-free attempts.)
    for (const attempt of ["'or'1'='1", "x');drop-table-events;--", '%', '\\', "' or 1=1 --", '_']) {
      const encoded = encodeURIComponent(attempt);
      const params = attempt.includes(' ') || attempt === '_' ? ['actions', 'actor_ids', 'target_types', 'metadata[plan]'] : ['actions', 'actor_ids', 'target_types', 'q', 'metadata[plan]'];
      for (const param of params) {
        const response = await ctx().call<Page>('GET', `/audit_logs/events?organization_id=${org}&${param}=${encoded}`);
        expect(response.status).toBe(200);
        expect(response.body.data).toEqual([]);
      }
    }
    expect((await search('')).data).toHaveLength(5);
  });
});

describeEachBackend('GET /audit_logs/stats', (ctx) => {
  it('counts events per day and top actions for an organization', async () => {
    const org = await ctx().createOrg();
    const day = (d: number, h = 12): string => new Date(Date.UTC(2026, 9, d, h)).toISOString();
    const events = [
      makeEvent({ action: 'a.one', occurred_at: day(1) }),
      makeEvent({ action: 'a.one', occurred_at: day(1, 23) }),
      makeEvent({ action: 'a.two', occurred_at: day(3) }),
    ];
    await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events } });
    const stats = await ctx().call<{ total: number; volume: { bucket: string; count: number }[]; top_actions: { action: string; count: number }[] }>(
      'GET',
      `/audit_logs/stats?organization_id=${org}&range_start=${day(1, 0)}&range_end=${day(5, 0)}`,
    );
    expect(stats.status).toBe(200);
    expect(stats.body.total).toBe(3);
    expect(stats.body.volume).toEqual([
      { bucket: day(1, 0), count: 2 },
      { bucket: day(3, 0), count: 1 },
    ]);
    expect(stats.body.top_actions).toEqual([
      { action: 'a.one', count: 2 },
      { action: 'a.two', count: 1 },
    ]);
    const other = await ctx().createKey(['events:read'], await ctx().createOrg());
    expect((await ctx().call('GET', `/audit_logs/stats?organization_id=${org}`, { key: other })).status).toBe(404);
  });
});
