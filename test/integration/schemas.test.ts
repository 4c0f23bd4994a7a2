import { expect, it } from 'vitest';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

const roleSchema = {
  actor: { metadata: { type: 'object', properties: { role: { type: 'string' } }, required: ['role'] } },
  targets: [{ type: 'team', metadata: { type: 'object', properties: { tier: { type: 'string', enum: ['gold', 'silver'] } } } }],
};

describeEachBackend('action schemas', (ctx) => {
  it('creates immutable, numbered versions and lists them newest first', async () => {
    const action = `user.invited.${Date.now()}`;
    const v1 = await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body: roleSchema });
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ object: 'audit_log_schema', version: 1, targets: [{ type: 'team' }] });
    const v2 = await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body: { targets: [{ type: 'team' }] } });
    expect(v2.body).toMatchObject({ version: 2 });
    const list = await ctx().call<{ data: { version: number }[] }>('GET', `/audit_logs/actions/${action}/schemas`);
    expect(list.body.data.map((s) => s.version)).toEqual([2, 1]);
    expect((await ctx().call<{ data: { version: number }[] }>('GET', `/audit_logs/actions/${action}/schemas?after=2`)).body.data.map((s) => s.version)).toEqual([1]);
    for (const cursor of ['after=1e300', 'before=0x10', 'after=', 'after=1.5']) {
      const bad = await ctx().call('GET', `/audit_logs/actions/${action}/schemas?${cursor}`);
      expect(bad.status, cursor).toBe(400);
    }
    const actions = await ctx().call<{ data: { name: string; schema: { version: number } }[] }>('GET', '/audit_logs/actions?limit=100');
    expect(actions.body.data.find((a) => a.name === action)?.schema.version).toBe(2);
  });

  it('assigns distinct versions to concurrent creations', async () => {
    const action = `concurrent.${Date.now()}`;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => ctx().call<{ version: number }>('POST', `/audit_logs/actions/${action}/schemas`, { body: { targets: [{ type: 't' }] } })),
    );
    expect(responses.map((r) => r.body.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('validates events against the latest version, or the one they name', async () => {
    const org = await ctx().createOrg();
    const action = `member.added.${Date.now()}`;
    await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body: { targets: [{ type: 'team' }] } });
    await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body: roleSchema });
    const send = (event: Record<string, unknown>) => ctx().call<{ code: string; errors: { instancePath: string }[] }>('POST', '/audit_logs/events', { body: { organization_id: org, event } });

    const noRole = makeEvent({ action, actor: { id: 'u', type: 'user' }, targets: [{ id: 't', type: 'team' }] });
    const latest = await send(noRole);
    expect(latest.status).toBe(400);
    expect(latest.body.code).toBe('invalid_audit_log_event');
    expect(latest.body.errors.map((e) => e.instancePath)).toContain('/actor/metadata');

    expect((await send({ ...noRole, version: 1 })).status).toBe(200);

    const wrongTier = makeEvent({ action, actor: { id: 'u', type: 'user', metadata: { role: 'x' } }, targets: [{ id: 't', type: 'team', metadata: { tier: 'bronze' } }] });
    const tier = await send(wrongTier);
    expect(tier.status).toBe(400);
    expect(tier.body.errors.map((e) => e.instancePath)).toContain('/targets/0/metadata/tier');

    const wrongType = makeEvent({ action, actor: { id: 'u', type: 'user', metadata: { role: 'x' } }, targets: [{ id: 'd', type: 'document' }] });
    expect((await send(wrongType)).body.errors.map((e) => e.instancePath)).toContain('/targets/0/type');

    const valid = makeEvent({ action, actor: { id: 'u', type: 'user', metadata: { role: 'x' } }, targets: [{ id: 't', type: 'team', metadata: { tier: 'gold' } }] });
    expect((await send(valid)).status).toBe(200);
    const stored = await ctx().call<{ data: { version: number }[] }>('GET', `/audit_logs/events?organization_id=${org}&actions=${action}`);
    expect(stored.body.data.map((e) => e.version).sort()).toEqual([1, 2]);
  });

  it('answers 400 for a version that does not exist', async () => {
    const org = await ctx().createOrg();
    const action = `versioned.${Date.now()}`;
    await ctx().call('POST', `/audit_logs/actions/${action}/schemas`, { body: { targets: [{ type: 'team' }] } });
    const response = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ action, version: 7 }) } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'invalid_audit_log_schema_version' });
    const free = `free.${Date.now()}`;
    const noSchemas = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ action: free, version: 3 }) } });
    expect(noSchemas.status).toBe(400);
    // Version 1 is what an event without schemas is recorded as, so naming it is accepted.
    expect((await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ action: free, version: 1 }) } })).status).toBe(200);
    const stored = await ctx().call<{ data: { version: number }[] }>('GET', `/audit_logs/events?organization_id=${org}&actions=${free}`);
    expect(stored.body.data.map((e) => e.version)).toEqual([1]);
  });

  it('refuses a schema that is not valid JSON Schema, and a body without targets', async () => {
    const bad = await ctx().call('POST', '/audit_logs/actions/x.y/schemas', { body: { targets: [{ type: 't', metadata: { type: 'no-such-type' } }] } });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'invalid_schema' });
    const noTargets = await ctx().call('POST', '/audit_logs/actions/x.y/schemas', { body: { targets: [] } });
    expect(noTargets.status).toBe(422);
  });

  it('refuses a metadata schema no event could satisfy, naming the part', async () => {
    const create = (body: unknown) => ctx().call<{ message: string; code: string }>('POST', `/audit_logs/actions/unsatisfiable.${Date.now()}/schemas`, { body });
    const notObject = await create({ targets: [{ type: 'a' }], metadata: { type: 'string' } });
    expect(notObject.status).toBe(422);
    expect(notObject.body).toMatchObject({ code: 'invalid_schema' });
    expect(notObject.body.message).toContain('at metadata must describe an object');
    const objectValue = await create({ targets: [{ type: 'a', metadata: { type: 'object', properties: { x: { type: 'object' } } } }] });
    expect(objectValue.status).toBe(422);
    expect(objectValue.body.message).toContain('targets[0].metadata.properties.x allows only object');
    // What the WorkOS SDK sends, and a property allowing a value type among others, are fine.
    const fine = await create({
      targets: [{ type: 'a' }],
      actor: { metadata: { type: 'object', properties: { role: { type: 'string' }, level: { type: ['integer', 'null'] } } } },
      metadata: { type: 'object', properties: { flag: { type: 'boolean' } } },
    });
    expect(fine.status).toBe(201);
  });

  it('takes every action name an event may carry (1 to 256 characters, any text), refusing others in the documented shape', async () => {
    const org = await ctx().createOrg();
    const stamp = Date.now().toString(36);
    // Past the router's old 100-character bound (a 414 in Fastify's own body), and 256 characters that are
    // each two UTF-16 units: both are action names events accept.
    const long = `billing.${stamp}.${'x'.repeat(256 - stamp.length - 9)}`;
    const astral = `${stamp}${'😀'.repeat(256 - stamp.length)}`;
    for (const action of [long, astral]) {
      const created = await ctx().call('POST', `/audit_logs/actions/${encodeURIComponent(action)}/schemas`, { body: roleSchema });
      expect(created.status, created.body.message as string).toBe(201);
      const unmatched = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ action, targets: [{ id: 'd', type: 'document' }] }) } });
      expect(unmatched.status).toBe(400);
      expect((await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/actions/${encodeURIComponent(action)}/schemas`)).body.data).toHaveLength(1);
    }
    // No format is imposed: WorkOS documents action as a string (user.signed_in is a convention), and ingest
    // accepts any, so a schema can be given to whatever an application sends.
    expect((await ctx().call('POST', `/audit_logs/actions/${encodeURIComponent(`User Signed In ${stamp}`)}/schemas`, { body: roleSchema })).status).toBe(201);

    const tooLong = await ctx().call('POST', `/audit_logs/actions/${'y'.repeat(257)}/schemas`, { body: roleSchema });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toEqual({ message: 'Validation failed.', errors: [{ code: 'invalid', field: 'action', message: 'must NOT have more than 256 characters' }] });
    const huge = await ctx().call('POST', `/audit_logs/actions/${'z'.repeat(5000)}/schemas`, { body: roleSchema });
    expect(huge.status).toBe(400);
    expect(huge.body).toMatchObject({ code: 'bad_request' });
    const undecodable = await ctx().call('POST', '/audit_logs/actions/user.%E0%A4%A/schemas', { body: roleSchema });
    expect(undecodable.status).toBe(400);
    expect(undecodable.body).toMatchObject({ code: 'bad_request' });
  });

  it('answers 404 listing the schemas of an unknown action', async () => {
    expect((await ctx().call('GET', '/audit_logs/actions/never.seen/schemas')).status).toBe(404);
  });
});
