import { expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { openPglite } from '../../src/db/pglite.js';
import { parseEventFilters } from '../../src/query/query.filters.js';
import { selectBlockCandidates, selectEventPage } from '../../src/query/query.sql.js';
import { describeEachBackend, makeEvent } from '../helpers/app.js';

interface BlockRow {
  first_seq: number;
  last_seq: number;
  event_count: number;
  search_text: string;
}

async function blocksOf(db: Db, organizationId: string): Promise<BlockRow[]> {
  return db.query<BlockRow>(
    'select first_seq, last_seq, event_count, search_text from event_search_blocks where organization_id = $1 order by first_seq',
    [organizationId],
  );
}

/** Every event lies in exactly one block, whose lines include all of the event's lines. */
async function expectCovered(db: Db, organizationId: string): Promise<void> {
  const events = await db.query<{ seq: number; search_text: string }>('select seq, search_text from events where organization_id = $1 order by seq', [organizationId]);
  const blocks = await blocksOf(db, organizationId);
  for (const event of events) {
    const holding = blocks.filter((block) => block.first_seq <= event.seq && event.seq <= block.last_seq);
    expect(holding, `event ${event.seq}`).toHaveLength(1);
    const lines = new Set((holding[0] as BlockRow).search_text.split('\n'));
    for (const line of event.search_text.split('\n')) expect(lines.has(line), `event ${event.seq}: ${line}`).toBe(true);
  }
  for (const block of blocks) {
    const inside = events.filter((event) => block.first_seq <= event.seq && event.seq <= block.last_seq);
    expect(block.event_count).toBe(inside.length);
    expect(block.last_seq - block.first_seq).toBeLessThan(128);
  }
}

describeEachBackend('free-text search blocks', (ctx) => {
  const post = async (organizationId: string, event: Record<string, unknown>): Promise<void> => {
    const response = await ctx().call('POST', '/audit_logs/events', { body: { organization_id: organizationId, event } });
    expect(response.status).toBe(200);
  };
  const batch = async (organizationId: string, events: Record<string, unknown>[]): Promise<void> => {
    const response = await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: organizationId, events } });
    expect(response.status).toBe(200);
  };
  const search = async (organizationId: string, q: string): Promise<string[]> => {
    const response = await ctx().call<{ data: { actor: { name: string } }[] }>('GET', `/audit_logs/events?organization_id=${organizationId}&limit=100&q=${encodeURIComponent(q)}`);
    expect(response.status).toBe(200);
    return response.body.data.map((event) => event.actor.name);
  };

  it('covers every appended event with one block holding its lines, split at runs of 128 sequence numbers', async () => {
    const org = await ctx().createOrg();
    for (let i = 0; i < 5; i++) await post(org, makeEvent({ actor: { id: `user_single_${i}`, type: 'user', name: `Single ${i}` } }));
    await batch(org, Array.from({ length: 300 }, (_, i) => makeEvent({ actor: { id: `user_batch_${i}`, type: 'user', name: `Batch ${i}` } })));
    await Promise.all(Array.from({ length: 20 }, (_, i) => post(org, makeEvent({ actor: { id: `user_burst_${i}`, type: 'user', name: `Burst ${i}` } }))));
    await expectCovered(ctx().testDb.db, org);
    // The batch (seqs 6..305) is cut where the runs of 128 end: 6-128, 129-256, 257-305.
    const batchBlocks = (await blocksOf(ctx().testDb.db, org)).filter((block) => block.first_seq >= 6 && block.last_seq <= 305);
    expect(batchBlocks.map((block) => [block.first_seq, block.last_seq])).toEqual([[6, 128], [129, 256], [257, 305]]);
    // A line that many events share is in a block once.
    const first = (batchBlocks[0] as BlockRow).search_text.split('\n');
    expect(first.filter((line) => line === 'user.signed_in')).toHaveLength(1);
    expect(await search(org, 'user_batch_299')).toEqual(['Batch 299']);
    expect(await search(org, 'burst')).toHaveLength(20);
  });

  it('finds the same events through the blocks as by walking every event, page by page', async () => {
    const org = await ctx().createOrg();
    const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov'];
    await batch(org, Array.from({ length: 250 }, (_, i) => makeEvent({ actor: { id: `user_${i % 7}`, type: 'user', name: `${names[i % names.length]} ${i}` } })));
    const db = ctx().testDb.db;
    for (const q of ['ada', 'turing 1', 'hopper 24', 'liskov', 'user_3 grace', 'nobody']) {
      const filters = parseEventFilters({ organization_id: org, q });
      const candidates = await selectBlockCandidates(db, org, filters.terms);
      expect(candidates, q).toBeDefined();
      const walked: string[] = [];
      const viaBlocks: string[] = [];
      for (const [into, using] of [[walked, undefined], [viaBlocks, candidates]] as const) {
        let cursor: string | undefined;
        for (;;) {
          const page = await selectEventPage(db, filters, cursor, '<', 'desc', 20, using);
          into.push(...page.map((row) => row.data.id));
          if (page.length < 20) break;
          cursor = page.at(-1)?.data.id;
        }
      }
      expect(viaBlocks, q).toEqual(walked);
    }
    // Too many candidates: the search walks the events instead (and still finds them through the API).
    expect(await selectBlockCandidates(db, org, ['ada'], { blocks: 1, events: 20_000 })).toBeUndefined();
    expect(await selectBlockCandidates(db, org, ['ada'], { blocks: 1_000, events: 10 })).toBeUndefined();
    expect(await search(org, 'ada')).toHaveLength(50);
  });

  it('rewrites the blocks a purge touches from the events left, and drops emptied ones', async () => {
    const org = await ctx().createOrg();
    const db = ctx().testDb.db;
    await batch(org, Array.from({ length: 10 }, (_, i) => makeEvent({ actor: { id: `user_p${i}`, type: 'user', name: `Purgeable ${i}` } })));
    await batch(org, Array.from({ length: 10 }, (_, i) => makeEvent({ actor: { id: `user_k${i}`, type: 'user', name: `Keeper ${i}` } })));
    // Delete half of the first block and all of the second, as the purge does (one statement).
    await db.query('delete from events where organization_id = $1 and (seq <= 5 or seq > 10)', [org]);
    const blocks = await blocksOf(db, org);
    expect(blocks.map((block) => [block.first_seq, block.last_seq, block.event_count])).toEqual([[1, 10, 5]]);
    const text = (blocks[0] as BlockRow).search_text;
    expect(text).toContain('purgeable 9');
    expect(text).not.toContain('purgeable 0');
    expect(text).not.toContain('keeper');
    await expectCovered(db, org);
    expect(await search(org, 'keeper')).toEqual([]);

    const response = await ctx().call('DELETE', `/organizations/${org}`);
    expect(response.status).toBeLessThan(300);
    expect(await blocksOf(db, org)).toEqual([]);
  });
});

