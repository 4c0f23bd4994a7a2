import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbKind } from '../../src/db/db.js';
import { LogAppender, type AppendOutcome } from '../../src/ingest/appender.js';
import type { EventInput } from '../../src/ingest/event.schema.js';
import { prepareEvent } from '../../src/ingest/prepare.js';
import { insertOrganization } from '../../src/organizations/organizations.sql.js';
import { verifyChain } from '../helpers/chain.js';
import { createTestDb, postgresAvailability, type TestDb } from '../helpers/db.js';

/**
 * The appender's two paths: one statement onto the head it last wrote, and the row-locked transaction it
 * falls back to when that head is not where it expects (another writer, a taken key, a deleted organization).
 */
for (const kind of ['pglite', 'postgres'] as const satisfies readonly DbKind[]) {
  const { available, reason } = kind === 'postgres' ? postgresAvailability() : { available: true, reason: null };
  const suite = available ? describe : describe.skip;
  suite(`LogAppender [${kind}]${available ? '' : ` — skipped: ${reason ?? ''}`}`, () => {
    let testDb: TestDb;
    const retries = { count: 0 };
    const metrics = { observeGroup: () => undefined, countLockedRetry: () => void (retries.count += 1) };
    const logger = pino({ level: 'silent' });
    let n = 0;
    const input = (): EventInput => {
      n += 1;
      return {
        action: 'user.signed_in',
        occurred_at: new Date(Date.UTC(2026, 10, 1, 0, 0, n)).toISOString(),
        actor: { id: `user_${n}`, type: 'user' },
        targets: [{ id: `team_${n % 3}`, type: 'team' }],
        context: { location: '10.0.0.1' },
      };
    };
    const appendOne = (appender: LogAppender, organizationId: string, key?: string): Promise<AppendOutcome> =>
      appender.append({
        organizationId,
        events: [prepareEvent(organizationId, input(), 1)],
        idempotency:
          key === undefined
            ? undefined
            : { claim: { scope: 'test', key, requestHash: `hash_${key}` }, response: { status: 200, body: '{"success":true}' } },
      });
    const createOrg = async (id: string): Promise<void> => {
      await testDb.db.transaction((tx) => insertOrganization(tx, { id, name: id, externalId: null, metadata: {}, retentionDays: 365 }));
    };

    beforeAll(async () => {
      testDb = await createTestDb(kind);
    });
    afterAll(async () => {
      await testDb.drop();
    });

    it('continues the chain when another writer moved the head in between', async () => {
      await createOrg('org_two_writers');
      const first = new LogAppender(testDb.db, logger, metrics);
      const second = new LogAppender(testDb.db, logger, metrics);
      expect(await appendOne(first, 'org_two_writers')).toEqual({ kind: 'appended', seqs: [1] });
      expect(await appendOne(second, 'org_two_writers')).toEqual({ kind: 'appended', seqs: [2] });
      const before = retries.count;
      // `first` still believes the head is at 1: its one-statement append must be refused and redone.
      expect(await appendOne(first, 'org_two_writers')).toEqual({ kind: 'appended', seqs: [3] });
      expect(retries.count).toBe(before + 1);
      // Having re-read the head, it is back on the fast path.
      expect(await appendOne(first, 'org_two_writers')).toEqual({ kind: 'appended', seqs: [4] });
      expect(retries.count).toBe(before + 1);
      expect(await verifyChain(testDb.db, 'org_two_writers')).toEqual({ valid: true, checked: 4 });
      const [head] = await testDb.db.query<{ events_stored: number }>("select events_stored from org_log_heads where organization_id = 'org_two_writers'");
      expect(head?.events_stored).toBe(4);
    });

    it('stores nothing of a group whose idempotency key is taken, and answers the repeat', async () => {
      await createOrg('org_keys');
      const appender = new LogAppender(testDb.db, logger, metrics);
      expect(await appendOne(appender, 'org_keys', 'k1')).toEqual({ kind: 'appended', seqs: [1] });
      const [again, fresh] = await Promise.all([appendOne(appender, 'org_keys', 'k1'), appendOne(appender, 'org_keys', 'k2')]);
      expect(again).toEqual({ kind: 'repeat' });
      expect(fresh).toEqual({ kind: 'appended', seqs: [2] });
      expect(await verifyChain(testDb.db, 'org_keys')).toEqual({ valid: true, checked: 2 });
    });

    it('answers not found for an organization deleted after its head was learned, and keeps its neighbours', async () => {
      await createOrg('org_deleted');
      await createOrg('org_neighbour');
      const appender = new LogAppender(testDb.db, logger, metrics);
      await appendOne(appender, 'org_deleted');
      await appendOne(appender, 'org_neighbour');
      await testDb.db.query("delete from organizations where id = 'org_deleted'");
      const [gone, neighbour] = await Promise.allSettled([appendOne(appender, 'org_deleted'), appendOne(appender, 'org_neighbour')]);
      expect(gone.status === 'rejected' && (gone.reason as { code?: string }).code).toBe('not_found');
      expect(neighbour).toEqual({ status: 'fulfilled', value: { kind: 'appended', seqs: [2] } });
      expect(await verifyChain(testDb.db, 'org_neighbour')).toEqual({ valid: true, checked: 2 });
    });

    it('keeps one log gap-free when two appenders race on it', async () => {
      await createOrg('org_race');
      const appenders = [new LogAppender(testDb.db, logger, metrics), new LogAppender(testDb.db, logger, metrics)];
      const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => appendOne(appenders[i % 2] as LogAppender, 'org_race')));
      const seqs = outcomes.flatMap((outcome) => (outcome.kind === 'appended' ? outcome.seqs : [])).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(await verifyChain(testDb.db, 'org_race')).toEqual({ valid: true, checked: 200 });
    });
  });
}
