import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../src/ingest/hash.js';
import type { AuditEvent } from '../../src/ingest/event.schema.js';
import { checkpointSignatureValid } from '../../src/integrity/checkpoint.js';
import { CHECKPOINT_DUE_JOB_KIND, CHECKPOINT_JOB_KIND } from '../../src/integrity/integrity.service.js';
import type { IntegrityView, PublicKeyView } from '../../src/integrity/integrity.schema.js';
import { splitLines, verifyExportLines } from '../../src/integrity/offline-verifier.js';
import { parsePublicKey } from '../../src/integrity/signing-key.js';
import { toEventView } from '../../src/query/query.service.js';
import type { EventRow } from '../../src/query/query.sql.js';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/process.js';

const work = mkdtempSync(path.join(tmpdir(), 'verity-integrity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function seed(ctx: TestApp, orgId: string, count: number): Promise<void> {
  const response = await ctx.call('POST', '/audit_logs/events/batch', {
    body: { organization_id: orgId, events: Array.from({ length: count }, (_, i) => makeEvent({ metadata: { n: i, ratio: i / 7 } })) },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

async function integrity(ctx: TestApp, orgId: string, verify = false, key?: string | null): Promise<{ status: number; body: IntegrityView }> {
  return ctx.call<IntegrityView>('GET', `/audit_logs/integrity?organization_id=${orgId}${verify ? '&verify=true' : ''}`, key === undefined ? {} : { key });
}

async function runJob(ctx: TestApp, kind: string): Promise<void> {
  await ctx.services.jobs.enqueue(kind, {});
  await ctx.services.jobs.runDue();
}

async function checkpointRows(ctx: TestApp, orgId: string) {
  return ctx.testDb.db.query<{ seq: number; hash: string; created_at: Date; key_id: string; signature: string }>(
    'select seq, hash, created_at, key_id, signature from checkpoints where organization_id = $1 order by seq',
    [orgId],
  );
}

/**
 * The NDJSON an export of every stored event writes: event lines in the search API's shape, then the
 * integrity trailer (purged runs, checkpoints) and the signed export statement over all lines before it.
 */
async function exportLines(ctx: TestApp, orgId: string): Promise<string[]> {
  const db = ctx.testDb.db;
  const rows = await db.query<EventRow>('select seq, received_at, data, prev_hash, hash from events where organization_id = $1 order by seq', [orgId]);
  const digest = createHash('sha256');
  const lines: string[] = [];
  const write = (line: string): void => {
    digest.update(`${line}\n`);
    lines.push(line);
  };
  rows.forEach((row) => write(JSON.stringify(toEventView(row))));
  const written = { rows: rows.length, firstSeq: rows[0]?.seq ?? null, lastSeq: rows[rows.length - 1]?.seq ?? null, linesSha256: () => digest.copy().digest('hex') };
  for await (const line of ctx.services.integrity.exportTrailer({ organization_id: orgId, id: null, filters: {} }, written)) write(JSON.stringify(line));
  return lines;
}

/** The same file as an export made before exports were signed: without its statement line. */
function unsigned(lines: readonly string[]): string[] {
  return lines.filter((line) => !line.includes('"object":"audit_log_export_statement"'));
}

/** A file's lines as the verifier reads them: each with its newline. */
async function* iterate(lines: readonly string[]): AsyncGenerator<string> {
  for (const line of lines) yield `${line}\n`;
}

describeEachBackend(
  'integrity: checkpoints, verification and offline export checks',
  (ctx) => {
    let publicKey: PublicKeyView;

    it('publishes the Ed25519 public key without an API key', async () => {
      const response = await ctx().call<PublicKeyView>('GET', '/audit_logs/integrity/public_key', { key: null });
      expect(response.status).toBe(200);
      publicKey = response.body;
      expect(publicKey).toMatchObject({ object: 'integrity_public_key', algorithm: 'Ed25519' });
      const raw = Buffer.from(publicKey.public_key_base64, 'base64');
      expect(raw).toHaveLength(32);
      expect(publicKey.key_id).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
      expect(createPublicKey(publicKey.public_key_pem).asymmetricKeyType).toBe('ed25519');
    });

    it('the checkpoint job signs each moved head once; the due job signs after N events', async () => {
      const org = await ctx().createOrg();
      await seed(ctx(), org, 5);
      await runJob(ctx(), CHECKPOINT_JOB_KIND);
      const [head] = await ctx().testDb.db.query<{ seq: number; hash: string }>('select seq, hash from org_log_heads where organization_id = $1', [org]);
      let rows = await checkpointRows(ctx(), org);
      expect(rows).toHaveLength(1);
      const row = rows[0] as (typeof rows)[number];
      expect(row).toMatchObject({ seq: 5, hash: head?.hash, key_id: publicKey.key_id });
      const key = parsePublicKey(publicKey.public_key_pem);
      if (key === undefined) throw new Error('public key does not parse');
      const statement = { organization_id: org, seq: row.seq, hash: row.hash, created_at: row.created_at.toISOString(), signature: row.signature };
      expect(checkpointSignatureValid(key, statement)).toBe(true);
      expect(checkpointSignatureValid(key, { ...statement, seq: 4 })).toBe(false);

      // Nothing new: no new checkpoint.
      await runJob(ctx(), CHECKPOINT_JOB_KIND);
      expect(await checkpointRows(ctx(), org)).toHaveLength(1);

      // VERITY_CHECKPOINT_EVERY_EVENTS=3 for this suite: 2 new events are not enough, 3 are.
      await seed(ctx(), org, 2);
      await runJob(ctx(), CHECKPOINT_DUE_JOB_KIND);
      expect(await checkpointRows(ctx(), org)).toHaveLength(1);
      await seed(ctx(), org, 1);
      await runJob(ctx(), CHECKPOINT_DUE_JOB_KIND);
      rows = await checkpointRows(ctx(), org);
      expect(rows.map((r) => r.seq)).toEqual([5, 8]);
    });

    it('GET /audit_logs/integrity returns head, anchor, recent checkpoints and the key; verify=true walks the chain', async () => {
      const org = await ctx().createOrg();
      await seed(ctx(), org, 25);
      await ctx().services.integrity.checkpointHeads();
      await seed(ctx(), org, 5);
      const plain = await integrity(ctx(), org);
      expect(plain.status).toBe(200);
      expect(plain.body).toMatchObject({
        object: 'audit_log_integrity',
        organization_id: org,
        head: { seq: 30 },
        anchor: null,
        public_key: { key_id: publicKey.key_id, public_key_pem: publicKey.public_key_pem },
      });
      expect(plain.body.verification).toBeUndefined();
      expect(plain.body.recent_checkpoints).toHaveLength(1);
      expect(plain.body.recent_checkpoints[0]).toMatchObject({ object: 'audit_log_checkpoint', organization_id: org, seq: 25, key_id: publicKey.key_id });

      const verified = await integrity(ctx(), org, true);
      expect(verified.status).toBe(200);
      expect(verified.body.verification).toMatchObject({ valid: true, checked: 30, verified_head: { seq: 30 }, checkpoints_checked: 1, checkpoints_unverifiable: 0 });
      expect(verified.body.verification?.first_bad_seq).toBeUndefined();
    });

    it('walks in chunks with keyset pagination and checks checkpoints on the way', async () => {
      const org = await ctx().createOrg();
      for (let i = 0; i < 4; i++) {
        await seed(ctx(), org, 7);
        await ctx().services.integrity.checkpointHeads();
      }
      const { verifyStoredChain } = await import('../../src/integrity/chain.js');
      const keys = new Map([[publicKey.key_id, createPublicKey(publicKey.public_key_pem)]]);
      for (const parallel of [false, true]) {
        const result = await verifyStoredChain(ctx().testDb.db, org, { chunkSize: 3, checkpointKeys: keys, parallel });
        expect(result).toMatchObject({ valid: true, checked: 28, checkpoints_checked: 4 });
      }

      // Hashes are recomputed beside the link checks (on worker threads with parallel): problems still come
      // out in seq order — a changed event in chunk 3 before a broken link in chunk 5.
      const db = ctx().testDb.db;
      await db.query(`update events set data = jsonb_set(data, '{action}', '"user.deleted"') where organization_id = $1 and seq = 8`, [org]);
      await db.query(`update events set prev_hash = $2 where organization_id = $1 and seq = 14`, [org, 'e'.repeat(64)]);
      for (const parallel of [false, true]) {
        const result = await verifyStoredChain(db, org, { chunkSize: 3, checkpointKeys: keys, parallel });
        expect(result).toMatchObject({ valid: false, reason: 'hash_mismatch', first_bad_seq: 8, checked: 7 });
      }
      await db.query(`update events set data = jsonb_set(data, '{action}', '"user.signed_in"') where organization_id = $1 and seq = 8`, [org]);
      for (const parallel of [false, true]) {
        expect(await verifyStoredChain(db, org, { chunkSize: 3, checkpointKeys: keys, parallel })).toMatchObject({ valid: false, reason: 'prev_hash_mismatch', first_bad_seq: 14 });
      }
    });

    it('keeps tenants apart and needs events:read', async () => {
      const org = await ctx().createOrg();
      const other = await ctx().createOrg();
      const ownKey = await ctx().createKey(['events:read'], org);
      expect((await integrity(ctx(), org, false, ownKey)).status).toBe(200);
      const foreign = await integrity(ctx(), other, true, ownKey);
      expect(foreign.status).toBe(404);
      const writeOnly = await ctx().createKey(['events:write']);
      expect((await integrity(ctx(), org, false, writeOnly)).status).toBe(403);
      expect((await integrity(ctx(), org, false, null)).status).toBe(401);
      expect((await integrity(ctx(), 'org_does_not_exist')).status).toBe(404);
    });

    describe('detects tampering in the database', () => {
      async function tampered(prepare: (db: TestApp['testDb']['db'], org: string) => Promise<void>, count = 6): Promise<NonNullable<IntegrityView['verification']>> {
        const org = await ctx().createOrg();
        await seed(ctx(), org, count);
        await ctx().services.integrity.checkpointHeads();
        expect((await integrity(ctx(), org, true)).body.verification?.valid).toBe(true);
        await prepare(ctx().testDb.db, org);
        const response = await integrity(ctx(), org, true);
        expect(response.status).toBe(200);
        const verification = response.body.verification;
        if (verification === undefined) throw new Error('no verification');
        expect(verification.valid).toBe(false);
        return verification;
      }

      it('a changed event', async () => {
        const v = await tampered((db, org) => db.query(`update events set data = jsonb_set(data, '{action}', '"user.deleted"') where organization_id = $1 and seq = 3`, [org]).then(() => undefined));
        expect(v).toMatchObject({ reason: 'hash_mismatch', first_bad_seq: 3, checked: 2 });
      });

      it('a changed number deep inside an event', async () => {
        const v = await tampered((db, org) => db.query(`update events set data = jsonb_set(data, '{metadata,ratio}', '0.5') where organization_id = $1 and seq = 4`, [org]).then(() => undefined));
        expect(v).toMatchObject({ reason: 'hash_mismatch', first_bad_seq: 4 });
      });

      it('a search column rewritten in place (time, action or actor): hashes hold, the event would hide from filters', async () => {
        const moved = await tampered((db, org) => db.query(`update events set occurred_at = '2020-01-01T00:00:00Z' where organization_id = $1 and seq = 4`, [org]).then(() => undefined));
        expect(moved).toMatchObject({ reason: 'columns_mismatch', first_bad_seq: 4, checked: 4 });
        const renamed = await tampered((db, org) => db.query(`update events set actor_id = 'someone_else' where organization_id = $1 and seq = 2`, [org]).then(() => undefined));
        expect(renamed).toMatchObject({ reason: 'columns_mismatch', first_bad_seq: 2 });
        const relabelled = await tampered((db, org) => db.query(`update events set action = 'user.viewed' where organization_id = $1 and seq = 5`, [org]).then(() => undefined));
        expect(relabelled).toMatchObject({ reason: 'columns_mismatch', first_bad_seq: 5 });
        // A document whose time is no longer a time: reported, not a failed walk.
        const garbled = await tampered((db, org) => db.query(`update events set data = jsonb_set(data, '{occurred_at}', '"yesterday"') where organization_id = $1 and seq = 3`, [org]).then(() => undefined));
        expect(garbled).toMatchObject({ reason: 'hash_mismatch', first_bad_seq: 3 });
      });

      it('a deleted event', async () => {
        const v = await tampered((db, org) => db.query('delete from events where organization_id = $1 and seq = 3', [org]).then(() => undefined));
        expect(v).toMatchObject({ reason: 'missing_event', first_bad_seq: 3 });
      });

      it('a swapped pair', async () => {
        const v = await tampered(async (db, org) => {
          await db.query('update events set seq = -1 where organization_id = $1 and seq = 2', [org]);
          await db.query('update events set seq = 2 where organization_id = $1 and seq = 3', [org]);
          await db.query('update events set seq = 3 where organization_id = $1 and seq = -1', [org]);
        });
        expect(v).toMatchObject({ reason: 'prev_hash_mismatch', first_bad_seq: 2 });
      });

      it('a truncated tail', async () => {
        const v = await tampered((db, org) => db.query('delete from events where organization_id = $1 and seq >= 5', [org]).then(() => undefined));
        expect(v).toMatchObject({ reason: 'missing_event', first_bad_seq: 5 });
      });

      it('history rewritten consistently (hashes and head recomputed): the signed checkpoint disagrees', async () => {
        const v = await tampered(async (db, org) => {
          const rows = await db.query<{ seq: number; data: AuditEvent; prev_hash: string }>('select seq, data, prev_hash from events where organization_id = $1 and seq >= 3 order by seq', [org]);
          let prev = (rows[0] as (typeof rows)[number]).prev_hash;
          for (const row of rows) {
            const data = row.seq === 3 ? { ...row.data, action: 'user.deleted' } : row.data;
            const hash = chainHash(prev, data);
            // Consistently: the search columns follow the document.
            await db.query("update events set data = $3::jsonb, action = $3::jsonb->>'action', prev_hash = $4, hash = $5 where organization_id = $1 and seq = $2", [org, row.seq, JSON.stringify(data), prev, hash]);
            prev = hash;
          }
          await db.query('update org_log_heads set hash = $2 where organization_id = $1', [org, prev]);
        });
        expect(v).toMatchObject({ reason: 'checkpoint_mismatch', first_bad_seq: 6, checked: 6 });
      });

      it('a truncated tail with the head moved back: the checkpoint is beyond the head', async () => {
        const v = await tampered(async (db, org) => {
          const [row] = await db.query<{ hash: string }>('select hash from events where organization_id = $1 and seq = 4', [org]);
          await db.query('delete from events where organization_id = $1 and seq > 4', [org]);
          await db.query('update org_log_heads set seq = 4, hash = $2 where organization_id = $1', [org, row?.hash]);
        });
        expect(v).toMatchObject({ reason: 'checkpoint_beyond_head', first_bad_seq: 6 });
      });

      it('a forged checkpoint signature', async () => {
        const v = await tampered((db, org) =>
          db.query(`update checkpoints set signature = $2 where organization_id = $1`, [org, Buffer.alloc(64, 7).toString('base64')]).then(() => undefined),
        );
        expect(v).toMatchObject({ reason: 'checkpoint_signature_invalid', first_bad_seq: 6 });
      });
    });

    describe('after retention purged events', () => {
      /** What retention does, signed with the server's key as the purge signs it (or, `signed: false`, by hand). */
      async function purge(db: TestApp['testDb']['db'], org: string, first: number, last: number, options: { lastHash?: string; signed?: boolean } = {}): Promise<void> {
        const [row] = await db.query<{ hash: string }>('select hash from events where organization_id = $1 and seq = $2', [org, last]);
        const lastHash = options.lastHash ?? row?.hash ?? '';
        const purgedAt = new Date().toISOString();
        const signature =
          options.signed === false ? { key_id: null, signature: null } : ctx().services.integrity.signRange({ organization_id: org, first_seq: first, last_seq: last, last_hash: lastHash, purged_at: purgedAt });
        await db.query(
          'insert into purged_ranges (organization_id, first_seq, last_seq, last_hash, event_count, purged_at, key_id, signature) values ($1, $2, $3, $4, $5, $6, $7, $8)',
          [org, first, last, lastHash, last - first + 1, purgedAt, signature.key_id, signature.signature],
        );
        await db.query('delete from events where organization_id = $1 and seq between $2 and $3', [org, first, last]);
      }

      it('verifies from the anchor and across a purged run in the middle', async () => {
        const org = await ctx().createOrg();
        await seed(ctx(), org, 12);
        await ctx().services.integrity.checkpointHeads();
        const db = ctx().testDb.db;
        const [fourth] = await db.query<{ hash: string }>('select hash from events where organization_id = $1 and seq = 4', [org]);
        await purge(db, org, 1, 4);
        await purge(db, org, 7, 8);
        const response = await integrity(ctx(), org, true);
        expect(response.body.anchor).toEqual({ seq: 4, hash: fourth?.hash });
        expect(response.body.verification).toMatchObject({ valid: true, checked: 6, checkpoints_checked: 1 });

        // The NDJSON export of what is left proves completeness from the anchor.
        const report = await verifyExportLines(iterate(await exportLines(ctx(), org)), [createPublicKey(publicKey.public_key_pem)]);
        expect(report).toMatchObject({ valid: true, complete: true, contiguous: true, from_log_start: true, events: 6, purged_ranges: 2, signed_through: 12 });
      });

      it('a purged range that does not link is caught', async () => {
        const org = await ctx().createOrg();
        await seed(ctx(), org, 6);
        await purge(ctx().testDb.db, org, 2, 3, { lastHash: 'f'.repeat(64) });
        expect((await integrity(ctx(), org, true)).body.verification).toMatchObject({ valid: false, reason: 'prev_hash_mismatch', first_bad_seq: 4 });
      });

      it('a range written by hand, or widened over more events, is caught by its signature', async () => {
        const db = ctx().testDb.db;
        const forged = await ctx().createOrg();
        await seed(ctx(), forged, 6);
        await purge(db, forged, 3, 4, { signed: false });
        expect((await integrity(ctx(), forged, true)).body.verification).toMatchObject({ valid: false, reason: 'purged_range_unsigned', first_bad_seq: 3 });

        const widened = await ctx().createOrg();
        await seed(ctx(), widened, 6);
        await purge(db, widened, 2, 2);
        // Events 3 and 4 deleted outside retention, and the signed range stretched over them with the right hash.
        const [fourth] = await db.query<{ hash: string }>('select hash from events where organization_id = $1 and seq = 4', [widened]);
        await db.query('delete from events where organization_id = $1 and seq between 3 and 4', [widened]);
        await db.query('update purged_ranges set last_seq = 4, last_hash = $2 where organization_id = $1', [widened, fourth?.hash]);
        expect((await integrity(ctx(), widened, true)).body.verification).toMatchObject({ valid: false, reason: 'purged_range_signature_invalid', first_bad_seq: 2 });

        // A row naming a key the server does not hold is not "unverifiable": it fails.
        const foreign = await ctx().createOrg();
        await seed(ctx(), foreign, 6);
        await purge(db, foreign, 3, 4, { signed: false });
        await db.query("update purged_ranges set key_id = 'k-retired', signature = $2 where organization_id = $1", [foreign, Buffer.alloc(64, 1).toString('base64')]);
        expect((await integrity(ctx(), foreign, true)).body.verification).toMatchObject({ valid: false, reason: 'purged_range_unknown_key', first_bad_seq: 3 });

        // Exported, the forged range is refused offline too, even under a valid export statement.
        const report = await verifyExportLines(iterate(await exportLines(ctx(), forged)), [createPublicKey(publicKey.public_key_pem)]);
        expect(report.problems.map((p) => p.reason)).toEqual(['purged_range_unsigned']);
      });

      it('ranges recorded before ranges were signed are signed once, at the first start after the upgrade', async () => {
        const db = ctx().testDb.db;
        const org = await ctx().createOrg();
        await seed(ctx(), org, 5);
        await purge(db, org, 1, 2, { signed: false });
        // The test database had the backfill done when its app started (or not at all): make it due again.
        await db.query("delete from integrity_backfills where name = 'purged_range_signatures'");
        expect(await ctx().services.integrity.signLegacyRanges()).toBeGreaterThanOrEqual(1);
        expect((await integrity(ctx(), org, true)).body.verification).toMatchObject({ valid: true });
        // Once only: a range written by hand afterwards stays unsigned.
        const later = await ctx().createOrg();
        await seed(ctx(), later, 5);
        await purge(db, later, 1, 2, { signed: false });
        expect(await ctx().services.integrity.signLegacyRanges()).toBe(0);
        expect((await integrity(ctx(), later, true)).body.verification).toMatchObject({ valid: false, reason: 'purged_range_unsigned' });
      });

      it('a deletion next to a purged run is still caught', async () => {
        const org = await ctx().createOrg();
        await seed(ctx(), org, 6);
        const db = ctx().testDb.db;
        await purge(db, org, 1, 2);
        await db.query('delete from events where organization_id = $1 and seq = 3', [org]);
        expect((await integrity(ctx(), org, true)).body.verification).toMatchObject({ valid: false, reason: 'missing_event', first_bad_seq: 3 });
      });
    });

    it('an NDJSON export made by the export job carries a trailer that proves it complete; a filtered one verifies without', async () => {
      const org = await ctx().createOrg();
      await seed(ctx(), org, 6);
      await ctx().services.integrity.checkpointHeads();
      const extra = await ctx().call('POST', '/audit_logs/events/batch', {
        body: { organization_id: org, events: [makeEvent({ action: 'user.signed_out' }), makeEvent(), makeEvent({ action: 'user.signed_out' })] },
      });
      expect(extra.status).toBe(200);
      const range = { range_start: '2026-01-01T00:00:00Z', range_end: '2027-01-01T00:00:00Z' };
      const run = async (body: Record<string, unknown>): Promise<string[]> => {
        const created = await ctx().call<{ id: string }>('POST', '/audit_logs/exports', { body: { organization_id: org, ...range, format: 'ndjson', ...body } });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        await ctx().services.jobs.runDue();
        const ready = await ctx().call<{ state: string; url?: string }>('GET', `/audit_logs/exports/${created.body.id}`);
        expect(ready.body.state).toBe('ready');
        const link = new URL(ready.body.url ?? '');
        const file = await ctx().app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
        expect(file.statusCode).toBe(200);
        return file.body.split('\n').filter((line) => line !== '');
      };
      const key = createPublicKey(publicKey.public_key_pem);

      const full = await run({});
      expect(full.filter((line) => line.includes('"object":"audit_log_checkpoint"')).map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([6, 9]);
      const statement = JSON.parse(full[full.length - 1] as string) as { export_id: string };
      expect(statement.export_id).toMatch(/^audit_log_export_/);
      expect(statement).toMatchObject({
        object: 'audit_log_export_statement',
        organization_id: org,
        filters: { range_start: '2026-01-01T00:00:00.000Z', range_end: '2027-01-01T00:00:00.000Z', actions: [] },
        events: 9,
        first_seq: 1,
        last_seq: 9,
        complete: true,
      });
      expect(await verifyExportLines(iterate(full), [key])).toMatchObject({ valid: true, complete: true, events: 9, signed_through: 9, from_log_start: true, statement: { complete: true } });

      const filtered = await run({ actions: ['user.signed_out'] });
      const report = await verifyExportLines(iterate(filtered), [key]);
      expect(report).toMatchObject({ valid: true, complete: false, contiguous: false, events: 2, statement: { complete: false, filters: { actions: ['user.signed_out'] } } });

      // Nothing matched: the file holds only the statement, and it verifies.
      const empty = await run({ actions: ['user.never_happened'] });
      expect(empty).toHaveLength(1);
      expect(await verifyExportLines(iterate(empty), [key])).toMatchObject({ valid: true, events: 0, statement: { complete: true } });
    });

    describe('offline verification of an NDJSON export', () => {
      let org: string;
      let good: string[];
      let pemFile: string;

      async function files(): Promise<void> {
        if (good !== undefined) return;
        org = await ctx().createOrg();
        await seed(ctx(), org, 8);
        await ctx().services.integrity.checkpointHeads();
        await seed(ctx(), org, 4);
        good = await exportLines(ctx(), org);
        pemFile = path.join(work, `${ctx().kind}-key.pem`);
        writeFileSync(pemFile, publicKey.public_key_pem);
      }

      function write(name: string, lines: readonly string[]): string {
        const file = path.join(work, `${ctx().kind}-${name}.ndjson`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        return file;
      }

      /** Index of the event line with this seq. */
      function lineOf(lines: readonly string[], seq: number): number {
        return lines.findIndex((line) => line.includes('"object":"audit_log_event"') && (JSON.parse(line) as { seq: number }).seq === seq);
      }

      function flipByte(lines: readonly string[], seq: number): string[] {
        const copy = [...lines];
        const index = lineOf(copy, seq);
        copy[index] = (copy[index] as string).replace('"action":"user.signed_in"', '"action":"user.signed_im"');
        expect(copy[index]).not.toBe(lines[index]);
        return copy;
      }

      function without(lines: readonly string[], seq: number): string[] {
        const index = lineOf(lines, seq);
        return lines.filter((_, i) => i !== index);
      }

      function swapped(lines: readonly string[], seq: number): string[] {
        const copy = [...lines];
        const a = lineOf(copy, seq);
        [copy[a], copy[a + 1]] = [copy[a + 1] as string, copy[a] as string];
        return copy;
      }

      function forged(lines: readonly string[]): string[] {
        return lines.map((line) => {
          if (!line.includes('"object":"audit_log_checkpoint"')) return line;
          const checkpoint = JSON.parse(line) as { signature: string };
          const bytes = Buffer.from(checkpoint.signature, 'base64');
          bytes[10] = (bytes[10] as number) ^ 0x01;
          return JSON.stringify({ ...checkpoint, signature: bytes.toString('base64') });
        });
      }

      it('the CLI accepts the untouched file and rejects each tampered one', async () => {
        await files();
        const cases: [string, string[], number, RegExp][] = [
          ['good', good, 0, /VALID and COMPLETE: 12 event\(s\), seq 1–12/],
          ['flipped', flipByte(good, 5), 1, /\[hash_mismatch\] line 5: event seq 5/],
          ['deleted', without(good, 6), 1, /\[missing_event\] event seq 6 is missing/],
          ['reordered', swapped(good, 3), 1, /\[out_of_order\]/],
          ['forged', forged(good), 1, /\[checkpoint_signature_invalid\]/],
        ];
        const results = await Promise.all(cases.map(([name, lines]) => runCli(['verify', '--file', write(name, lines), '--public-key', pemFile], {})));
        cases.forEach(([name, , code, pattern], i) => {
          const result = results[i] as Awaited<ReturnType<typeof runCli>>;
          expect(result.code, `${name}: ${result.stdout}${result.stderr}`).toBe(code);
          expect(result.stdout, name).toMatch(pattern);
          if (code === 1) expect(result.stdout, name).toMatch(/INVALID/);
        });
      }, 60_000);

      it('accepts a gzip file and a base64 key, and reports JSON', async () => {
        await files();
        const file = path.join(work, `${ctx().kind}-good.ndjson.gz`);
        writeFileSync(file, gzipSync(`${good.join('\n')}\n`));
        const result = await runCli(['verify', '--file', file, '--public-key', publicKey.public_key_base64, '--json', '--require-complete'], {});
        expect(result.code, result.stderr).toBe(0);
        const report = JSON.parse(result.stdout) as { complete: boolean; events: number; checkpoints: { matched: number } };
        expect(report).toMatchObject({ complete: true, events: 12, checkpoints: { matched: 2 } });
        expect(readFileSync(file).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

        // A gzip file cut short is INVALID, not an error message.
        const cut = path.join(work, `${ctx().kind}-cut.ndjson.gz`);
        const zipped = readFileSync(file);
        writeFileSync(cut, zipped.subarray(0, zipped.length - 9));
        const truncated = await runCli(['verify', '--file', cut, '--public-key', publicKey.public_key_base64], {});
        expect(truncated.code).toBe(1);
        expect(truncated.stdout).toContain('INVALID: ');
        expect(truncated.stdout).toContain('is not an intact gzip file');
      }, 30_000);

      it('an unsigned file (made before exports were signed) verifies only with --allow-unsigned, event by event', async () => {
        await files();
        const key = createPublicKey(publicKey.public_key_pem);
        // No statement: a skipped seq could be a filter; nothing proves a deletion.
        const legacy = without(unsigned(good), 6);
        expect((await verifyExportLines(iterate(legacy), [key])).problems.map((p) => p.reason)).toEqual(['unsigned_export']);
        // Ending as older exports did, with an unsigned range line: the message says how to check it.
        const older = [...unsigned(good), JSON.stringify({ object: 'audit_log_export_range', organization_id: org, first_seq: 1, last_seq: 12, complete: true })];
        expect((await verifyExportLines(iterate(older), [key])).summary).toMatch(/as exports made before Verity signed them did.*--allow-unsigned/);
        expect(await verifyExportLines(iterate(older), [key], { allowUnsigned: true })).toMatchObject({ valid: true, complete: true });
        const report = await verifyExportLines(iterate(legacy), [key], { allowUnsigned: true });
        expect(report).toMatchObject({ valid: true, complete: false, contiguous: false, signed_through: null, statement: null });
        expect(report.summary).toMatch(/events verified individually; completeness not provable/);
        const strict = await runCli(['verify', '--file', write('legacy', legacy), '--public-key', pemFile], {});
        expect(strict.code).toBe(1);
        expect(strict.stdout).toMatch(/\[unsigned_export\]/);
        const cli = await runCli(['verify', '--file', write('legacy', legacy), '--public-key', pemFile, '--allow-unsigned', '--require-complete'], {});
        expect(cli.code).toBe(1);
        expect(cli.stdout).toMatch(/FAILED --require-complete/);
      }, 30_000);

      it('the signed statement catches what event hashes cannot: a forged purged range, a changed received_at, a cut or altered trailer', async () => {
        await files();
        const key = createPublicKey(publicKey.public_key_pem);
        const reasons = async (lines: string[]): Promise<string[]> => (await verifyExportLines(iterate(lines), [key])).problems.map((p) => p.reason);
        const statementAt = good.length - 1;

        // Event 6 deleted, and an unsigned purged-range line bridging it with the right hash.
        const sixth = JSON.parse(good[lineOf(good, 6)] as string) as { hash: string };
        const bridged = without(good, 6);
        bridged.splice(bridged.length - 1, 0, JSON.stringify({ object: 'audit_log_purged_range', organization_id: org, first_seq: 6, last_seq: 6, last_hash: sixth.hash }));
        expect(await reasons(bridged)).toEqual(['purged_range_unsigned', 'statement_mismatch']);

        // A byte outside the hashed document.
        const received = [...good];
        received[lineOf(good, 3)] = (received[lineOf(good, 3)] as string).replace(/"received_at":"(\d)/, (_, digit: string) => `"received_at":"${digit === '1' ? '2' : '1'}`);
        expect(received[lineOf(good, 3)]).not.toBe(good[lineOf(good, 3)]);
        expect(await reasons(received)).toEqual(['statement_mismatch']);

        // The tail and the trailer cut off; the statement's completeness claim flipped; a line appended after it.
        expect(await reasons(good.slice(0, lineOf(good, 10)))).toEqual(['unsigned_export']);
        const claim = JSON.parse(good[statementAt] as string) as Record<string, unknown>;
        expect(await reasons([...good.slice(0, statementAt), JSON.stringify({ ...claim, complete: false })])).toEqual(['statement_signature_invalid']);
        expect(await reasons([...good, good[lineOf(good, 2)] as string])).toEqual(['lines_after_statement']);

        // Whitespace is bytes too: a carriage return in a line, a file turned to CRLF, a blank line after the
        // statement, the final newline cut (read as the CLI reads files).
        async function* chunked(text: string): AsyncGenerator<string> {
          for (let at = 0; at < text.length; at += 97) yield text.slice(at, at + 97);
        }
        const raw = async (text: string): Promise<string[]> => (await verifyExportLines(splitLines(chunked(text)), [key])).problems.map((p) => p.reason);
        const file = good.map((line) => `${line}\n`).join('');
        expect(await raw(file)).toEqual([]);
        expect(await raw(file.replace('\n', '\r\n'))).toEqual(['statement_mismatch']);
        // (every line's bytes, and the statement line's own)
        expect(await raw(file.replaceAll('\n', '\r\n'))).toEqual(['statement_mismatch', 'statement_mismatch']);
        expect(await raw(`${file}\n`)).toEqual(['lines_after_statement']);
        expect(await raw(`${file} \n`)).toEqual(['lines_after_statement']);
        expect(await raw(file.slice(0, -1))).toEqual(['lines_after_statement']);
        // The statement line's own bytes: its signature covers its fields, the line must match them exactly.
        const statementLine = good[statementAt] as string;
        const respaced = good.map((line, i) => (i === statementAt ? JSON.stringify(JSON.parse(line), null, 1).replace(/\n\s*/g, ' ') : line));
        expect(await reasons(respaced)).toEqual(['statement_mismatch']);
        expect(await raw(file.replace(`${statementLine}\n`, `${statementLine}\r\n`))).toEqual(['statement_mismatch']);
        expect(await reasons(good.map((line, i) => (i === statementAt ? line.replace(/}$/, ',"note":"injected"}') : line)))).toEqual(['statement_mismatch']);
        // Bytes that are not UTF-8 are refused, not read as U+FFFD.
        async function* notUtf8(): AsyncGenerator<Buffer> {
          yield Buffer.from([0x7b, 0xff, 0x7d, 0x0a]);
        }
        await expect(verifyExportLines(splitLines(notUtf8()), [key])).rejects.toThrow('line 1 is not valid UTF-8');

        // A deletion with the statement intact is named, not only detected.
        const deleted = await verifyExportLines(iterate(without(good, 6)), [key]);
        expect(deleted.problems.map((p) => p.reason)).toEqual(['statement_mismatch', 'missing_event']);
        expect(deleted.problems[1]?.seq).toBe(6);
      });

      it('catches relabelled seqs, rewritten hashes, a wrong key and a missing tail', async () => {
        await files();
        const key = createPublicKey(publicKey.public_key_pem);
        // The chain's own checks, on the unsigned form (the statement would flag every change first).
        const check = async (lines: string[], keys = [key]) => verifyExportLines(iterate(unsigned(lines)), keys, { allowUnsigned: true });

        // Lines swapped and their seqs swapped back, so the order looks right: the links break.
        const relabelled = swapped(good, 3).map((line) => {
          if (!line.includes('"object":"audit_log_event"')) return line;
          const event = JSON.parse(line) as { seq: number };
          if (event.seq === 3 || event.seq === 4) return JSON.stringify({ ...event, seq: 7 - event.seq });
          return line;
        });
        expect((await check(relabelled)).problems[0]?.reason).toBe('prev_hash_mismatch');

        // The changed event rehashed, and every later link rehashed: only the signed checkpoints disagree.
        const rewritten = [...good];
        let prev = '';
        for (let i = 0; i < rewritten.length; i++) {
          const line = rewritten[i] as string;
          if (!line.includes('"object":"audit_log_event"')) continue;
          const { object, seq, hash, prev_hash: _prevHash, received_at: receivedAt, ...document } = JSON.parse(line) as Record<string, unknown> & { seq: number; hash: string; prev_hash: string };
          if (seq < 5) {
            prev = hash;
            continue;
          }
          const changed = seq === 5 ? { ...document, action: 'user.deleted' } : document;
          const newHash = chainHash(prev, changed as unknown as AuditEvent);
          rewritten[i] = JSON.stringify({ object, ...changed, seq, hash: newHash, prev_hash: prev, received_at: receivedAt });
          prev = newHash;
        }
        expect((await check(rewritten)).problems.map((p) => p.reason)).toEqual(['checkpoint_mismatch', 'checkpoint_mismatch']);

        const stranger = parsePublicKey(Buffer.alloc(32, 9).toString('base64'));
        if (stranger === undefined) throw new Error('key');
        expect((await check(good, [stranger])).problems[0]?.reason).toBe('checkpoint_unknown_key');

        const tailless = good.filter((line) => !line.includes('"seq":12,') || !line.includes('audit_log_event'));
        // Only the signed statement knows where the file should end.
        expect((await verifyExportLines(iterate(tailless), [key])).problems.map((p) => p.reason)).toEqual(['statement_mismatch', 'missing_event']);
      });
    });
  },
  { VERITY_CHECKPOINT_EVERY_EVENTS: '3' },
);