it('migration 0008 builds blocks for the events stored before it', async () => {
  const db = await openPglite();
  try {
    const migrations = loadMigrations();
    const before = migrations.filter((migration) => migration.version < '0008');
    await migrate(db, before);
    await db.query(`insert into organizations (id, name, retention_period_in_days) values ('org_old', 'Old', 365)`);
    for (let seq = 1; seq <= 130; seq++) {
      await db.query(
        `insert into events (organization_id, seq, id, occurred_at, action, actor_id, tags, search_text, data, prev_hash, hash)
         values ('org_old', $1, $2, now(), 'user.signed_in', $3, '{}', $4, '{}', '', '')`,
        [seq, `event_old_${seq}`, `user_${seq}`, `user.signed_in\nuser_${seq}\nold timer ${seq}`],
      );
    }
    await migrate(db, migrations);
    expect((await blocksOf(db, 'org_old')).map((block) => [block.first_seq, block.last_seq, block.event_count])).toEqual([[1, 128, 128], [129, 130, 2]]);
    await expectCovered(db, 'org_old');
    expect(await selectBlockCandidates(db, 'org_old', ['timer 129'])).toEqual({ organizationIds: ['org_old'], firstSeqs: [129], lastSeqs: [130] });
  } finally {
    await db.close();
  }
});
