/**
 * The system organization (src/system-audit) holds Verity's own administrative audit events. It is not a
 * customer: organization lists leave it out unless asked (and then mark it `system: true`), the usage bill
 * never includes it, and cross-organization stats count customers' events only. Operators still reach its
 * events by id.
 */
import { expect, it } from 'vitest';
import type { UsageView } from '../../src/metering/pricing.js';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

type Org = { id: string; name: string; external_id: string | null; system: boolean };
type OrgList = { data: Org[]; list_metadata: { after: string | null } };
type Stats = { total: number; top_actions: { action: string; count: number }[]; top_organizations: { organization_id: string; count: number }[] };

describeEachBackend('the system organization is not a customer', (ctx) => {
  /** A customer with events, and the system organization with a recorded administrative event. */
  async function setup(): Promise<{ customer: string; system: string }> {
    const customer = await ctx().createOrg('Customer Co');
    const ingest = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: customer, event: makeEvent({ occurred_at: new Date().toISOString() }) } });
    expect(ingest.status).toBe(200);
    await ctx().services.systemAudit.record('operator.signed_in', { id: 'operator_test', type: 'operator' }, []);
    await ctx().services.systemAudit.record('portal.opened', { id: 'portal_session_test', type: 'portal_session' }, []);
    return { customer, system: await ctx().services.systemAudit.organizationId() };
  }

  it('GET /organizations leaves it out; include_system=true lists it marked system: true', async () => {
    const { customer, system } = await setup();
    const plain = await ctx().call<OrgList>('GET', '/organizations?limit=100');
    expect(plain.status).toBe(200);
    expect(plain.body.data.map((org) => org.id)).toContain(customer);
    expect(plain.body.data.map((org) => org.id)).not.toContain(system);
    expect(plain.body.data.every((org) => !org.system)).toBe(true);

    const withSystem = await ctx().call<OrgList>('GET', '/organizations?limit=100&include_system=true');
    const listed = withSystem.body.data.find((org) => org.id === system);
    expect(listed).toMatchObject({ id: system, external_id: 'verity-system', system: true });
    expect(withSystem.body.data.filter((org) => org.system)).toHaveLength(1);
    expect((await ctx().call<OrgList>('GET', '/organizations?limit=100&include_system=false')).body.data.map((org) => org.id)).not.toContain(system);

    // By id it is there for operators to read, marked; a customer is marked false.
    expect((await ctx().call<Org>('GET', `/organizations/${system}`)).body.system).toBe(true);
    expect((await ctx().call<Org>('GET', `/organizations/${customer}`)).body.system).toBe(false);
    expect((await ctx().call<Org>('GET', '/organizations/external_id/verity-system')).body.id).toBe(system);
  });

  it('a key restricted to a customer never sees it, even when asking for it', async () => {
    const { customer, system } = await setup();
    const key = await ctx().createKey(['admin'], customer);
    const listed = await ctx().call<OrgList>('GET', '/organizations?include_system=true', { key });
    expect(listed.body.data.map((org) => org.id)).toEqual([customer]);
    expect((await ctx().call('GET', `/organizations/${system}`, { key })).status).toBe(404);
  });

  it('GET /usage and the CLI bill never bill it, even by id', async () => {
    const { customer, system } = await setup();
    await ctx().services.metering.rollup();
    const usage = await ctx().call<UsageView>('GET', '/usage');
    expect(usage.status).toBe(200);
    const ids = usage.body.organizations.map((org) => org.organization_id);
    expect(ids).toContain(customer);
    expect(ids).not.toContain(system);

    const named = await ctx().call<UsageView>('GET', `/usage?organization_id=${system}`);
    expect(named.status).toBe(200);
    expect(named.body.organizations).toEqual([]);
    expect(named.body.totals.total_cost).toBe(0);

    // `verity usage` prints MeteringService.bill().
    const bill = await ctx().services.metering.bill({});
    expect(bill.organizations.map((org) => org.organization_id)).not.toContain(system);
  });

  it('stats across organizations count customers only; the system organization’s own stats are there by id', async () => {
    const { customer, system } = await setup();
    const all = await ctx().call<Stats>('GET', '/audit_logs/stats?interval=day');
    expect(all.status).toBe(200);
    expect(all.body.top_organizations.map((row) => row.organization_id)).toContain(customer);
    expect(all.body.top_organizations.map((row) => row.organization_id)).not.toContain(system);
    expect(all.body.top_actions.map((row) => row.action)).not.toContain('operator.signed_in');
    const customers = all.body.top_organizations.reduce((sum, row) => sum + row.count, 0);
    expect(all.body.total).toBe(customers);

    const own = await ctx().call<Stats>('GET', `/audit_logs/stats?interval=day&organization_id=${system}`);
    expect(own.body.total).toBeGreaterThanOrEqual(2);
    expect(own.body.top_actions.map((row) => row.action)).toEqual(expect.arrayContaining(['operator.signed_in', 'portal.opened']));
  });
});

