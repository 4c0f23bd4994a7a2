import { pino } from 'pino';
import { expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import { GIN_PENDING_LIST_LIMIT_KB, GinPendingCleaner } from '../../src/ingest/gin-pending-cleaner.js';
import { cleanGinPendingLists, LOG_CHANNEL } from '../../src/ingest/ingest.sql.js';
import { AppendSignal } from '../../src/query/append-signal.js';
import { describeEachBackendWith } from '../helpers/app.js';
import { createTestDb } from '../helpers/db.js';

const ORG = 'org_01GINTEST00000000000000000';
let nextSeq = 1;

/** Rows as ingest writes them, as far as the GIN indexes see them (tags and search text). */
async function insertEvents(db: Db, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const seq = nextSeq++;
    await db.query(
      `insert into events (organization_id, seq, id, occurred_at, action, actor_id, tags, search_text, data, prev_hash, hash)
       values ($1, $2, $3, now(), 'user.signed_in', 'user_1', $4, $5, '{}', '', '')`,
      [ORG, seq, `event_gin_${seq}`, [`an:name ${seq}`, `tid:team_${seq}`], `user.signed_in user_${seq} team_${seq} 203.0.113.${seq % 250}`],
    );
  }
}

async function startDb(kind: 'pglite' | 'postgres'): Promise<{ db: Db; kind: string; close(): Promise<void> }> {
  const testDb = await createTestDb(kind);
  return { db: testDb.db, kind, close: () => testDb.drop() };
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const silent = pino({ level: 'silent' });
const noSignal = { subscribeAll: async (): Promise<() => void> => () => undefined };

/** The NOTIFY an append sends when it commits (see notifySql), here for the events insertEvents wrote. */
async function announceAppend(db: Db): Promise<void> {
  await db.query(`select pg_notify($1, $2)`, [LOG_CHANNEL, `${ORG}:${nextSeq - 1}`]);
}

describeEachBackendWith('GIN pending lists', startDb, (ctx) => {
  it('are filled by inserts, and cleanOnce merges them (and counts what it merged)', async () => {
    await insertEvents(ctx().db, 50);
    const counted: [string, number][] = [];
    const cleaner = new GinPendingCleaner(ctx().db, noSignal, silent, { metrics: { countGinMerge: (outcome, pages) => counted.push([outcome, pages]) } });
    const pages = await cleaner.cleanOnce();
    expect(pages).toBeGreaterThan(0);
    expect(counted).toEqual([['merged', pages]]);
    expect(await cleanGinPendingLists(ctx().db)).toBe(0);
  });

  it('are merged in the background after an append is signalled on PostgreSQL, and left to inserts on PGlite', async () => {
    const signal = new AppendSignal(ctx().db, silent);
    const cleaner = new GinPendingCleaner(ctx().db, signal, silent, { intervalMs: 20 });
    await cleaner.start();
    await insertEvents(ctx().db, 50);
    await announceAppend(ctx().db);
    await wait(300);
    await cleaner.stop();
    await signal.close();
    const left = await cleanGinPendingLists(ctx().db);
    if (ctx().kind === 'postgres') expect(left).toBe(0);
    else expect(left).toBeGreaterThan(0);
  });

  it('raise the pending-list limits out of the inserts\' way when the cleaner starts, on PostgreSQL only', async () => {
    const limits = async (): Promise<string[]> =>
      (
        await ctx().db.query<{ option: string }>(
          `select c.relname || ':' || coalesce(array_to_string(c.reloptions, ','), '') as option from pg_class c
           where c.relname in ('events_org_search_idx', 'events_org_tags_idx') order by c.relname`,
        )
      ).map((row) => row.option);
    // As the migrations leave them (an earlier test in this database may have started a cleaner).
    await ctx().db.exec('alter index events_org_search_idx reset (gin_pending_list_limit); alter index events_org_tags_idx reset (gin_pending_list_limit)');
    const before = await limits();
    expect(before).toEqual(['events_org_search_idx:', 'events_org_tags_idx:']);
    const cleaner = new GinPendingCleaner(ctx().db, noSignal, silent);
    await cleaner.start();
    await cleaner.stop();
    const limit = `gin_pending_list_limit=${GIN_PENDING_LIST_LIMIT_KB}`;
    expect(await limits()).toEqual(ctx().kind === 'postgres' ? [`events_org_search_idx:${limit}`, `events_org_tags_idx:${limit}`] : before);
  });

  it('does not wait behind a busy index to raise the limits, and raises them on a later merge', async () => {
    const db = ctx().db;
    await db.exec('alter index events_org_search_idx reset (gin_pending_list_limit); alter index events_org_tags_idx reset (gin_pending_list_limit)');
    const signal = new AppendSignal(db, silent);
    const cleaner = new GinPendingCleaner(db, signal, silent, { intervalMs: 20, raiseRetryMs: 50 });
    // A search still open holds the trigram index: ALTER INDEX (ACCESS EXCLUSIVE) would wait for it, and
    // every insert after would wait behind the ALTER.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const blocker = db.transaction(async (tx) => {
      await tx.exec('set local enable_seqscan = off');
      await tx.query(`select count(*) from events where organization_id = $1 and search_text like '%user_1%'`, [ORG]);
      const began = performance.now();
      try {
        await cleaner.start();
      } finally {
        started = performance.now() - began;
      }
      await held;
    });
    try {
      await expect.poll(() => started, { timeout: 5_000 }).toBeGreaterThan(0);
      expect(cleaner.limitsAreRaised).toBe(false);
      expect(cleaner.enabled).toBe(true);
      if (ctx().kind === 'postgres') expect(started).toBeLessThan(2_000);
    } finally {
      release();
      await blocker;
    }
    await insertEvents(db, 5);
    await announceAppend(db);
    if (ctx().kind === 'postgres') await expect.poll(() => cleaner.limitsAreRaised, { timeout: 5_000 }).toBe(true);
    await cleaner.stop();
    await signal.close();
  });

  it('does nothing while no append is signalled', async () => {
    const signal = new AppendSignal(ctx().db, silent);
    const cleaner = new GinPendingCleaner(ctx().db, signal, silent, { intervalMs: 20 });
    await cleaner.start();
    await insertEvents(ctx().db, 20);
    await wait(200);
    await cleaner.stop();
    await signal.close();
    expect(await cleanGinPendingLists(ctx().db)).toBeGreaterThan(0);
  });
});

