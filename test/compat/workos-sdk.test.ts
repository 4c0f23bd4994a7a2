/**
 * Wire compatibility with the official WorkOS Node SDK (@workos-inc/node 11): the real client, over real
 * HTTP, against a listening Verity on each backend. Everything here is something an application already
 * written against WorkOS does unchanged after pointing the SDK at Verity.
 */
import {
  BadRequestException,
  ConflictException,
  DomainDataState,
  NotFoundException,
  RateLimitExceededException,
  UnauthorizedException,
  UnprocessableEntityException,
  WorkOS,
  type CreateAuditLogEventOptions,
} from '@workos-inc/node';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY } from '../helpers/app.js';
import { describeEachBackendListening, type ListeningTestApp } from '../helpers/server.js';

interface StoredEvent {
  id: string;
  organization_id: string;
  action: string;
  occurred_at: string;
  version: number;
  actor: Record<string, unknown>;
  targets: Record<string, unknown>[];
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
interface EventList {
  object: string;
  data: StoredEvent[];
}

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A valid event in the SDK's camelCase input shape. */
function sdkEvent(overrides: Partial<CreateAuditLogEventOptions> = {}): CreateAuditLogEventOptions {
  counter += 1;
  return {
    action: 'user.signed_in',
    occurredAt: new Date(Date.UTC(2026, 10, 1, 12, 0, counter % 60, counter % 1000)),
    actor: { id: `user_${counter}`, type: 'user', name: 'Jane Doe', metadata: { role: 'admin' } },
    targets: [{ id: `team_${counter}`, type: 'team', name: 'Team', metadata: { tier: 'gold', seats: 5 } }],
    context: { location: '203.0.113.7', userAgent: 'Mozilla/5.0' },
    metadata: { source: 'sdk', flagged: false },
    ...overrides,
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the SDK call to fail, but it succeeded');
}

function sdkFor(ctx: ListeningTestApp, key: string = ADMIN_KEY, options: { maxRetries?: number } = {}): WorkOS {
  return new WorkOS(key, { apiHostname: '127.0.0.1', https: false, port: ctx.port, ...options });
}

async function eventsOf(ctx: ListeningTestApp, query: string): Promise<StoredEvent[]> {
  const response = await ctx.fetch<EventList>('GET', `/audit_logs/events?${query}`);
  expect(response.status).toBe(200);
  return response.body.data;
}

describeEachBackendListening('WorkOS Node SDK', (ctx) => {
  describe('organizations', () => {
    it('creates an organization with domain data, external id and metadata', async () => {
      const workos = sdkFor(ctx());
      const externalId = unique('ext');
      const org = await workos.organizations.createOrganization({
        name: 'Acme Inc',
        externalId,
        metadata: { tier: 'enterprise' },
        domainData: [
          { domain: 'Acme.example', state: DomainDataState.Verified },
          { domain: 'pending.acme.example', state: DomainDataState.Pending },
        ],
      });
      expect(org).toMatchObject({
        object: 'organization',
        name: 'Acme Inc',
        allowProfilesOutsideOrganization: false,
        externalId,
        metadata: { tier: 'enterprise' },
      });
      expect(org.id).toMatch(/^org_[0-9A-Z]{26}$/);
      expect(Number.isNaN(Date.parse(org.createdAt))).toBe(false);
      expect(Number.isNaN(Date.parse(org.updatedAt))).toBe(false);
      expect(org.domains.map((d) => ({ object: d.object, domain: d.domain, state: d.state }))).toEqual(
        expect.arrayContaining([
          { object: 'organization_domain', domain: 'acme.example', state: 'verified' },
          { object: 'organization_domain', domain: 'pending.acme.example', state: 'pending' },
        ]),
      );
      expect(org.domains).toHaveLength(2);
      for (const domain of org.domains) expect(domain.id).toMatch(/^org_domain_/);
    });

    it('creates an organization with nothing but a name (domains is still an array)', async () => {
      const org = await sdkFor(ctx()).organizations.createOrganization({ name: 'Bare' });
      expect(org.domains).toEqual([]);
      expect(org.externalId).toBeNull();
      expect(org.metadata).toEqual({});
    });

    it('gets an organization by id and by external id', async () => {
      const workos = sdkFor(ctx());
      const externalId = unique('ext');
      const created = await workos.organizations.createOrganization({ name: 'Lookup', externalId });
      const byId = await workos.organizations.getOrganization(created.id);
      expect(byId).toEqual(created);
      const byExternal = await workos.organizations.getOrganizationByExternalId(externalId);
      expect(byExternal).toEqual(created);
    });

    it('finds an organization by an external id that needs URL encoding', async () => {
      const workos = sdkFor(ctx());
      const externalId = `${unique('tenant')}/eu:42 é&?#%`;
      const created = await workos.organizations.createOrganization({ name: 'Encoded', externalId });
      expect((await workos.organizations.getOrganizationByExternalId(externalId)).id).toBe(created.id);
    });

    it('answers NotFoundException for unknown ids and external ids', async () => {
      const workos = sdkFor(ctx());
      const missing = await rejectionOf(workos.organizations.getOrganization('org_01HZZZZZZZZZZZZZZZZZZZZZZZ'));
      expect(missing).toBeInstanceOf(NotFoundException);
      expect(missing).toMatchObject({ status: 404, message: "Organization not found: 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ'." });
      expect((missing as NotFoundException).requestID).toMatch(/^req_/);

      const missingExternal = await rejectionOf(workos.organizations.getOrganizationByExternalId(unique('nobody')));
      expect(missingExternal).toBeInstanceOf(NotFoundException);
    });

    it('lists organizations (first page, domain filter, auto-pagination over several pages)', async () => {
      const workos = sdkFor(ctx());
      const domain = `${unique('list')}.example`;
      const tagged = await workos.organizations.createOrganization({ name: 'Tagged', domainData: [{ domain, state: DomainDataState.Verified }] });

      const firstPage = await workos.organizations.listOrganizations({ limit: 2 });
      expect(firstPage.object).toBe('list');
      expect(firstPage.data).toHaveLength(2);
      expect(firstPage.listMetadata.after).toEqual(expect.any(String));

      // The SDK sends `domains` as a comma-joined string.
      const byDomain = await workos.organizations.listOrganizations({ domains: [domain, 'unused.example'] });
      expect(byDomain.data.map((o) => o.id)).toEqual([tagged.id]);

      // More than one page of 100: autoPagination follows list_metadata.after to the end.
      const ids = new Set<string>([tagged.id]);
      for (let i = 0; i < 105; i += 1) ids.add((await ctx().services.organizations.create({ name: `Bulk ${i}` })).id);
      const all = await (await workos.organizations.listOrganizations()).autoPagination();
      const seen = all.map((o) => o.id);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of ids) expect(seen).toContain(id);
      // Newest first (the SDK asks for order=desc).
      expect(seen.indexOf(tagged.id)).toBeGreaterThan(seen.indexOf([...ids][ids.size - 1] as string));
    });

    it('updates an organization', async () => {
      const workos = sdkFor(ctx());
      const created = await workos.organizations.createOrganization({ name: 'Before', metadata: { a: '1' } });
      const externalId = unique('ext');
      const updated = await workos.organizations.updateOrganization({
        organization: created.id,
        name: 'After',
        externalId,
        metadata: { a: '2', b: '3' },
        domainData: [{ domain: 'after.example', state: DomainDataState.Pending }],
      });
      expect(updated).toMatchObject({ id: created.id, name: 'After', externalId, metadata: { a: '2', b: '3' } });
      expect(updated.domains.map((d) => [d.domain, d.state])).toEqual([['after.example', 'pending']]);
      expect(await workos.organizations.getOrganization(created.id)).toEqual(updated);

      // A partial update leaves the rest alone.
      const renamed = await workos.organizations.updateOrganization({ organization: created.id, name: 'Renamed' });
      expect(renamed).toMatchObject({ name: 'Renamed', externalId, metadata: { a: '2', b: '3' } });
    });

    it('maps a duplicate external id to ConflictException', async () => {
      const workos = sdkFor(ctx());
      const externalId = unique('ext');
      await workos.organizations.createOrganization({ name: 'First', externalId });
      const error = await rejectionOf(workos.organizations.createOrganization({ name: 'Second', externalId }));
      expect(error).toBeInstanceOf(ConflictException);
      expect(error).toMatchObject({ status: 409 });
    });

    it('deletes an organization', async () => {
      const workos = sdkFor(ctx());
      const created = await workos.organizations.createOrganization({ name: 'Doomed' });
      await expect(workos.organizations.deleteOrganization(created.id)).resolves.toBeUndefined();
      expect(await rejectionOf(workos.organizations.getOrganization(created.id))).toBeInstanceOf(NotFoundException);
      expect(await rejectionOf(workos.organizations.deleteOrganization(created.id))).toBeInstanceOf(NotFoundException);
    });
  });

  describe('audit log schemas', () => {
    it('creates versions from the SDK’s metadata types and lists them back (round trip)', async () => {
      const workos = sdkFor(ctx());
      const action = `${unique('document')}.updated`;
      const v1 = await workos.auditLogs.createSchema({
        action,
        actor: { metadata: { role: 'string' } },
        targets: [{ type: 'document', metadata: { size: 'number', public: 'boolean' } }, { type: 'user' }],
        metadata: { reason: 'string' },
      });
      expect(v1).toMatchObject({
        object: 'audit_log_schema',
        version: 1,
        actor: { metadata: { role: 'string' } },
        targets: [
          { type: 'document', metadata: { size: 'number', public: 'boolean' } },
          { type: 'user', metadata: undefined },
        ],
        metadata: { reason: 'string' },
      });
      expect(Number.isNaN(Date.parse(v1.createdAt))).toBe(false);

      const v2 = await workos.auditLogs.createSchema({ action, targets: [{ type: 'document' }] });
      expect(v2.version).toBe(2);
      // The SDK always sends an actor object; with no metadata types it deserialises to {}.
      expect(v2.actor).toEqual({ metadata: {} });
      expect(v2.metadata).toBeUndefined();

      const list = await workos.auditLogs.listSchemas(action);
      expect(list.data.map((s) => s.version)).toEqual([2, 1]);
      expect(list.data[1]).toEqual(v1);
      expect(list.data[0]).toEqual(v2);

      // The JSON Schema the SDK produced is what Verity stores.
      const raw = await ctx().fetch<{ data: Record<string, unknown>[] }>('GET', `/audit_logs/actions/${encodeURIComponent(action)}/schemas?order=asc`);
      expect(raw.body.data[0]).toMatchObject({
        actor: { metadata: { type: 'object', properties: { role: { type: 'string' } } } },
        targets: [{ type: 'document', metadata: { type: 'object', properties: { size: { type: 'number' }, public: { type: 'boolean' } } } }, { type: 'user' }],
        metadata: { type: 'object', properties: { reason: { type: 'string' } } },
      });
    });

    it('validates SDK events against the schema: matching events are stored, others get BadRequestException', async () => {
      const workos = sdkFor(ctx());
      const org = await ctx().createOrg();
      const action = `${unique('invoice')}.paid`;
      await workos.auditLogs.createSchema({
        action,
        targets: [{ type: 'invoice', metadata: { amount: 'number' } }],
        metadata: { reason: 'string' },
      });
      const actorId = unique('actor');
      await workos.auditLogs.createEvent(
        org,
        sdkEvent({ action, actor: { id: actorId, type: 'user' }, targets: [{ id: 'inv_1', type: 'invoice', metadata: { amount: 12 } }], metadata: { reason: 'ok' } }),
      );
      const bad = await rejectionOf(
        workos.auditLogs.createEvent(
          org,
          sdkEvent({ action, actor: { id: actorId, type: 'user' }, targets: [{ id: 'inv_2', type: 'invoice', metadata: { amount: 'twelve' } }], metadata: { reason: 'x' } }),
        ),
      );
      expect(bad).toBeInstanceOf(BadRequestException);
      expect(bad).toMatchObject({ status: 400, code: 'invalid_audit_log_event' });
      expect((bad as BadRequestException).errors).toEqual(expect.arrayContaining([expect.objectContaining({ instancePath: '/targets/0/metadata/amount' })]));

      // A version that does not exist is a bad request the SDK can catch as such.
      const unknownVersion = await rejectionOf(
        workos.auditLogs.createEvent(org, { ...sdkEvent({ action, actor: { id: actorId, type: 'user' }, targets: [{ id: 'inv_3', type: 'invoice' }] }), version: 99 }),
      );
      expect(unknownVersion).toBeInstanceOf(BadRequestException);
      expect(unknownVersion).toMatchObject({ status: 400, code: 'invalid_audit_log_schema_version' });
      expect((unknownVersion as BadRequestException).errors).toEqual([expect.objectContaining({ instancePath: '/version' })]);

      // A value that cannot be stored (a NUL character) is a bad request too, answered at once (no 5xx to retry).
      const started = Date.now();
      const nul = await rejectionOf(workos.auditLogs.createEvent(org, sdkEvent({ action, actor: { id: actorId, type: 'user', name: 'Bob\u0000' }, targets: [{ id: 'inv_4', type: 'invoice' }] })));
      expect(nul).toBeInstanceOf(BadRequestException);
      expect(nul).toMatchObject({ status: 400, code: 'invalid_json' });
      expect((nul as BadRequestException).errors).toEqual([expect.objectContaining({ instancePath: '/event/actor/name' })]);
      expect(Date.now() - started).toBeLessThan(2_000);

      const stored = await eventsOf(ctx(), `organization_id=${org}&actor_ids=${actorId}`);
      expect(stored.map((e) => e.targets[0]?.id)).toEqual(['inv_1']);
      expect(stored[0]?.version).toBe(1);
    });

    it('handles action names that need URL encoding (the SDK keeps ":" raw)', async () => {
      const workos = sdkFor(ctx());
      const action = `billing:${unique('invoice')}/v2 é.paid`;
      const created = await workos.auditLogs.createSchema({ action, targets: [{ type: 'invoice' }] });
      expect(created.version).toBe(1);
      const list = await workos.auditLogs.listSchemas(action);
      expect(list.data.map((s) => s.version)).toEqual([1]);
      const actions = await ctx().fetch<{ data: { name: string }[] }>('GET', '/audit_logs/actions?limit=100');
      expect(actions.body.data.map((a) => a.name)).toContain(action);
    });

    it('answers NotFoundException when listing schemas of an unknown action', async () => {
      expect(await rejectionOf(sdkFor(ctx()).auditLogs.listSchemas(unique('no.such.action')))).toBeInstanceOf(NotFoundException);
    });

    it('maps invalid schema input to UnprocessableEntityException', async () => {
      const workos = sdkFor(ctx());
      const noTargets = await rejectionOf(workos.auditLogs.createSchema({ action: unique('empty'), targets: [] }));
      expect(noTargets).toBeInstanceOf(UnprocessableEntityException);
      expect(noTargets).toMatchObject({ status: 422 });

      // A metadata "type" that is not a JSON type does not compile.
      const badType = await rejectionOf(
        workos.auditLogs.createSchema({ action: unique('badtype'), targets: [{ type: 'doc' }], metadata: { size: 'integr' as 'number' } }),
      );
      expect(badType).toBeInstanceOf(UnprocessableEntityException);
      expect(badType).toMatchObject({ status: 422, code: 'invalid_schema' });
    });
  });

  describe('audit log events', () => {
    it('creates an event the search API then finds, with every field as sent', async () => {
      const workos = sdkFor(ctx());
      const org = await ctx().createOrg();
      const actorId = unique('alice');
      const event = sdkEvent({ actor: { id: actorId, type: 'user', name: 'Alice', metadata: { role: 'owner' } } });
      await expect(workos.auditLogs.createEvent(org, event)).resolves.toBeUndefined();

      const found = await eventsOf(ctx(), `organization_id=${org}&actor_ids=${actorId}`);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        organization_id: org,
        action: 'user.signed_in',
        occurred_at: event.occurredAt.toISOString(),
        version: 1,
        actor: { id: actorId, type: 'user', name: 'Alice', metadata: { role: 'owner' } },
        targets: event.targets,
        context: { location: '203.0.113.7', user_agent: 'Mozilla/5.0' },
        metadata: { source: 'sdk', flagged: false },
      });
      expect(found[0]?.id).toMatch(/^event_/);
    });

    it('stores a repeated idempotency key once, and answers ConflictException when the body differs', async () => {
      const workos = sdkFor(ctx());
      const org = await ctx().createOrg();
      const actorId = unique('idem');
      const idempotencyKey = unique('idem-key');
      const event = sdkEvent({ actor: { id: actorId, type: 'user' } });
      await workos.auditLogs.createEvent(org, event, { idempotencyKey });
      await workos.auditLogs.createEvent(org, event, { idempotencyKey });
      expect(await eventsOf(ctx(), `organization_id=${org}&actor_ids=${actorId}`)).toHaveLength(1);

      const conflict = await rejectionOf(workos.auditLogs.createEvent(org, { ...event, action: 'user.signed_out' }, { idempotencyKey }));
      expect(conflict).toBeInstanceOf(ConflictException);
      expect(conflict).toMatchObject({ status: 409, code: 'idempotency_key_reused' });
      expect(await eventsOf(ctx(), `organization_id=${org}&actor_ids=${actorId}`)).toHaveLength(1);
    });

    it('stores the same event twice when the SDK generates the keys (no content-based dedupe)', async () => {
      const workos = sdkFor(ctx());
      const org = await ctx().createOrg();
      const actorId = unique('twice');
      const event = sdkEvent({ actor: { id: actorId, type: 'user' } });
      await workos.auditLogs.createEvent(org, event);
      await workos.auditLogs.createEvent(org, event);
      expect(await eventsOf(ctx(), `organization_id=${org}&actor_ids=${actorId}`)).toHaveLength(2);
    });

    it('maps an unknown organization to NotFoundException', async () => {
      const error = await rejectionOf(sdkFor(ctx()).auditLogs.createEvent('org_missing', sdkEvent()));
      expect(error).toBeInstanceOf(NotFoundException);
      expect(error).toMatchObject({ status: 404, message: "Organization not found: 'org_missing'." });
    });

    it('maps a missing required field to UnprocessableEntityException naming it', async () => {
      const org = await ctx().createOrg();
      // The SDK serialises `action: undefined` by leaving the key out.
      const error = await rejectionOf(sdkFor(ctx()).auditLogs.createEvent(org, { ...sdkEvent(), action: undefined as unknown as string }));
      expect(error).toBeInstanceOf(UnprocessableEntityException);
      expect(error).toMatchObject({ status: 422 });
      expect((error as UnprocessableEntityException).message).toContain('required');
      expect(await eventsOf(ctx(), `organization_id=${org}`)).toHaveLength(0);
    });

    it('maps an over-limit event to BadRequestException with the WorkOS code and errors', async () => {
      const org = await ctx().createOrg();
      const metadata = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
      const error = await rejectionOf(sdkFor(ctx()).auditLogs.createEvent(org, sdkEvent({ metadata })));
      expect(error).toBeInstanceOf(BadRequestException);
      expect(error).toMatchObject({ status: 400, code: 'invalid_audit_log_event', message: 'Invalid Audit Log event.' });
      expect((error as BadRequestException).errors).toEqual(expect.arrayContaining([expect.objectContaining({ instancePath: '/metadata' })]));
    });
  });

