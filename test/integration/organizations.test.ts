import { expect, it } from 'vitest';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

describeEachBackend('organizations and retention', (ctx) => {
  it('keeps a domain listed again in an update (id, created_at); domains carry the WorkOS domain fields', async () => {
    interface Domain { id: string; organization_id: string; domain: string; state: string; verification_strategy: string; created_at: string; updated_at: string }
    const created = await ctx().call<{ id: string; domains: Domain[] }>('POST', '/organizations', { body: { name: 'Stable', domain_data: [{ domain: 'stable.example', state: 'pending' }] } });
    const [first] = created.body.domains;
    expect(first).toMatchObject({ object: 'organization_domain', organization_id: created.body.id, domain: 'stable.example', state: 'pending', verification_strategy: 'manual' });
    expect(first?.updated_at).toBe(first?.created_at);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const updated = await ctx().call<{ domains: Domain[] }>('PUT', `/organizations/${created.body.id}`, {
      body: { domain_data: [{ domain: 'Stable.example.', state: 'verified' }, { domain: 'new.example', state: 'verified' }] },
    });
    const kept = updated.body.domains.find((d) => d.domain === 'stable.example');
    expect(kept).toMatchObject({ id: first?.id, created_at: first?.created_at, state: 'verified' });
    expect(Date.parse(kept?.updated_at ?? '')).toBeGreaterThan(Date.parse(first?.created_at ?? ''));
    expect(updated.body.domains.map((d) => d.domain)).toEqual(['new.example', 'stable.example']);
    const dropped = await ctx().call<{ domains: Domain[] }>('PUT', `/organizations/${created.body.id}`, { body: { domain_data: [{ domain: 'new.example', state: 'verified' }] } });
    expect(dropped.body.domains.map((d) => d.domain)).toEqual(['new.example']);
  });

  it('creates, reads, updates, lists and deletes organizations in the WorkOS shape', async () => {
    const created = await ctx().call<{ id: string; domains: unknown[] }>('POST', '/organizations', {
      body: { name: 'Globex', external_id: `ext-${Date.now()}`, domain_data: [{ domain: 'Globex.com', state: 'verified' }], metadata: { plan: 'pro' } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'organization',
      name: 'Globex',
      allow_profiles_outside_organization: false,
      domains: [{ object: 'organization_domain', domain: 'globex.com', state: 'verified' }],
      metadata: { plan: 'pro' },
    });
    const id = created.body.id;
    expect(id).toMatch(/^org_[0-9A-Z]{26}$/);

    const badNames = await ctx().call<{ errors: { field: string }[] }>('POST', '/organizations', {
      body: { name: '   ', domain_data: [{ domain: '<script>alert(3)</script>', state: 'verified' }, { domain: 'domain!!', state: 'pending' }] },
    });
    expect(badNames.status).toBe(422);
    expect(badNames.body.errors.map((e) => e.field).sort()).toEqual(['domain_data.0.domain', 'domain_data.1.domain', 'name']);

    const badState = await ctx().call<{ errors: unknown[] }>('PUT', `/organizations/${id}`, { body: { name: 'Globex', domain_data: [{ domain: 'globex.com', state: 'approved' }] } });
    expect(badState.status).toBe(422);
    expect(badState.body.errors).toEqual([{ code: 'invalid', field: 'domain_data.0.state', message: 'must be one of: pending, verified' }]);

    const updated = await ctx().call('PUT', `/organizations/${id}`, { body: { name: 'Globex Corp', domain_data: [] } });
    expect(updated.body).toMatchObject({ name: 'Globex Corp', domains: [] });

    const fetched = await ctx().call('GET', `/organizations/${id}`, { headers: { 'content-type': 'application/json' } });
    expect(fetched.body).toMatchObject({ id, name: 'Globex Corp' });

    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: id, event: makeEvent() } });
    const deleted = await ctx().call('DELETE', `/organizations/${id}`, { headers: { 'content-type': 'application/json' } });
    expect(deleted.status).toBe(204);
    expect((await ctx().call('GET', `/organizations/${id}`)).status).toBe(404);
    expect(await ctx().testDb.db.query('select 1 from events where organization_id = $1', [id])).toHaveLength(0);
  });

  it('pages through organizations with before/after cursors', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push(await ctx().createOrg(`Page ${i}`));
    const all = await ctx().call<{ data: { id: string }[] }>('GET', '/organizations?limit=100&order=asc');
    const mine = all.body.data.map((o) => o.id).filter((id) => ids.includes(id));
    expect(mine).toEqual(ids);

    const first = await ctx().call<{ data: { id: string }[]; list_metadata: { before: string | null; after: string | null } }>('GET', '/organizations?limit=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.list_metadata.before).toBeNull();
    const after = first.body.list_metadata.after;
    expect(after).not.toBeNull();
    const second = await ctx().call<{ data: { id: string }[]; list_metadata: { before: string | null } }>('GET', `/organizations?limit=2&after=${after}`);
    expect((second.body.data[0]?.id ?? "") < (first.body.data[1]?.id ?? "")).toBe(true);
    const back = await ctx().call<{ data: { id: string }[] }>('GET', `/organizations?limit=2&before=${second.body.list_metadata.before}`);
    expect(back.body.data.map((o) => o.id)).toEqual(first.body.data.map((o) => o.id));
    // A mistyped cursor is refused (it answered the first page again); a deleted one still places the page.
    for (const list of ['/organizations', `/log_streams?organization_id=${ids[0]}`, `/audit_logs/exports?organization_id=${ids[0]}`]) {
      const bad = await ctx().call(`GET`, `${list}${list.includes('?') ? '&' : '?'}after=org_bogus`);
      expect(bad.status, list).toBe(400);
      expect(bad.body).toMatchObject({ code: 'invalid_query' });
    }
    await ctx().call('DELETE', `/organizations/${ids[2]}`);
    const fromDeleted = await ctx().call<{ data: { id: string }[] }>('GET', `/organizations?limit=100&order=asc&after=${ids[2]}`);
    expect(fromDeleted.status).toBe(200);
    expect(fromDeleted.body.data.map((o) => o.id).filter((id) => ids.includes(id))).toEqual(ids.slice(3));
  });

  it('names the wrong member of an object-or-null field once, without "must be null" beside it', async () => {
    const response = await ctx().call<{ errors: { field: string; message: string }[] }>('POST', '/organizations', { body: { name: 'Meta Co', metadata: { plan: 'x'.repeat(600) } } });
    expect(response.status).toBe(422);
    expect(response.body.errors.map((e) => e.field)).toEqual(['metadata.plan']);
  });

  it('refuses a duplicate external_id with 409', async () => {
    const external = `dup-${Date.now()}`;
    expect((await ctx().call('POST', '/organizations', { body: { name: 'A', external_id: external } })).status).toBe(201);
    expect((await ctx().call('POST', '/organizations', { body: { name: 'B', external_id: external } })).status).toBe(409);
    const byExternal = await ctx().call('GET', `/organizations/external_id/${external}`);
    expect(byExternal.body).toMatchObject({ name: 'A', external_id: external });
  });

  it('reads and sets retention in both request forms', async () => {
    const org = await ctx().createOrg();
    expect((await ctx().call('GET', `/organizations/${org}/audit_logs_retention`)).body).toEqual({ retention_period_in_days: 365 });
    const days = await ctx().call('PUT', `/organizations/${org}/audit_logs_retention`, { body: { retention_period_in_days: 30 } });
    expect(days.body).toEqual({ retention_period_in_days: 30 });
    const months = await ctx().call('PUT', `/organizations/${org}/audit_logs_retention`, { body: { retention_period: '3_MONTHS' } });
    expect(months.body).toEqual({ retention_period_in_days: 90 });
    const years = await ctx().call('PUT', `/organizations/${org}/audit_logs_retention`, { body: { retention_period: '2_YEARS' } });
    expect(years.body).toEqual({ retention_period_in_days: 730 });
    expect((await ctx().call('PUT', `/organizations/${org}/audit_logs_retention`, { body: { retention_period: '12_MONTHS' } })).status).toBe(422);
    expect((await ctx().call('PUT', `/organizations/${org}/audit_logs_retention`, { body: { retention_period_in_days: 0 } })).status).toBe(422);
    const configuration = await ctx().call('GET', `/organizations/${org}/audit_log_configuration`);
    expect(configuration.body).toEqual({ organization_id: org, retention_period_in_days: 730, state: 'active', log_streams: [] });
  });

  it('answers every unknown route and method with JSON', async () => {
    const response = await ctx().call('GET', '/nope');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toContain('application/json');
  });
});