/** A database whose every query fails with `error`. */
function failingDb(error: Error & { code?: string }): Db {
  const fail = async (): Promise<never> => {
    throw error;
  };
  return { kind: 'postgres', query: fail, exec: fail, transaction: fail, listen: fail, copyCsv: () => ({ chunks: { [Symbol.asyncIterator]: () => ({ next: fail }) }, rows: () => 0 }), close: async () => {} };
}

it('stops for good when the role does not own the indexes (42501), and only backs off after other failures', async () => {
  const notOwner = new GinPendingCleaner(failingDb(Object.assign(new Error('must be owner of index events_org_search_idx'), { code: '42501' })), noSignal, silent);
  expect(await notOwner.cleanOnce()).toBe(0);
  expect(notOwner.enabled).toBe(false);

  const lost = new GinPendingCleaner(failingDb(new Error('Connection terminated unexpectedly')), noSignal, silent);
  expect(await lost.cleanOnce()).toBe(0);
  expect(lost.enabled).toBe(true);

  // Altering the limits at start needs the same ownership: a role that may not never starts merging.
  const notOwnerAtStart = new GinPendingCleaner(failingDb(Object.assign(new Error('must be owner of index events_org_tags_idx'), { code: '42501' })), noSignal, silent);
  await notOwnerAtStart.start();
  expect(notOwnerAtStart.enabled).toBe(false);
  await notOwnerAtStart.stop();
});