  describe('retention', () => {
    it('reads the default, then sets it with the SDK’s retention_period form (months are 30 days, years 365)', async () => {
      const workos = sdkFor(ctx());
      const org = await ctx().createOrg();
      expect(await workos.auditLogs.getOrganizationAuditLogsRetention({ id: org })).toEqual({ retentionPeriodInDays: ctx().config.defaultRetentionDays });

      expect(await workos.auditLogs.updateOrganizationAuditLogsRetention({ id: org, retentionPeriod: '3_MONTHS' })).toEqual({ retentionPeriodInDays: 90 });
      expect(await workos.auditLogs.getOrganizationAuditLogsRetention({ id: org })).toEqual({ retentionPeriodInDays: 90 });

      expect(await workos.auditLogs.updateOrganizationAuditLogsRetention({ id: org, retentionPeriod: '1_MONTH' })).toEqual({ retentionPeriodInDays: 30 });
      expect(await workos.auditLogs.updateOrganizationAuditLogsRetention({ id: org, retentionPeriod: '2_YEARS' })).toEqual({ retentionPeriodInDays: 730 });
      expect(await workos.auditLogs.getOrganizationAuditLogsRetention({ id: org })).toEqual({ retentionPeriodInDays: 730 });
    });

    it('maps retention errors: unknown organization → NotFoundException, bad period → UnprocessableEntityException', async () => {
      const workos = sdkFor(ctx());
      expect(await rejectionOf(workos.auditLogs.getOrganizationAuditLogsRetention({ id: 'org_missing' }))).toBeInstanceOf(NotFoundException);
      expect(await rejectionOf(workos.auditLogs.updateOrganizationAuditLogsRetention({ id: 'org_missing', retentionPeriod: '1_YEAR' }))).toBeInstanceOf(
        NotFoundException,
      );
      const org = await ctx().createOrg();
      const bad = await rejectionOf(workos.auditLogs.updateOrganizationAuditLogsRetention({ id: org, retentionPeriod: '12_MONTHS' as '1_YEAR' }));
      expect(bad).toBeInstanceOf(UnprocessableEntityException);
      expect(await workos.auditLogs.getOrganizationAuditLogsRetention({ id: org })).toEqual({ retentionPeriodInDays: ctx().config.defaultRetentionDays });
    });
  });