describeEachBackend('the system organization keeps the administrative record', (ctx) => {
  type Event = { action: string; actor: { id: string; type: string }; targets: { id: string; type: string; name?: string }[]; metadata: Record<string, unknown> };
  const systemEvents = async (): Promise<Event[]> => {
    const system = await ctx().services.systemAudit.organizationId();
    const listed = await ctx().call<{ data: Event[] }>('GET', `/audit_logs/events?organization_id=${system}&limit=100`);
    expect(listed.status).toBe(200);
    return listed.body.data;
  };

  it('cannot be deleted: 403, and its log stays', async () => {
    await ctx().services.systemAudit.record('operator.signed_in', { id: 'operator_test', type: 'operator' }, []);
    const system = await ctx().services.systemAudit.organizationId();
    const refused = await ctx().call<{ code: string; message: string }>('DELETE', `/organizations/${system}`);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
    expect(refused.body.message).toContain('system organization');
    expect((await ctx().call('GET', `/organizations/${system}`)).status).toBe(200);
    expect((await systemEvents()).some((event) => event.action === 'operator.signed_in')).toBe(true);
  });

  it('a search across all organizations returns customers’ events only; by its id, its own', async () => {
    const customer = await ctx().createOrg('Searchable Co');
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: customer, event: makeEvent({ action: 'user.searched_for' }) } });
    await ctx().services.systemAudit.record('operator.signed_in', { id: 'operator_search', type: 'operator' }, []);
    const all = await ctx().call<{ data: { organization_id: string }[] }>('GET', '/audit_logs/events?limit=100');
    const system = await ctx().services.systemAudit.organizationId();
    expect(all.body.data.map((event) => event.organization_id)).toContain(customer);
    expect(all.body.data.map((event) => event.organization_id)).not.toContain(system);
    expect((await systemEvents()).length).toBeGreaterThan(0);
  });

  it('records key, stream, organization and retention changes with who made them, and never a secret', async () => {
    const org = await ctx().createOrg('Audited Co');
    const key = await ctx().call<{ id: string; secret: string }>('POST', '/api_keys', { body: { name: 'ci writer', scopes: ['events:write'], organization_id: org } });
    expect(key.status).toBe(201);
    expect((await ctx().call('DELETE', `/api_keys/${key.body.id}`)).status).toBe(200);
    const stream = await ctx().call<{ id: string }>('POST', '/log_streams', {
      body: { organization_id: org, type: 'Splunk', name: 'SOC Splunk', config: { hec_url: 'https://splunk.example.com:8088', hec_token: 'hec-token-never-logged' } },
    });
    expect(stream.status).toBe(201);
    // As a form sends it: every field, only the token different. The record names just that one.
    const patch = { name: 'SOC Splunk', config: { hec_url: 'https://splunk.example.com:8088', hec_token: 'second-secret-token' } };
    expect((await ctx().call('PATCH', `/log_streams/${stream.body.id}`, { body: patch })).status).toBe(200);
    expect((await ctx().call('POST', `/log_streams/${stream.body.id}/pause`)).status).toBe(200);
    expect((await ctx().call('DELETE', `/log_streams/${stream.body.id}`)).status).toBe(204);
    expect((await ctx().call('PUT', `/organizations/${org}/audit_logs_retention`, { body: { retention_period_in_days: 30 } })).status).toBe(200);
    expect((await ctx().call('DELETE', `/organizations/${org}`)).status).toBe(204);

    const events = await systemEvents();
    const about = (id: string) => events.filter((event) => event.targets.some((target) => target.id === id)).map((event) => event.action);
    expect(about(key.body.id).sort()).toEqual(['api_key.created', 'api_key.revoked']);
    expect(about(stream.body.id).sort()).toEqual(['log_stream.created', 'log_stream.deleted', 'log_stream.paused', 'log_stream.updated']);
    expect(about(org)).toEqual(expect.arrayContaining(['organization.created', 'organization.retention_changed', 'organization.deleted', 'log_stream.created']));
    const updated = events.find((event) => event.action === 'log_stream.updated');
    expect(updated?.metadata).toMatchObject({ destination: 'Splunk', changed: 'config.hec_token' });
    expect(events.find((event) => event.action === 'organization.retention_changed')?.metadata).toMatchObject({ retention_period_in_days: 30 });
    expect(events.find((event) => event.action === 'api_key.created')?.actor).toMatchObject({ type: 'api_key', name: 'bootstrap (VERITY_BOOTSTRAP_API_KEY)' });
    const text = JSON.stringify(events);
    for (const secret of [key.body.secret, 'hec-token-never-logged', 'second-secret-token']) expect(text).not.toContain(secret);
  });

  it('records each schema version created, with who created it; a refused schema records nothing', async () => {
    const action = `invoice.approved.${Date.now()}`;
    const body = { targets: [{ type: 'invoice' }, { type: 'team' }], metadata: { type: 'object', properties: { amount: { type: 'number' } } } };
    expect((await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body })).status).toBe(201);
    expect((await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body: { targets: [{ type: 'invoice' }] } })).status).toBe(201);
    const refused = await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body: { targets: [{ type: 't', metadata: { type: 'no-such-type' } }] } });
    expect(refused.status).toBe(422);

    const recorded = (await systemEvents()).filter((event) => event.targets.some((target) => target.id === action));
    expect(recorded.map((event) => [event.action, event.metadata.version]).sort()).toEqual([
      ['audit_log_schema.created', 1],
      ['audit_log_schema.created', 2],
    ]);
    const first = recorded.find((event) => event.metadata.version === 1);
    expect(first?.targets).toEqual([{ id: action, type: 'audit_log_action' }]);
    expect(first?.metadata).toMatchObject({ target_types: 'invoice team' });
    expect(first?.actor).toMatchObject({ type: 'api_key', name: 'bootstrap (VERITY_BOOTSTRAP_API_KEY)' });
  });

  it('only Verity writes its log: an application key cannot add events to it, singly or in a batch', async () => {
    const system = await ctx().services.systemAudit.organizationId();
    const writer = await ctx().createKey(['events:write']);
    const forged = makeEvent({ action: 'api_key.revoked', actor: { id: 'operator_01FAKE', type: 'operator', name: 'ceo@vendor.example' } });
    for (const key of [writer, undefined]) {
      const single = await ctx().call('POST', '/audit_logs/events', { key, body: { organization_id: system, event: forged } });
      expect(single.status).toBe(403);
      expect(single.body).toMatchObject({ code: 'forbidden' });
      const batch = await ctx().call('POST', '/audit_logs/events/batch', { key, body: { organization_id: system, events: [forged] } });
      expect(batch.status).toBe(403);
    }
    const found = await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/events?organization_id=${system}&actor_ids=operator_01FAKE`);
    expect(found.body.data).toEqual([]);
  });

  it("its name, ids, retention and legal hold are an operator's to change, not an API key's; it has no portal", async () => {
    const system = await ctx().services.systemAudit.organizationId();
    const retention = await ctx().call('PUT', `/organizations/${system}/audit_logs_retention`, { body: { retention_period_in_days: 1 } });
    expect(retention.status).toBe(403);
    expect(retention.body).toMatchObject({ code: 'forbidden' });
    expect((await ctx().call('PUT', `/organizations/${system}/legal_hold`, { body: { enabled: true } })).status).toBe(403);
    // Nor can a key pass it off as a customer (whose portal a vendor's backend would then open on it).
    const renamed = await ctx().call('PUT', `/organizations/${system}`, { body: { name: 'Acme Corp', external_id: `acme-${Date.now()}` } });
    expect(renamed.status).toBe(403);
    expect((await ctx().call<{ name: string; external_id: string }>('GET', `/organizations/${system}`)).body.external_id).toBe('verity-system');
    const link = await ctx().call('POST', '/portal/generate_link', { body: { organization: system, intent: 'audit_logs' } });
    expect(link.status).toBe(403);
    expect((await ctx().call<{ retention_period_in_days: number }>('GET', `/organizations/${system}/audit_logs_retention`)).body.retention_period_in_days).not.toBe(1);

    const email = `ops-${Date.now()}@vendor.example`;
    await ctx().services.operators.ensureAdmin(email, 'correct horse battery staple');
    const login = await ctx().app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { email, password: 'correct horse battery staple' }, remoteAddress: '198.51.100.201' });
    expect(login.statusCode, login.body).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'verity_session')?.value ?? '';
    const csrf = (JSON.parse(login.body) as { csrf_token: string }).csrf_token;
    const asOperator = await ctx().app.inject({
      method: 'PUT',
      url: `/organizations/${system}/audit_logs_retention`,
      headers: { cookie: `verity_session=${cookie}`, 'x-csrf-token': csrf },
      payload: { retention_period_in_days: 730 },
    });
    expect(asOperator.statusCode, asOperator.body).toBe(200);
  });

  it("its log streams are an operator's to add and change: an API key, even admin, gets 403 and the stream stays as it was", async () => {
    const system = await ctx().services.systemAudit.organizationId();
    const config = { url: 'https://siem.vendor.example/ingest', signing_secret: 'whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3' };
    const created = await ctx().call('POST', '/log_streams', { body: { organization_id: system, type: 'GenericHttps', config } });
    expect(created.status).toBe(403);
    expect(created.body).toMatchObject({ code: 'forbidden' });

    const email = `ops-streams-${Date.now()}@vendor.example`;
    await ctx().services.operators.ensureAdmin(email, 'correct horse battery staple');
    const login = await ctx().app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { email, password: 'correct horse battery staple' }, remoteAddress: '198.51.100.202' });
    expect(login.statusCode, login.body).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'verity_session')?.value ?? '';
    const csrf = (JSON.parse(login.body) as { csrf_token: string }).csrf_token;
    const byOperator = await ctx().app.inject({
      method: 'POST',
      url: '/log_streams',
      headers: { cookie: `verity_session=${cookie}`, 'x-csrf-token': csrf },
      payload: { organization_id: system, type: 'GenericHttps', config },
    });
    expect(byOperator.statusCode, byOperator.body).toBe(201);
    const stream = (JSON.parse(byOperator.body) as { id: string }).id;

    // A leaked admin key can neither redirect the trail, nor stop it, nor rewind or probe it.
    const attempts: [string, string, unknown][] = [
      ['PATCH', `/log_streams/${stream}`, { config: { url: 'https://attacker.example/collect', signing_secret: 'whsec_YXR0YWNrZXJhdHRhY2tlcmF0dGFja2Vy' } }],
      ['POST', `/log_streams/${stream}/pause`, undefined],
      ['POST', `/log_streams/${stream}/resume`, undefined],
      ['POST', `/log_streams/${stream}/replay`, { from: new Date(Date.now() - 60_000).toISOString() }],
      ['POST', `/log_streams/${stream}/test`, undefined],
      ['DELETE', `/log_streams/${stream}`, undefined],
    ];
    for (const [method, url, body] of attempts) {
      const response = await ctx().call(method, url, body === undefined ? {} : { body });
      expect(response.status, `${method} ${url}`).toBe(403);
      expect(response.body).toMatchObject({ code: 'forbidden' });
    }
    const after = await ctx().call<{ state: string; config: { url: string } }>('GET', `/log_streams/${stream}`);
    expect(after.status).toBe(200);
    expect(after.body.config.url).toBe(config.url);
    expect(after.body.state).not.toBe('inactive');

    // A customer's streams stay the admin key's to manage.
    const customer = await ctx().createOrg('Streams Customer');
    const own = await ctx().call<{ id: string }>('POST', '/log_streams', { body: { organization_id: customer, type: 'GenericHttps', config } });
    expect(own.status).toBe(201);
    expect((await ctx().call('POST', `/log_streams/${own.body.id}/pause`)).status).toBe(200);
  });
});
