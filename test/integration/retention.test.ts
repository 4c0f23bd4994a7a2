import { createPublicKey } from 'node:crypto';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { verifyStoredChain } from '../../src/integrity/chain.js';
import { integrityTrailer } from '../../src/integrity/export-trailer.js';
import { selectAnchor } from '../../src/integrity/integrity.sql.js';
import { IntegrityService } from '../../src/integrity/integrity.service.js';
import { verifyExportLines } from '../../src/integrity/offline-verifier.js';
import { toEventView } from '../../src/query/query.service.js';
import type { EventRow } from '../../src/query/query.sql.js';
import { ephemeralSigningKey, verificationKeyFrom } from '../../src/integrity/signing-key.js';
import { RetentionService } from '../../src/retention/retention.service.js';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';

const silent = pino({ level: 'silent' });

async function* fileLines(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines;
}
const DAY = 86_400_000;

function daysAgo(days: number): string {
  return new Date(Date.now() - days * DAY).toISOString();
}

/** Appends events in this order (seq 1, 2, …), one per age in days. */
async function seed(ctx: TestApp, orgId: string, ages: readonly number[]): Promise<void> {
  const response = await ctx.call('POST', '/audit_logs/events/batch', {
    body: { organization_id: orgId, events: ages.map((age) => makeEvent({ occurred_at: daysAgo(age) })) },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

async function setRetention(ctx: TestApp, orgId: string, days: number): Promise<void> {
  expect((await ctx.call('PUT', `/organizations/${orgId}/audit_logs_retention`, { body: { retention_period_in_days: days } })).status).toBe(200);
}

async function hashes(ctx: TestApp, orgId: string): Promise<Map<number, string>> {
  const rows = await ctx.testDb.db.query<{ seq: number; hash: string }>('select seq, hash from events where organization_id = $1', [orgId]);
  return new Map(rows.map((row) => [row.seq, row.hash]));
}

async function state(ctx: TestApp, orgId: string) {
  const db = ctx.testDb.db;
  const seqs = (await db.query<{ seq: number }>('select seq from events where organization_id = $1 order by seq', [orgId])).map((row) => row.seq);
  const [head] = await db.query<{ events_stored: number; seq: number }>('select events_stored, seq from org_log_heads where organization_id = $1', [orgId]);
  const ranges = await db.query<{ first_seq: number; last_seq: number; last_hash: string; event_count: number }>(
    'select first_seq, last_seq, last_hash, event_count from purged_ranges where organization_id = $1 order by first_seq',
    [orgId],
  );
  // With the server's key: every purged range the walk crosses must carry its signature.
  const { key_id: keyId, public_key_pem: pem } = ctx.services.integrity.publicKey();
  return { seqs, stored: head?.events_stored, headSeq: head?.seq, ranges, chain: await verifyStoredChain(db, orgId, { checkpointKeys: new Map([[keyId, createPublicKey(pem)]]) }) };
}

function purger(ctx: TestApp, batchSize: number): RetentionService {
  return new RetentionService(ctx.testDb.db, ctx.services.organizations, silent, { batchSize, signer: ctx.services.integrity });
}

describeEachBackend('retention purge and legal hold', (ctx) => {
  it('deletes only expired events, in batches, and records one exact purged range', async () => {
    const org = await ctx().createOrg();
    await setRetention(ctx(), org, 30);
    // Ten events 100 days old, then two recent ones (one just inside the period).
    await seed(ctx(), org, [100, 100, 100, 100, 100, 100, 100, 100, 100, 31, 29, 0]);
    const before = await hashes(ctx(), org);

    const outcome = await purger(ctx(), 3).purgeOrganization(org);
    expect(outcome).toEqual({ purged: 10, batches: 4, held: false });
    const after = await state(ctx(), org);
    expect(after.seqs).toEqual([11, 12]);
    expect(after.stored).toBe(2);
    expect(after.headSeq).toBe(12);
    expect(after.ranges).toEqual([{ first_seq: 1, last_seq: 10, last_hash: before.get(10), event_count: 10 }]);
    expect(after.chain).toMatchObject({ valid: true, checked: 2 });

    // Nothing more to do; appending after a purge continues the chain.
    expect(await purger(ctx(), 3).purgeOrganization(org)).toEqual({ purged: 0, batches: 0, held: false });
    await seed(ctx(), org, [0]);
    expect(await state(ctx(), org)).toMatchObject({ seqs: [11, 12, 13], stored: 3, chain: { valid: true, checked: 3 } });
  });

  it('records non-prefix purges exactly and merges ranges as later purges fill the gaps', async () => {
    const org = await ctx().createOrg();
    await setRetention(ctx(), org, 30);
    // seq:      1   2  3    4   5    6    7
    await seed(ctx(), org, [20, 1, 100, 20, 100, 100, 1]);
    const h = await hashes(ctx(), org);

    expect((await purger(ctx(), 2).purgeOrganization(org)).purged).toBe(3);
    let now = await state(ctx(), org);
    expect(now.seqs).toEqual([1, 2, 4, 7]);
    expect(now.stored).toBe(4);
    expect(now.ranges).toEqual([
      { first_seq: 3, last_seq: 3, last_hash: h.get(3), event_count: 1 },
      { first_seq: 5, last_seq: 6, last_hash: h.get(6), event_count: 2 },
    ]);
    expect(now.chain).toMatchObject({ valid: true, checked: 4 });

    // Shorter retention: 1 and 4 expire. 4 bridges 3..3 and 5..6; 1 stands alone (2 is kept).
    await setRetention(ctx(), org, 10);
    expect((await purger(ctx(), 1).purgeOrganization(org)).purged).toBe(2);
    now = await state(ctx(), org);
    expect(now.seqs).toEqual([2, 7]);
    expect(now.stored).toBe(2);
    expect(now.ranges).toEqual([
      { first_seq: 1, last_seq: 1, last_hash: h.get(1), event_count: 1 },
      { first_seq: 3, last_seq: 6, last_hash: h.get(6), event_count: 4 },
    ]);
    expect(now.chain).toMatchObject({ valid: true, checked: 2 });

    // The chain walker really depends on the ranges: a wrong last_hash is caught.
    await ctx().testDb.db.query(`update purged_ranges set last_hash = $2 where organization_id = $1 and first_seq = 3`, [org, h.get(5)]);
    expect((await verifyStoredChain(ctx().testDb.db, org)).valid).toBe(false);
  });

  it('signs the ranges it writes, and never merges into (so never re-signs) a range whose signature fails', async () => {
    const org = await ctx().createOrg();
    await setRetention(ctx(), org, 30);
    // seq:      1    2   3   4
    await seed(ctx(), org, [100, 1, 100, 1]);
    expect((await purger(ctx(), 10).purgeOrganization(org)).purged).toBe(2);
    const signed = await ctx().testDb.db.query<{ key_id: string | null; signature: string | null }>('select key_id, signature from purged_ranges where organization_id = $1', [org]);
    expect(signed).toHaveLength(2);
    expect(signed.every((range) => range.key_id === ctx().services.integrity.publicKey().key_id && range.signature !== null)).toBe(true);
    expect((await state(ctx(), org)).chain).toMatchObject({ valid: true });

    // A range altered by hand: the next purge next to it leaves it alone, and verification names it.
    await ctx().testDb.db.query(`update purged_ranges set signature = $2 where organization_id = $1 and first_seq = 1`, [org, Buffer.alloc(64, 7).toString('base64')]);
    await setRetention(ctx(), org, 1);
    expect((await purger(ctx(), 10).purgeOrganization(org)).purged).toBe(2);
    const now = await state(ctx(), org);
    // 2 and 4 joined 3..3 into 2..4; the altered 1..1 stayed apart.
    expect(now.ranges.map((range) => [range.first_seq, range.last_seq])).toEqual([
      [1, 1],
      [2, 4],
    ]);
    expect(now.chain).toMatchObject({ valid: false, reason: 'purged_range_signature_invalid', first_bad_seq: 1 });
  });

  it('purges the newest events too, and the next event still chains onto the purged head', async () => {
    const org = await ctx().createOrg();
    await setRetention(ctx(), org, 1);
    await seed(ctx(), org, [5, 5, 5]);
    const h = await hashes(ctx(), org);
    expect((await purger(ctx(), 10).purgeOrganization(org)).purged).toBe(3);
    expect(await state(ctx(), org)).toMatchObject({
      seqs: [],
      stored: 0,
      ranges: [{ first_seq: 1, last_seq: 3, last_hash: h.get(3), event_count: 3 }],
      chain: { valid: true, checked: 0 },
    });
    await seed(ctx(), org, [0]);
    expect(await state(ctx(), org)).toMatchObject({ seqs: [4], stored: 1, chain: { valid: true, checked: 1 } });
  });

  it('never touches an organization on legal hold; lifting the hold lets the next run purge', async () => {
    const held = await ctx().createOrg();
    await setRetention(ctx(), held, 7);
    await seed(ctx(), held, [50, 50, 1]);

    const placed = await ctx().call('PUT', `/organizations/${held}/legal_hold`, { body: { enabled: true, reason: 'Matter 2026-114' } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(200);
    expect(placed.body).toMatchObject({ object: 'organization', id: held, legal_hold: { enabled: true, reason: 'Matter 2026-114' } });
    const since = (placed.body as { legal_hold: { updated_at: string } }).legal_hold.updated_at;
    expect(Date.now() - Date.parse(since)).toBeLessThan(60_000);
    expect((await ctx().call('GET', `/organizations/${held}`)).body).toMatchObject({ legal_hold: { enabled: true, reason: 'Matter 2026-114', updated_at: since } });

    const run = await ctx().call<{ skipped_legal_hold: string[]; organizations: { organization_id: string }[] }>('POST', '/admin/retention/run');
    expect(run.status).toBe(200);
    expect(run.body.skipped_legal_hold).toContain(held);
    expect(run.body.organizations.map((o) => o.organization_id)).not.toContain(held);
    expect(await purger(ctx(), 1).purgeOrganization(held)).toEqual({ purged: 0, batches: 0, held: true });
    expect(await state(ctx(), held)).toMatchObject({ seqs: [1, 2, 3], stored: 3, ranges: [] });

    const lifted = await ctx().call('PUT', `/organizations/${held}/legal_hold`, { body: { enabled: false } });
    expect(lifted.body).toMatchObject({ legal_hold: { enabled: false, reason: null } });

    // Both changes are audit events in the system log, naming the organization.
    const system = await ctx().services.systemAudit.organizationId();
    const recorded = await ctx().testDb.db.query<{ action: string; data: { targets: { id: string }[]; metadata: Record<string, unknown> } }>(
      `select action, data from events where organization_id = $1 and action like 'organization.legal_hold_%' order by seq`,
      [system],
    );
    const mine = recorded.filter((event) => event.data.targets.some((target) => target.id === held));
    expect(mine.map((event) => [event.action, event.data.metadata.reason])).toEqual([
      ['organization.legal_hold_enabled', 'Matter 2026-114'],
      ['organization.legal_hold_disabled', undefined],
    ]);
    const again = await ctx().call<{ organizations: { organization_id: string; purged: number }[]; skipped_legal_hold: string[] }>('POST', '/admin/retention/run');
    expect(again.body.organizations).toContainEqual({ organization_id: held, purged: 2 });
    expect(again.body.skipped_legal_hold).not.toContain(held);
    expect(await state(ctx(), held)).toMatchObject({ seqs: [3], stored: 1, chain: { valid: true, checked: 1 } });
  });

  it('shows legal_hold on every organization object, and validates the request', async () => {
    const org = await ctx().createOrg();
    const fresh = await ctx().call('GET', `/organizations/${org}`);
    expect(fresh.body).toMatchObject({ legal_hold: { enabled: false, reason: null, updated_at: null } });
    const listed = await ctx().call<{ data: { id: string; legal_hold: unknown }[] }>('GET', '/organizations?limit=100');
    expect(listed.body.data.find((o) => o.id === org)?.legal_hold).toEqual({ enabled: false, reason: null, updated_at: null });

    expect((await ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: 'yes' } })).status).toBe(422);
    expect((await ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { reason: 'no flag' } })).status).toBe(422);
    expect((await ctx().call('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: true, extra: 1 } })).status).toBe(422);
    // A reason of the wrong length or type: one error that says so, not one per branch of "string or null".
    const long = await ctx().call<{ errors: unknown[] }>('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: true, reason: 'x'.repeat(1001) } });
    expect(long.body.errors).toEqual([{ code: 'invalid', field: 'reason', message: 'must NOT have more than 1000 characters' }]);
    const number = await ctx().call<{ errors: unknown[] }>('PUT', `/organizations/${org}/legal_hold`, { body: { enabled: true, reason: 7 } });
    expect(number.body.errors).toEqual([{ code: 'invalid', field: 'reason', message: 'must be string or null' }]);
    expect((await ctx().call('PUT', '/organizations/org_01GHZZZZZZZZZZZZZZZZZZZZZZ/legal_hold', { body: { enabled: true } })).status).toBe(404);
  });

  it('legal hold: admin scope on the key’s own organization only', async () => {
    const a = await ctx().createOrg();
    const b = await ctx().createOrg();
    const adminA = await ctx().createKey(['admin'], a);
    const readWriteA = await ctx().createKey(['events:read', 'events:write'], a);
    const readAll = await ctx().createKey(['events:read']);

    const toB = await ctx().call('PUT', `/organizations/${b}/legal_hold`, { key: adminA, body: { enabled: true } });
    const toGhost = await ctx().call('PUT', '/organizations/org_01GHZZZZZZZZZZZZZZZZZZZZZZ/legal_hold', { key: adminA, body: { enabled: true } });
    expect(toB.status).toBe(404);
    expect(toGhost.status).toBe(404);
    expect((await ctx().call('GET', `/organizations/${b}`)).body).toMatchObject({ legal_hold: { enabled: false } });

    expect((await ctx().call('PUT', `/organizations/${a}/legal_hold`, { key: readWriteA, body: { enabled: true } })).status).toBe(403);
    expect((await ctx().call('PUT', `/organizations/${a}/legal_hold`, { key: readAll, body: { enabled: true } })).status).toBe(403);
    expect((await ctx().call('PUT', `/organizations/${a}/legal_hold`, { key: adminA, body: { enabled: true, reason: 'own' } })).status).toBe(200);
    expect((await ctx().call('PUT', `/organizations/${a}/legal_hold`, { key: null, body: { enabled: false } })).status).toBe(401);
  });

  it('POST /admin/retention/run answers what it purged, and needs an unrestricted admin key', async () => {
    const a = await ctx().createOrg();
    const b = await ctx().createOrg();
    await setRetention(ctx(), a, 10);
    await setRetention(ctx(), b, 10);
    await seed(ctx(), a, [11, 12, 1]);
    await seed(ctx(), b, [2]);

    const adminA = await ctx().createKey(['admin'], a);
    expect((await ctx().call('POST', '/admin/retention/run', { key: adminA })).status).toBe(403);
    expect((await ctx().call('POST', '/admin/retention/run', { key: await ctx().createKey(['events:read', 'events:write']) })).status).toBe(403);
    expect(await state(ctx(), a)).toMatchObject({ seqs: [1, 2, 3] });

    const run = await ctx().call<{ object: string; organizations: { organization_id: string; purged: number }[]; purged_total: number; skipped_legal_hold: string[] }>(
      'POST',
      '/admin/retention/run',
    );
    expect(run.status).toBe(200);
    expect(Object.keys(run.body).sort()).toEqual(['object', 'organizations', 'purged_total', 'skipped_legal_hold']);
    expect(run.body.object).toBe('retention_run');
    expect(run.body.organizations).toContainEqual({ organization_id: a, purged: 2 });
    expect(run.body.organizations.map((o) => o.organization_id)).not.toContain(b);
    expect(run.body.purged_total).toBe(run.body.organizations.reduce((sum, o) => sum + o.purged, 0));
    expect(await state(ctx(), a)).toMatchObject({ seqs: [3], stored: 1, chain: { valid: true } });
    expect(await state(ctx(), b)).toMatchObject({ seqs: [1], stored: 1, ranges: [] });
  });

  it('runs as the scheduled retention.purge job', async () => {
    const org = await ctx().createOrg();
    await setRetention(ctx(), org, 3);
    await seed(ctx(), org, [4, 0]);
    await ctx().services.jobs.enqueue('retention.purge', {});
    expect(await ctx().services.jobs.runDue()).toBeGreaterThanOrEqual(1);
    expect(await state(ctx(), org)).toMatchObject({ seqs: [2], stored: 1, chain: { valid: true } });
  });

  it('keeps counters and the chain exact while ingest runs during a long purge', async () => {
    const org = await ctx().createOrg();
    await setRetention(ctx(), org, 30);
    for (let i = 0; i < 6; i += 1) await seed(ctx(), org, Array.from({ length: 100 }, (_, j) => (j % 10 === 9 ? 1 : 60)));
    const purge = purger(ctx(), 25).purgeOrganization(org);
    const writes = Array.from({ length: 40 }, (_, i) =>
      ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ occurred_at: daysAgo(i % 2 === 0 ? 90 : 0) }) } }),
    );
    const [outcome, ...responses] = await Promise.all([purge, ...writes]);
    for (const response of responses) expect(response.status).toBe(200);
    // 540 expired events were there from the start; backdated writes that landed during the run may be purged too.
    expect(outcome.purged).toBeGreaterThanOrEqual(540);
    expect(outcome.purged).toBeLessThanOrEqual(560);
    await purger(ctx(), 25).purgeOrganization(org);
    const [count] = await ctx().testDb.db.query<{ n: number }>('select count(*)::int as n from events where organization_id = $1', [org]);
    const now = await state(ctx(), org);
    expect(count?.n).toBe(60 + 20);
    expect(now.stored).toBe(count?.n);
    expect(now.chain).toMatchObject({ valid: true, checked: 80 });
    expect(now.ranges.reduce((sum, r) => sum + r.event_count, 0) + 80).toBe(now.headSeq);
  });

  it('keeps verifying across a signing-key rotation once the old public key is retired, and never re-signs what the old key signed', async () => {
    const db = ctx().testDb.db;
    const org = await ctx().createOrg();
    await setRetention(ctx(), org, 90);
    await seed(ctx(), org, [100, 100, 60, 60, 0]);
    // Signed with the key in use before the rotation: a checkpoint, and the purged range of events 1-2.
    await ctx().services.integrity.checkpointHeads();
    expect(await purger(ctx(), 10).purgeOrganization(org)).toMatchObject({ purged: 2 });
    const old = ctx().services.integrity.publicKey();

    const newKey = ephemeralSigningKey();
    const options = { checkpointEveryEvents: 1_000, checkpointIntervalMinutes: 10 };
    const rotated = new IntegrityService(db, newKey, { ...options, retiredKeys: [verificationKeyFrom(createPublicKey(old.public_key_pem))] });
    expect(rotated.publicKey()).toMatchObject({ key_id: newKey.keyId, retired_keys: [{ key_id: old.key_id, public_key_base64: old.public_key_base64 }] });
    expect(await rotated.verify(org)).toMatchObject({ valid: true, checked: 3, checkpoints_checked: 1, checkpoints_unverifiable: 0 });
    // Without the retired key the range removes events on the word of a key the server does not know.
    const forgetful = new IntegrityService(db, newKey, options);
    expect(await forgetful.verify(org)).toMatchObject({ valid: false, reason: 'purged_range_unknown_key', first_bad_seq: 1 });

    // Retention after the rotation records its own range beside the old one, signed with the new key: the
    // old key's range is not merged, which would sign with the new key what only the old one vouched for.
    await setRetention(ctx(), org, 30);
    const retention = new RetentionService(db, ctx().services.organizations, silent, { batchSize: 10, signer: rotated });
    expect(await retention.purgeOrganization(org)).toMatchObject({ purged: 2 });
    const ranges = await db.query<{ first_seq: number; last_seq: number; key_id: string }>(
      'select first_seq, last_seq, key_id from purged_ranges where organization_id = $1 order by first_seq',
      [org],
    );
    expect(ranges).toEqual([
      { first_seq: 1, last_seq: 2, key_id: old.key_id },
      { first_seq: 3, last_seq: 4, key_id: newKey.keyId },
    ]);
    expect(await rotated.verify(org)).toMatchObject({ valid: true, checked: 1 });
    expect(await forgetful.verify(org)).toMatchObject({ valid: false, reason: 'purged_range_unknown_key', first_bad_seq: 1 });

    // The two adjacent ranges are one run from the log's start: it anchors the chain at seq 4, and an export
    // of what is left carries both, so it proves itself complete from the start with both keys.
    expect(await selectAnchor(db, org)).toMatchObject({ first_seq: 3, last_seq: 4 });
    const lines: Record<string, unknown>[] = [];
    for await (const line of integrityTrailer(db, org, 5, 5)) lines.push(line);
    expect(lines.filter((line) => line.object === 'audit_log_purged_range').map((line) => [line.first_seq, line.last_seq, line.key_id])).toEqual([
      [1, 2, old.key_id],
      [3, 4, newKey.keyId],
    ]);
    const events = await db.query<EventRow>('select seq, received_at, data, prev_hash, hash from events where organization_id = $1 order by seq', [org]);
    const file = [...events.map((row) => JSON.stringify(toEventView(row))), ...lines.map((line) => JSON.stringify(line))];
    const keys = [newKey.publicKey, createPublicKey(old.public_key_pem)];
    expect(await verifyExportLines(fileLines(file), keys, { allowUnsigned: true })).toMatchObject({ valid: true, from_log_start: true, events: 1, purged_ranges: 2 });
    const withNewKeyOnly = await verifyExportLines(fileLines(file), [newKey.publicKey], { allowUnsigned: true });
    expect(withNewKeyOnly.problems.map((problem) => problem.reason)).toContain('purged_range_unknown_key');
  });
});