  describe('authentication', () => {
    it('maps a bad key to UnauthorizedException on every kind of call', async () => {
      const workos = sdkFor(ctx(), 'sk_not_a_real_key_0123456789');
      const org = await ctx().createOrg();
      const calls: (() => Promise<unknown>)[] = [
        () => workos.organizations.listOrganizations(),
        () => workos.organizations.getOrganization(org),
        () => workos.organizations.createOrganization({ name: 'Nope' }),
        () => workos.organizations.updateOrganization({ organization: org, name: 'Nope' }),
        () => workos.organizations.deleteOrganization(org),
        () => workos.auditLogs.createEvent(org, sdkEvent()),
        () => workos.auditLogs.createSchema({ action: 'x.y', targets: [{ type: 't' }] }),
        () => workos.auditLogs.listSchemas('x.y'),
        () => workos.auditLogs.getOrganizationAuditLogsRetention({ id: org }),
        () => workos.auditLogs.updateOrganizationAuditLogsRetention({ id: org, retentionPeriod: '1_MONTH' }),
      ];
      for (const call of calls) {
        const error = await rejectionOf(call());
        expect(error).toBeInstanceOf(UnauthorizedException);
        expect(error).toMatchObject({ status: 401 });
        expect((error as UnauthorizedException).requestID).toMatch(/^req_/);
      }
      // Nothing happened to the organization.
      const after = await ctx().fetch<{ name: string }>('GET', `/organizations/${org}`);
      expect(after.status).toBe(200);
      expect(after.body.name).not.toBe('Nope');
      expect(await ctx().services.organizations.getRetention(org, { kind: 'api_key', id: 'test', scopes: ['admin'], organizationId: null })).toEqual({
        retention_period_in_days: ctx().config.defaultRetentionDays,
      });
    });
  });
});

