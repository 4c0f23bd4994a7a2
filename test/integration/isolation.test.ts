/**
 * Tenant isolation on every route: a key restricted to organization A never reads or changes organization
 * B's data, keys lacking a scope are refused, and no route answers without a valid key.
 *
 * Adding a route means adding a row to ROUTES (and, if it is not organization-scoped, to GLOBAL_ROUTES):
 * the coverage test fails for any route in the OpenAPI document that is in neither.
 */
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/keys/keys.service.js';
import { ADMIN_KEY, describeEachBackend, makeEvent, type Response, type TestApp } from '../helpers/app.js';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One organization as the rows see it: everything a request may name. */
interface Target {
  orgId: string;
  externalId: string;
  eventId: string;
  domain: string;
  streamId: string;
}

interface Fixture {
  a: Target;
  b: Target;
  /** A string that appears only inside B's data; any response that contains it leaks B. */
  bMarker: string;
  keys: {
    /** ['admin'] restricted to A. */
    adminA: string;
    /** ['events:read', 'events:write'] restricted to A. */
    rwA: string;
    /** ['events:read'] restricted to A. */
    readA: string;
    /** ['events:write'] restricted to A. */
    writeA: string;
    /** ['admin'] restricted to B (for the idempotency-scope check). */
    adminB: string;
    /** Unrestricted, one scope each. */
    read: string;
    write: string;
  };
  adminKeyId: string;
}

type RestrictedKey = 'adminA' | 'rwA';

interface RouteRow {
  /** The route as the OpenAPI document names it, e.g. "GET /organizations/{id}". */
  route: string;
  /** What this row checks, when one route has several rows. */
  label?: string;
  method: Method;
  /** `t` is the organization aimed at (B, or A for the control); `own` is always A, the key's own. */
  path: (t: Target, own: Target) => string;
  body?: (t: Target) => unknown;
  /**
   * Statuses acceptable when a key restricted to A aims the request at B. A 200 is acceptable only where
   * listed, and then every event in the answer must be A's.
   */
  denied: readonly number[];
  /**
   * The status when the same key aims it at A (proves the refusal is about the tenant, not a broken
   * route); per key, since some routes also need a scope. Omitted for routes whose success cannot be
   * observed with inject (live tail) or would destroy A (delete): dedicated tests cover those.
   */
  own?: Record<RestrictedKey, number>;
}

const BOTH_OK_200 = { adminA: 200, rwA: 200 } as const;
const ADMIN_ONLY_200 = { adminA: 200, rwA: 403 } as const;

function batchOf(orgId: string): unknown {
  return { organization_id: orgId, events: [makeEvent({ actor: { id: 'isolation-batch', type: 'user' } })] };
}