describe('rate limiting through the SDK', () => {
  describeEachBackendListening(
    'VERITY_RATE_LIMIT_PER_MINUTE=3',
    (ctx) => {
      it('maps 429 to RateLimitExceededException with retryAfter, per key', async () => {
        // Set up through services, not HTTP, so no request spends the limited budget.
        const org = (await ctx().services.organizations.create({ name: 'Limited' })).id;
        const key = (await ctx().services.keys.create({ name: 'limited', scopes: ['admin'] })).secret;
        const otherKey = (await ctx().services.keys.create({ name: 'other', scopes: ['admin'] })).secret;
        // maxRetries 0: the SDK would otherwise sleep Retry-After (up to a minute here) and retry 3 times.
        const workos = sdkFor(ctx(), key, { maxRetries: 0 });
        for (let i = 0; i < 3; i += 1) await workos.organizations.getOrganization(org);

        const started = Date.now();
        const error = await rejectionOf(workos.organizations.getOrganization(org));
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(error).toBeInstanceOf(RateLimitExceededException);
        const limited = error as RateLimitExceededException;
        expect(limited.status).toBe(429);
        expect(limited.message).toBe('Too many requests.');
        expect(limited.retryAfter).toEqual(expect.any(Number));
        expect(limited.retryAfter).toBeGreaterThanOrEqual(1);
        expect(limited.retryAfter).toBeLessThanOrEqual(60);
        expect(limited.requestID).toMatch(/^req_/);

        // Writes are limited the same way, and nothing is stored.
        const write = await rejectionOf(workos.auditLogs.createEvent(org, sdkEvent({ actor: { id: 'limited-actor', type: 'user' } })));
        expect(write).toBeInstanceOf(RateLimitExceededException);

        // The bucket is the key: another key still gets through.
        const other = sdkFor(ctx(), otherKey, { maxRetries: 0 });
        expect((await other.organizations.getOrganization(org)).id).toBe(org);
        const stored = await ctx().testDb.db.query('select id from events where organization_id = $1', [org]);
        expect(stored).toHaveLength(0);
      });
    },
    { VERITY_RATE_LIMIT_PER_MINUTE: '3' },
  );
});