/** Organization-scoped routes, each aimed at B (denied) and at A (allowed). */
const ROUTES: readonly RouteRow[] = [
  { route: 'GET /organizations/{id}', method: 'GET', path: (t) => `/organizations/${t.orgId}`, denied: [404], own: BOTH_OK_200 },
  {
    route: 'GET /organizations/{id}',
    label: 'HEAD',
    method: 'HEAD',
    path: (t) => `/organizations/${t.orgId}`,
    denied: [404],
    own: BOTH_OK_200,
  },
  {
    route: 'PUT /organizations/{id}',
    method: 'PUT',
    path: (t) => `/organizations/${t.orgId}`,
    body: () => ({ name: 'Renamed by A', metadata: { pwned: 'true' } }),
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  {
    route: 'PUT /organizations/{id}',
    label: 'taking over domains',
    method: 'PUT',
    path: (t) => `/organizations/${t.orgId}`,
    body: (t) => ({ domain_data: [{ domain: t.domain, state: 'verified' }] }),
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  { route: 'DELETE /organizations/{id}', method: 'DELETE', path: (t) => `/organizations/${t.orgId}`, denied: [403, 404] },
  {
    route: 'GET /organizations/external_id/{external_id}',
    method: 'GET',
    path: (t) => `/organizations/external_id/${encodeURIComponent(t.externalId)}`,
    denied: [404],
    own: BOTH_OK_200,
  },
  {
    route: 'GET /organizations/{id}/audit_logs_retention',
    method: 'GET',
    path: (t) => `/organizations/${t.orgId}/audit_logs_retention`,
    denied: [404],
    own: BOTH_OK_200,
  },
  {
    route: 'PUT /organizations/{id}/audit_logs_retention',
    method: 'PUT',
    path: (t) => `/organizations/${t.orgId}/audit_logs_retention`,
    body: () => ({ retention_period_in_days: 1 }),
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  {
    route: 'PUT /organizations/{id}/audit_logs_retention',
    label: 'SDK form',
    method: 'PUT',
    path: (t) => `/organizations/${t.orgId}/audit_logs_retention`,
    body: () => ({ retention_period: '1_MONTH' }),
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  {
    route: 'GET /organizations/{id}/audit_log_configuration',
    method: 'GET',
    path: (t) => `/organizations/${t.orgId}/audit_log_configuration`,
    denied: [404],
    own: BOTH_OK_200,
  },
  {
    route: 'PUT /organizations/{id}/legal_hold',
    method: 'PUT',
    path: (t) => `/organizations/${t.orgId}/legal_hold`,
    // Lifting a hold that is not there: a real change (updated_at) that leaves A purgeable as before.
    body: () => ({ enabled: false, reason: 'isolation' }),
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  {
    route: 'GET /usage',
    method: 'GET',
    path: (t) => `/usage?organization_id=${t.orgId}`,
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  {
    route: 'POST /audit_logs/events',
    method: 'POST',
    path: () => '/audit_logs/events',
    body: (t) => ({ organization_id: t.orgId, event: makeEvent({ actor: { id: 'isolation-writer', type: 'user' } }) }),
    denied: [404],
    own: BOTH_OK_200,
  },
  {
    route: 'POST /audit_logs/events/batch',
    method: 'POST',
    path: () => '/audit_logs/events/batch',
    body: (t) => batchOf(t.orgId),
    denied: [404],
    own: BOTH_OK_200,
  },
  {
    route: 'GET /audit_logs/events',
    method: 'GET',
    path: (t) => `/audit_logs/events?organization_id=${t.orgId}`,
    denied: [404],
    own: BOTH_OK_200,
  },
  {
    route: 'GET /audit_logs/events',
    label: 'organization_id given twice, A first',
    method: 'GET',
    path: (t, own) => `/audit_logs/events?organization_id=${own.orgId}&organization_id=${t.orgId}`,
    denied: [200, 400, 404, 422],
  },
  {
    route: 'GET /audit_logs/events',
    label: 'organization_id given twice, B first',
    method: 'GET',
    path: (t, own) => `/audit_logs/events?organization_id=${t.orgId}&organization_id=${own.orgId}`,
    denied: [200, 400, 404, 422],
  },
  {
    route: 'GET /audit_logs/events',
    label: 'organization_id in bracket form',
    method: 'GET',
    path: (t) => `/audit_logs/events?organization_id[]=${t.orgId}`,
    denied: [200, 400, 404, 422],
  },
  { route: 'GET /audit_logs/events/{id}', method: 'GET', path: (t) => `/audit_logs/events/${t.eventId}`, denied: [404], own: BOTH_OK_200 },
  {
    route: 'GET /audit_logs/events/stream',
    method: 'GET',
    path: (t) => `/audit_logs/events/stream?organization_id=${t.orgId}`,
    denied: [404],
  },
  {
    route: 'POST /portal/generate_link',
    method: 'POST',
    path: () => '/portal/generate_link',
    body: (t) => ({ organization: t.orgId, intent: 'audit_logs' }),
    denied: [403, 404],
    own: { adminA: 201, rwA: 403 },
  },
  {
    route: 'GET /audit_logs/integrity',
    method: 'GET',
    path: (t) => `/audit_logs/integrity?organization_id=${t.orgId}&verify=true`,
    denied: [404],
    own: BOTH_OK_200,
  },
  { route: 'GET /audit_logs/stats', method: 'GET', path: (t) => `/audit_logs/stats?organization_id=${t.orgId}`, denied: [404], own: BOTH_OK_200 },
  {
    route: 'POST /log_streams',
    method: 'POST',
    path: () => '/log_streams',
    body: (t) => ({ organization_id: t.orgId, type: 'GenericHttps', config: { url: 'https://siem.example.com/isolation' } }),
    denied: [403, 404],
    own: { adminA: 201, rwA: 403 },
  },
  { route: 'GET /log_streams', method: 'GET', path: (t) => `/log_streams?organization_id=${t.orgId}`, denied: [404], own: BOTH_OK_200 },
  { route: 'GET /log_streams/{id}', method: 'GET', path: (t) => `/log_streams/${t.streamId}`, denied: [404], own: BOTH_OK_200 },
  {
    route: 'PATCH /log_streams/{id}',
    method: 'PATCH',
    path: (t) => `/log_streams/${t.streamId}`,
    // With the stream's secret sent again, as a move of its URL requires: only the organization decides.
    body: () => ({ name: 'renamed by A', config: { url: 'https://attacker.example.com/steal', headers: { authorization: 'Bearer replaced' } } }),
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  { route: 'DELETE /log_streams/{id}', method: 'DELETE', path: (t) => `/log_streams/${t.streamId}`, denied: [403, 404] },
  // No "own" row: a test send to a real host cannot be observed here; the streams suite covers it.
  { route: 'POST /log_streams/{id}/test', method: 'POST', path: (t) => `/log_streams/${t.streamId}/test`, denied: [403, 404] },
  { route: 'POST /log_streams/{id}/pause', method: 'POST', path: (t) => `/log_streams/${t.streamId}/pause`, denied: [403, 404], own: ADMIN_ONLY_200 },
  { route: 'POST /log_streams/{id}/resume', method: 'POST', path: (t) => `/log_streams/${t.streamId}/resume`, denied: [403, 404], own: ADMIN_ONLY_200 },
  {
    route: 'POST /log_streams/{id}/replay',
    method: 'POST',
    path: (t) => `/log_streams/${t.streamId}/replay`,
    body: () => ({ from: '2020-01-01T00:00:00Z' }),
    denied: [403, 404],
    own: ADMIN_ONLY_200,
  },
  { route: 'GET /log_streams/{id}/deliveries', method: 'GET', path: (t) => `/log_streams/${t.streamId}/deliveries`, denied: [404], own: BOTH_OK_200 },
  {
    route: 'POST /audit_logs/exports',
    method: 'POST',
    path: () => '/audit_logs/exports',
    body: (t) => ({ organization_id: t.orgId, range_start: '2020-01-01T00:00:00Z', range_end: '2100-01-01T00:00:00Z' }),
    denied: [404],
    own: { adminA: 201, rwA: 201 },
  },
  { route: 'GET /audit_logs/exports', method: 'GET', path: (t) => `/audit_logs/exports?organization_id=${t.orgId}`, denied: [404], own: BOTH_OK_200 },
  {
    route: 'GET /audit_logs/exports',
    label: 'without organization_id: only the key’s own',
    method: 'GET',
    path: () => '/audit_logs/exports?limit=100',
    denied: [200],
  },
];

/**
 * Routes that are not organization-scoped, and where this file checks them. Restricted keys must be
 * refused on the installation-wide ones; the listing ones must filter to the key's organization.
 */
const GLOBAL_ROUTES: Record<string, string> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /audit_logs/integrity/public_key': 'public: the checkpoint-verifying key is published on purpose',
  'POST /organizations': 'refused to restricted keys',
  'GET /organizations': 'lists only the key’s organization',
  'POST /api_keys': 'refused to restricted keys',
  'GET /api_keys': 'refused to restricted keys',
  'DELETE /api_keys/{id}': 'refused to restricted keys',
  'POST /audit_logs/actions/{action}/schemas': 'installation-wide: refused to restricted keys',
  'GET /audit_logs/actions/{action}/schemas': 'vendor-defined action schemas, readable with events:read',
  'GET /audit_logs/actions': 'vendor-defined actions, readable with events:read',
  'POST /admin/retention/run': 'installation-wide: refused to restricted keys (test/integration/retention.test.ts)',
  'GET /audit_logs/exports/{id}': 'scoped by the export’s organization: others’ exports answer 404 (test/integration/exports.test.ts)',
  'GET /audit_logs/exports/{id}/download': 'no key: a signed link instead; 401 without one, 403 for a bad one (test/integration/exports.test.ts)',
};

const PUBLIC_ROUTES = new Set(['GET /healthz', 'GET /readyz', 'GET /audit_logs/integrity/public_key']);

function openApiRoutes(ctx: TestApp): string[] {
  const doc = ctx.app.swagger() as { paths?: Record<string, Record<string, unknown>> };
  const routes: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const method of Object.keys(operations)) {
      if (['get', 'put', 'post', 'delete', 'patch'].includes(method)) routes.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return routes;
}

/** Fills OpenAPI path parameters with A's ids (any value does for a 401 check). */
function concrete(route: string, a: Target): { method: Method; url: string } {
  const [method, path] = route.split(' ') as [Method, string];
  const url = path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    if (name === 'id' && path.startsWith('/audit_logs/events')) return a.eventId;
    if (name === 'id' && path.startsWith('/organizations')) return a.orgId;
    if (name === 'id' && path.startsWith('/log_streams')) return a.streamId;
    if (name === 'external_id') return a.externalId;
    return 'x';
  });
  const query = path === '/audit_logs/events/stream' || path === '/audit_logs/events' ? `?organization_id=${a.orgId}` : '';
  return { method, url: url + query };
}

function rowName(row: RouteRow): string {
  return row.label === undefined ? row.route : `${row.route} (${row.label})`;
}

/** The `message` of an error body (undefined when there is none). */
function messageOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
}

function eventBody(fx: Fixture, actorId: string): unknown {
  return { organization_id: fx.a.orgId, event: makeEvent({ actor: { id: actorId, type: 'user' } }) };
}

/** An organization, event and external id that do not exist. */
const GHOST: Target = {
  orgId: 'org_01GHZZZZZZZZZZZZZZZZZZZZZZ',
  externalId: 'ext-ghost-does-not-exist',
  eventId: 'event_01GHZZZZZZZZZZZZZZZZZZZZZZ',
  domain: 'ghost.example',
  streamId: 'als_01GHZZZZZZZZZZZZZZZZZZZZZZ',
};

/** A response body with the target's ids replaced by placeholders, to compare answers about different targets. */
function normalised(body: unknown, t: Target): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text
    .split(t.orgId)
    .join('{org}')
    .split(t.externalId)
    .join('{external_id}')
    .split(t.eventId)
    .join('{event}')
    .split(t.domain)
    .join('{domain}')
    .split(t.streamId)
    .join('{stream}');
}

/** Names rows in test titles before the real fixture exists. */
const PLACEHOLDER_TARGET: Target = { orgId: '{A}', externalId: '{A.external_id}', eventId: '{A.event}', domain: '{A.domain}', streamId: '{A.stream}' };
const PLACEHOLDER: Fixture = {
  a: PLACEHOLDER_TARGET,
  b: { ...PLACEHOLDER_TARGET, orgId: '{B}' },
  bMarker: '',
  keys: { adminA: '', rwA: '', readA: '', writeA: '', adminB: '', read: '', write: '' },
  adminKeyId: '',
};

describeEachBackend('tenant isolation', (ctx) => {
  let f: Fixture;

  async function restrictedKey(scopes: Scope[], organizationId: string | null): Promise<string> {
    return (await ctx().services.keys.create({ name: `isolation ${scopes.join('+')}`, scopes, organizationId })).secret;
  }

  async function seedOrg(label: string, marker: string): Promise<Target> {
    const externalId = `ext-${label}-${Math.random().toString(36).slice(2, 10)}`;
    const domain = `${marker}-${label}.example`.toLowerCase();
    const created = await ctx().call<{ id: string }>('POST', '/organizations', {
      body: { name: `Org ${label} ${marker}`, external_id: externalId, domain_data: [{ domain, state: 'verified' }], metadata: { secret: marker } },
    });
    expect(created.status).toBe(201);
    const orgId = created.body.id;
    const batch = await ctx().call<{ ids: string[] }>('POST', '/audit_logs/events/batch', {
      body: {
        organization_id: orgId,
        events: [
          makeEvent({ actor: { id: `actor-${label}`, type: 'user', name: `Actor ${marker}` }, metadata: { secret: marker } }),
          makeEvent({ action: `${label}.only`, actor: { id: `actor-${label}`, type: 'user' }, metadata: { secret: marker } }),
        ],
      },
    });
    expect(batch.status).toBe(200);
    const eventId = batch.body.ids[0];
    if (eventId === undefined) throw new Error('batch returned no ids');
    const stream = await ctx().call<{ id: string }>('POST', '/log_streams', {
      body: { organization_id: orgId, type: 'GenericHttps', name: `SIEM ${marker}`, config: { url: `https://siem.example.com/${marker}`, headers: { authorization: marker } } },
    });
    expect(stream.status).toBe(201);
    // An export whose filters carry the marker: listing B's exports would leak it.
    const exported = await ctx().call('POST', '/audit_logs/exports', {
      body: { organization_id: orgId, range_start: '2020-01-01T00:00:00Z', range_end: '2100-01-01T00:00:00Z', metadata: { secret: marker } },
    });
    expect(exported.status).toBe(201);
    return { orgId, externalId, eventId, domain, streamId: stream.body.id };
  }

  /** Everything of B an attacker could change, read through the unrestricted admin key and the database. */
  async function snapshotB(): Promise<unknown> {
    const org = await ctx().call('GET', `/organizations/${f.b.orgId}`);
    const retention = await ctx().call('GET', `/organizations/${f.b.orgId}/audit_logs_retention`);
    const events = await ctx().testDb.db.query('select seq, id, hash from events where organization_id = $1 order by seq', [f.b.orgId]);
    const orgCount = await ctx().testDb.db.query<{ n: number }>('select count(*)::int as n from organizations');
    const keyCount = await ctx().testDb.db.query<{ n: number }>('select count(*)::int as n from api_keys where revoked_at is null');
    const streams = await ctx().testDb.db.query('select id, name, config, secrets, paused, state, cursor_seq, deleted_at from log_streams where organization_id = $1', [f.b.orgId]);
    return { org: [org.status, org.body], retention: [retention.status, retention.body], events, orgs: orgCount[0]?.n, keys: keyCount[0]?.n, streams };
  }

  function expectNoLeak(response: Response<unknown>): void {
    const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    expect(text).not.toContain(f.bMarker);
    expect(text).not.toContain(f.b.domain);
  }

  beforeAll(async () => {
    const bMarker = `bsecret${Math.random().toString(36).slice(2, 10)}`;
    const a = await seedOrg('a', `asecret${Math.random().toString(36).slice(2, 10)}`);
    const b = await seedOrg('b', bMarker);
    const adminKey = (await ctx().services.keys.list()).find((key) => key.scopes.includes('admin') && key.organization_id === null);
    if (adminKey === undefined) throw new Error('no unrestricted admin key');
    f = {
      a,
      b,
      bMarker,
      adminKeyId: adminKey.id,
      keys: {
        adminA: await restrictedKey(['admin'], a.orgId),
        rwA: await restrictedKey(['events:read', 'events:write'], a.orgId),
        readA: await restrictedKey(['events:read'], a.orgId),
        writeA: await restrictedKey(['events:write'], a.orgId),
        adminB: await restrictedKey(['admin'], b.orgId),
        read: await restrictedKey(['events:read'], null),
        write: await restrictedKey(['events:write'], null),
      },
    };
  });

  describe('a key restricted to A, aimed at B', () => {
    for (const row of ROUTES) {
      for (const keyName of ['adminA', 'rwA'] as const) {
        it(`${rowName(row)} [${keyName}] is refused and leaves B untouched`, async () => {
          const before = await snapshotB();
          const response = await ctx().call<unknown>(row.method, row.path(f.b, f.a), {
            key: f.keys[keyName],
            ...(row.body === undefined ? {} : { body: row.body(f.b) }),
          });
          expect(row.denied, `status ${response.status}: ${JSON.stringify(response.body)}`).toContain(response.status);
          if (response.status === 200) {
            const events = (response.body as { data?: { organization_id: string }[] }).data ?? [];
            for (const event of events) expect(event.organization_id).toBe(f.a.orgId);
          } else if (row.method !== 'HEAD') {
            expect(String(response.headers['content-type'])).toContain('application/json');
            expect(messageOf(response.body)).toEqual(expect.stringMatching(/\S/));
          }
          expectNoLeak(response);
          expect(await snapshotB()).toEqual(before);

          // B must look exactly like an organization that does not exist: no oracle for which ids are real.
          const ghost = await ctx().call<unknown>(row.method, row.path(GHOST, f.a), {
            key: f.keys[keyName],
            ...(row.body === undefined ? {} : { body: row.body(GHOST) }),
          });
          expect(ghost.status).toBe(response.status);
          expect(normalised(ghost.body, GHOST)).toEqual(normalised(response.body, f.b));
        });

        const own = row.own?.[keyName];
        if (own !== undefined) {
          it(`${rowName(row)} [${keyName}] aimed at A answers ${own}`, async () => {
            const response = await ctx().call<unknown>(row.method, row.path(f.a, f.a), {
              key: f.keys[keyName],
              ...(row.body === undefined ? {} : { body: row.body(f.a) }),
            });
            expect(response.status, JSON.stringify(response.body)).toBe(own);
            expectNoLeak(response);
          });
        }
      }
    }
  });

  describe('routes that are not organization-scoped', () => {
    it('every route in the OpenAPI document has an isolation row or a stated reason', () => {
      const covered = new Set([...ROUTES.map((row) => row.route), ...Object.keys(GLOBAL_ROUTES)]);
      const missing = openApiRoutes(ctx()).filter((route) => !covered.has(route));
      expect(missing, 'add a row to ROUTES (organization-scoped) or GLOBAL_ROUTES in test/integration/isolation.test.ts').toEqual([]);
    });

    it('GET /organizations lists only A, whatever the filters and cursors', async () => {
      for (const keyName of ['adminA', 'rwA'] as const) {
        const key = f.keys[keyName];
        const all = await ctx().call<{ data: { id: string }[] }>('GET', '/organizations?limit=100', { key });
        expect(all.status).toBe(200);
        expect(all.body.data.map((o) => o.id)).toEqual([f.a.orgId]);
        expectNoLeak(all);

        const byDomain = await ctx().call<{ data: unknown[] }>('GET', `/organizations?domains=${f.b.domain}`, { key });
        expect(byDomain.status).toBe(200);
        expect(byDomain.body.data).toEqual([]);

        for (const order of ['asc', 'desc']) {
          for (const cursor of ['before', 'after']) {
            const paged = await ctx().call<{ data: { id: string }[] }>('GET', `/organizations?order=${order}&${cursor}=${f.b.orgId}`, { key });
            expect([200, 400]).toContain(paged.status);
            if (paged.status === 200) expect(paged.body.data.every((o) => o.id === f.a.orgId)).toBe(true);
            expectNoLeak(paged);
          }
        }
      }
    });

    it('GET /audit_logs/events without organization_id returns only A’s events, whatever the filters', async () => {
      const queries = [
        '',
        '?limit=100',
        '?actor_ids=actor-b',
        `?q=${f.bMarker}`,
        `?metadata[secret]=${f.bMarker}`,
        '?actions=b.only',
        '?organization_id[]=' + f.b.orgId,
        `?after=${f.b.eventId}`,
        `?before=${f.b.eventId}`,
      ];
      for (const keyName of ['adminA', 'rwA', 'readA'] as const) {
        for (const query of queries) {
          const response = await ctx().call<{ data: { organization_id: string }[] }>('GET', `/audit_logs/events${query}`, { key: f.keys[keyName] });
          expect([200, 400], `${keyName} ${query}: ${response.status}`).toContain(response.status);
          expectNoLeak(response);
          if (response.status === 200) {
            for (const event of response.body.data) expect(event.organization_id).toBe(f.a.orgId);
          }
        }
        const mine = await ctx().call<{ data: { organization_id: string }[] }>('GET', '/audit_logs/events?limit=100', { key: f.keys[keyName] });
        expect(mine.body.data.length).toBeGreaterThanOrEqual(2);
      }
    });

    it('POST /organizations is refused to restricted keys', async () => {
      const before = await snapshotB();
      for (const keyName of ['adminA', 'rwA'] as const) {
        const response = await ctx().call('POST', '/organizations', { key: f.keys[keyName], body: { name: 'Created by A' } });
        expect(response.status).toBe(403);
      }
      expect(await snapshotB()).toEqual(before);
    });

    it('the API key routes are refused to restricted keys, and the keys they aim at keep working', async () => {
      const before = await snapshotB();
      for (const keyName of ['adminA', 'rwA'] as const) {
        const key = f.keys[keyName];
        const create = await ctx().call('POST', '/api_keys', { key, body: { name: 'escalate', scopes: ['admin'] } });
        expect(create.status).toBe(403);
        const createForB = await ctx().call('POST', '/api_keys', { key, body: { name: 'escalate', scopes: ['admin'], organization_id: f.b.orgId } });
        expect(createForB.status).toBe(403);
        const list = await ctx().call('GET', '/api_keys', { key });
        expect(list.status).toBe(403);
        expect(JSON.stringify(list.body)).not.toContain('key_');
        const revoke = await ctx().call('DELETE', `/api_keys/${f.adminKeyId}`, { key });
        expect(revoke.status).toBe(403);
      }
      expect(await snapshotB()).toEqual(before);
      expect((await ctx().call('GET', '/api_keys')).status).toBe(200);
    });

    // Schemas are installation-wide and validate every organization's events: a key restricted to A
    // creating one could make B's ingest fail, so only an unrestricted admin key may.
    it('POST /audit_logs/actions/:action/schemas is refused to restricted keys (schemas bind every organization)', async () => {
      const action = `isolation.${Math.random().toString(36).slice(2, 10)}`;
      // B's application sends this action today, with no schema.
      const first = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: f.b.orgId, event: makeEvent({ action }) } });
      expect(first.status).toBe(200);

      const created = await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, {
        key: f.keys.adminA,
        body: { targets: [{ type: 'only-type-a-knows' }] },
      });
      expect(created.status).toBe(403);

      // B's next identical event is still accepted.
      const next = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: f.b.orgId, event: makeEvent({ action }) } });
      expect(next.status).toBe(200);
    });

    it('idempotency keys are scoped to the API key: B’s request is not answered from A’s record', async () => {
      const idempotencyKey = `shared-${Math.random().toString(36).slice(2, 10)}`;
      const headers = { 'idempotency-key': idempotencyKey };
      const fromA = await ctx().call('POST', '/audit_logs/events', {
        key: f.keys.adminA,
        headers,
        body: { organization_id: f.a.orgId, event: makeEvent({ actor: { id: 'idem-a', type: 'user' } }) },
      });
      expect(fromA.status).toBe(200);
      const fromB = await ctx().call('POST', '/audit_logs/events', {
        key: f.keys.adminB,
        headers,
        body: { organization_id: f.b.orgId, event: makeEvent({ actor: { id: 'idem-b', type: 'user' } }) },
      });
      expect(fromB.status).toBe(200);
      expect(fromB.headers['idempotent-replayed']).toBeUndefined();
      const stored = await ctx().testDb.db.query<{ organization_id: string }>(
        "select organization_id from events where actor_id in ('idem-a', 'idem-b') order by actor_id",
      );
      expect(stored.map((row) => row.organization_id)).toEqual([f.a.orgId, f.b.orgId]);

      // The same for generic (non-ingest) POSTs: A's 403 is not replayed to the unrestricted admin.
      const orgKey = `org-${idempotencyKey}`;
      const refused = await ctx().call('POST', '/organizations', { key: f.keys.adminA, headers: { 'idempotency-key': orgKey }, body: { name: 'Same key' } });
      expect(refused.status).toBe(403);
      const allowed = await ctx().call<{ id: string }>('POST', '/organizations', { headers: { 'idempotency-key': orgKey }, body: { name: 'Same key' } });
      expect(allowed.status).toBe(201);
      await ctx().call('DELETE', `/organizations/${allowed.body.id}`);
    });

    it('deleting: a restricted admin key deletes its own organization but never B', async () => {
      const victim = await ctx().createOrg('Own victim');
      const ownKey = await restrictedKey(['admin'], victim);
      const before = await snapshotB();
      expect((await ctx().call('DELETE', `/organizations/${f.b.orgId}`, { key: ownKey })).status).toBe(404);
      expect(await snapshotB()).toEqual(before);
      expect((await ctx().call('DELETE', `/organizations/${victim}`, { key: ownKey })).status).toBe(204);
      expect((await ctx().call('GET', `/organizations/${victim}`)).status).toBe(404);
    });
  });

  describe('the live tail', () => {
    it('a key restricted to A follows A and never receives B’s events', async () => {
      const app = ctx().app;
      if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const controller = new AbortController();
      try {
        const refused = await fetch(`http://127.0.0.1:${port}/audit_logs/events/stream?organization_id=${f.b.orgId}`, {
          headers: { authorization: `Bearer ${f.keys.rwA}` },
          signal: controller.signal,
        });
        expect(refused.status).toBe(404);
        expect(await refused.text()).not.toContain(f.bMarker);

        const response = await fetch(`http://127.0.0.1:${port}/audit_logs/events/stream?organization_id=${f.a.orgId}`, {
          headers: { authorization: `Bearer ${f.keys.rwA}` },
          signal: controller.signal,
        });
        expect(response.status).toBe(200);
        if (response.body === null) throw new Error('no stream body');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let text = '';
        const readUntil = async (needle: string): Promise<void> => {
          const deadline = Date.now() + 10_000;
          while (!text.includes(needle)) {
            if (Date.now() > deadline) throw new Error(`live tail did not deliver ${needle}; got:\n${text}`);
            const chunk = await reader.read();
            if (chunk.done) throw new Error(`live tail ended before ${needle}`);
            text += decoder.decode(chunk.value, { stream: true });
          }
        };
        await readUntil(`following ${f.a.orgId}`);

        const bEvent = await ctx().call('POST', '/audit_logs/events', {
          body: { organization_id: f.b.orgId, event: makeEvent({ actor: { id: 'tail-b', type: 'user' }, metadata: { secret: f.bMarker } }) },
        });
        expect(bEvent.status).toBe(200);
        const aMarker = `tail-a-${Math.random().toString(36).slice(2, 10)}`;
        const aEvent = await ctx().call('POST', '/audit_logs/events', {
          body: { organization_id: f.a.orgId, event: makeEvent({ actor: { id: aMarker, type: 'user' } }) },
        });
        expect(aEvent.status).toBe(200);
        await readUntil(aMarker);
        expect(text).not.toContain(f.bMarker);
        expect(text).not.toContain('tail-b');
        expect(text).not.toContain(f.b.orgId);
      } finally {
        controller.abort();
      }
    });
  });

  describe('scopes', () => {
    interface ScopeRow {
      key: keyof Fixture['keys'];
      method: Method;
      path: (f: Fixture) => string;
      body?: (f: Fixture) => unknown;
    }
    const FORBIDDEN: readonly ScopeRow[] = [
      // events:read cannot write
      { key: 'readA', method: 'POST', path: () => '/audit_logs/events', body: (fx) => eventBody(fx, 'scope-check') },
      { key: 'readA', method: 'POST', path: () => '/audit_logs/events/batch', body: (fx) => batchOf(fx.a.orgId) },
      { key: 'read', method: 'POST', path: () => '/audit_logs/events', body: (fx) => eventBody(fx, 'scope-check') },
      { key: 'read', method: 'POST', path: () => '/audit_logs/events/batch', body: (fx) => batchOf(fx.a.orgId) },
      // events:write cannot read events
      { key: 'writeA', method: 'GET', path: (fx) => `/audit_logs/events?organization_id=${fx.a.orgId}` },
      { key: 'writeA', method: 'GET', path: () => '/audit_logs/events' },
      { key: 'writeA', method: 'GET', path: (fx) => `/audit_logs/events/${fx.a.eventId}` },
      { key: 'writeA', method: 'GET', path: (fx) => `/audit_logs/events/stream?organization_id=${fx.a.orgId}` },
      { key: 'write', method: 'GET', path: (fx) => `/audit_logs/events?organization_id=${fx.a.orgId}` },
      { key: 'write', method: 'GET', path: (fx) => `/audit_logs/events/${fx.a.eventId}` },
      { key: 'write', method: 'GET', path: () => '/audit_logs/actions' },
      { key: 'write', method: 'GET', path: () => '/audit_logs/actions/user.signed_in/schemas' },
      // events:write cannot read organizations (names, domains, retention, stream inventory)
      { key: 'write', method: 'GET', path: () => '/organizations?include_system=true' },
      { key: 'write', method: 'GET', path: (fx) => `/organizations/${fx.a.orgId}` },
      { key: 'write', method: 'GET', path: () => '/organizations/external_id/anything' },
      { key: 'write', method: 'GET', path: (fx) => `/organizations/${fx.a.orgId}/audit_logs_retention` },
      { key: 'write', method: 'GET', path: (fx) => `/organizations/${fx.a.orgId}/audit_log_configuration` },
      { key: 'writeA', method: 'GET', path: (fx) => `/organizations/${fx.a.orgId}` },
      // neither can administer
      { key: 'read', method: 'PUT', path: (fx) => `/organizations/${fx.a.orgId}`, body: () => ({ name: 'x' }) },
      { key: 'write', method: 'PUT', path: (fx) => `/organizations/${fx.a.orgId}/audit_logs_retention`, body: () => ({ retention_period_in_days: 1 }) },
      { key: 'write', method: 'DELETE', path: (fx) => `/organizations/${fx.a.orgId}` },
      { key: 'read', method: 'POST', path: () => '/organizations', body: () => ({ name: 'x' }) },
      { key: 'write', method: 'POST', path: () => '/audit_logs/actions/scope.check/schemas', body: () => ({ targets: [{ type: 't' }] }) },
      { key: 'read', method: 'POST', path: () => '/api_keys', body: () => ({ name: 'x', scopes: ['admin'] }) },
      { key: 'write', method: 'GET', path: () => '/api_keys' },
    ];
    for (const row of FORBIDDEN) {
      it(`${row.key} → ${row.method} ${row.path(PLACEHOLDER)} is 403`, async () => {
        const eventsBefore = await ctx().testDb.db.query('select 1 from events where actor_id = $1', ['scope-check']);
        const response = await ctx().call(row.method, row.path(f), { key: f.keys[row.key], ...(row.body === undefined ? {} : { body: row.body(f) }) });
        expect(response.status, JSON.stringify(response.body)).toBe(403);
        expect(response.body).toMatchObject({ code: 'forbidden' });
        expect(messageOf(response.body)).toEqual(expect.stringMatching(/\S/));
        expect(await ctx().testDb.db.query('select 1 from events where actor_id = $1', ['scope-check'])).toHaveLength(eventsBefore.length);
      });
    }

    it('the scope each key has still works (the 403s are about scope, not a broken key)', async () => {
      expect((await ctx().call('POST', '/audit_logs/events', { key: f.keys.writeA, body: eventBody(f, 'scope-ok') })).status).toBe(200);
      expect((await ctx().call('POST', '/audit_logs/events', { key: f.keys.write, body: eventBody(f, 'scope-ok') })).status).toBe(200);
      expect((await ctx().call('GET', `/audit_logs/events?organization_id=${f.a.orgId}`, { key: f.keys.readA })).status).toBe(200);
      expect((await ctx().call('GET', `/audit_logs/events?organization_id=${f.b.orgId}`, { key: f.keys.read })).status).toBe(200);
      expect((await ctx().call('GET', '/audit_logs/actions', { key: f.keys.read })).status).toBe(200);
      expect((await ctx().call('GET', `/organizations/${f.a.orgId}`, { key: f.keys.readA })).status).toBe(200);
      expect((await ctx().call('GET', '/organizations', { key: f.keys.read })).status).toBe(200);
    });
  });

  describe('authentication on every route', () => {
    const badCredentials: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['an unknown key', { authorization: 'Bearer sk_this_key_does_not_exist_0123' }],
      ['an empty bearer', { authorization: 'Bearer ' }],
      ['Basic auth', { authorization: `Basic ${Buffer.from(`${ADMIN_KEY}:`).toString('base64')}` }],
      ['the key without "Bearer"', { authorization: ADMIN_KEY }],
    ];
    for (const [label, headers] of badCredentials) {
      it(`${label} → 401 on every authenticated route, public routes still answer`, async () => {
        const before = await snapshotB();
        const routes = openApiRoutes(ctx());
        expect(routes.length).toBeGreaterThan(10);
        for (const route of routes) {
          const { method, url } = concrete(route, f.b);
          const response = await ctx().call(method, url, {
            key: null,
            headers,
            ...(method === 'POST' || method === 'PUT' ? { body: { organization_id: f.b.orgId, name: 'x' } } : {}),
          });
          if (PUBLIC_ROUTES.has(route)) {
            expect(response.status, route).toBe(200);
            continue;
          }
          expect(response.status, `${route}: ${JSON.stringify(response.body)}`).toBe(401);
          expect(response.body, route).toMatchObject({ code: 'unauthorized' });
          expect(messageOf(response.body), route).toEqual(expect.stringMatching(/\S/));
          expect(JSON.stringify(response.body)).not.toContain(ADMIN_KEY);
          expectNoLeak(response);
        }
        expect(await snapshotB()).toEqual(before);
      });
    }

    it('a revoked key → 401 on every authenticated route, at once', async () => {
      const created = await ctx().services.keys.create({ name: 'to revoke', scopes: ['admin'], organizationId: null });
      expect((await ctx().call('GET', `/organizations/${f.a.orgId}`, { key: created.secret })).status).toBe(200);
      const revoked = await ctx().call('DELETE', `/api_keys/${created.id}`);
      expect(revoked.status).toBe(200);
      const before = await snapshotB();
      for (const route of openApiRoutes(ctx())) {
        if (PUBLIC_ROUTES.has(route)) continue;
        const { method, url } = concrete(route, f.b);
        const response = await ctx().call(method, url, {
          key: created.secret,
          ...(method === 'POST' || method === 'PUT' ? { body: { organization_id: f.b.orgId, name: 'x' } } : {}),
        });
        expect(response.status, `${route}: ${JSON.stringify(response.body)}`).toBe(401);
        expect(response.body).toMatchObject({ code: 'unauthorized' });
      }
      expect(await snapshotB()).toEqual(before);
    });

    it('a revoked restricted key loses access to its own organization too', async () => {
      const created = await ctx().services.keys.create({ name: 'restricted to revoke', scopes: ['events:read', 'events:write'], organizationId: f.a.orgId });
      expect((await ctx().call('GET', `/audit_logs/events?organization_id=${f.a.orgId}`, { key: created.secret })).status).toBe(200);
      await ctx().services.keys.revoke(created.id);
      expect((await ctx().call('GET', `/audit_logs/events?organization_id=${f.a.orgId}`, { key: created.secret })).status).toBe(401);
      expect((await ctx().call('POST', '/audit_logs/events', { key: created.secret, body: eventBody(f, 'revoked-check') })).status).toBe(401);
    });
  });
});
