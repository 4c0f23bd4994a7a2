import type { Queryable } from '../db/db.js';
import { StreamedEvent } from './destinations/event-json.js';
import type { AuditEvent } from '../ingest/event.schema.js';

export interface ClaimedStream {
  id: string;
  organization_id: string;
  type: string;
  config: Record<string, unknown>;
  secrets: string | null;
  cursor_seq: number;
  attempts: number;
  failing_since: Date | null;
  updated_at: Date;
  /**
   * updated_at in microseconds since the epoch, as text: exact, unlike the Date (milliseconds), so that
   * saveProgress can tell whether the stream was changed (paused, edited, replayed) while a batch travelled.
   */
  version: string;
  /** Replays so far: the cursor is this worker's to move only while no replay has landed since the claim. */
  replays: number;
}

/** updated_at as an exact number (see ClaimedStream.version). */
const VERSION = '(extract(epoch from updated_at) * 1000000)::bigint';

/**
 * Leases up to `limit` streams that have undelivered events and are due. SKIP LOCKED lets several
 * workers claim at once without waiting on each other; an expired lease (dead worker) is claimable.
 * One statement, so it needs no transaction around it.
 */
export async function claimStreams(tx: Queryable, owner: string, leaseSeconds: number, limit: number): Promise<ClaimedStream[]> {
  return tx.query<ClaimedStream>(
    `update log_streams s set lease_owner = $1, lease_until = now() + make_interval(secs => $2)
     where s.id in (
       select c.id from log_streams c join org_log_heads h on h.organization_id = c.organization_id
       where c.deleted_at is null and not c.paused and c.state <> 'invalid'
         and h.seq > c.cursor_seq
         and (c.next_attempt_at is null or c.next_attempt_at <= now())
         and (c.lease_until is null or c.lease_until < now())
       order by c.next_attempt_at nulls first, c.id
       limit $3
       for update of c skip locked)
     returning s.id, s.organization_id, s.type, s.config, s.secrets, s.cursor_seq, s.attempts, s.failing_since, s.updated_at,
       s.replays, ${VERSION}::text as version`,
    [owner, leaseSeconds, limit],
  );
}

export interface PendingEvent {
  seq: number;
  data: AuditEvent;
}

/** The events after the cursor, as text: most destinations embed them without parsing (event-json.ts). */
export async function selectPending(db: Queryable, organizationId: string, afterSeq: number, limit: number): Promise<PendingEvent[]> {
  const rows = await db.query<{ seq: number; id: string; occurred_at: string; json: string }>(
    `select seq, id, data->>'occurred_at' as occurred_at, data::text as json
       from events where organization_id = $1 and seq > $2 order by seq limit $3`,
    [organizationId, afterSeq, limit],
  );
  return rows.map((row) => ({ seq: row.seq, data: new StreamedEvent(row.id, row.occurred_at, row.json) }));
}

export interface Progress {
  cursorSeq: number;
  state: 'active' | 'error' | 'invalid' | 'inactive';
  stateReason: string | null;
  attempts: number;
  failingSince: Date | null;
  nextAttemptAt: Date | null;
  paused: boolean;
  delivered: number;
  failed: number;
  synced: boolean;
}

/** The stream as an attempt left it: whether the run may go on with its next batch. */
export interface SavedProgress {
  /** Paused, edited or replayed while the batch travelled: the run stops and the stream is claimed afresh. */
  changed: boolean;
  paused: boolean;
}

/**
 * Records an attempt's effect on the stream, only while this worker still holds the lease (and renews it).
 * Answers undefined when the lease was lost (or the stream deleted): the caller must roll back so the
 * delivery row goes too.
 *
 * A change made while the batch was in flight wins over the attempt's outcome: a pause keeps the stream
 * inactive, an edited config keeps the fresh state the edit gave it (so a corrected key is tried at once,
 * not left invalid by the old key's 403), and a replay keeps its cursor (the batch's cursor move applies only
 * while no replay landed since the claim). The delivery counters count the attempt anyway.
 */
export async function saveProgress(
  tx: Queryable,
  claim: { id: string; owner: string; version: string; replays: number },
  leaseSeconds: number,
  p: Progress,
): Promise<SavedProgress | undefined> {
  const changed = `${VERSION} <> $14::bigint`;
  const rows = await tx.query<SavedProgress>(
    `update log_streams set cursor_seq = case when replays = $15 then greatest(cursor_seq, $3) else cursor_seq end,
       state = case when paused or ($9 and not ${changed}) then 'inactive' when ${changed} then state else $4 end,
       state_reason = case when paused or ${changed} then state_reason else $5 end,
       attempts = case when ${changed} then attempts else $6 end,
       failing_since = case when ${changed} then failing_since else $7 end,
       next_attempt_at = case when ${changed} then next_attempt_at else $8 end,
       paused = paused or ($9 and not ${changed}),
       delivered_count = delivered_count + $10, failed_count = failed_count + $11,
       last_synced_at = case when $12::boolean then now() else last_synced_at end,
       lease_until = now() + make_interval(secs => $13)
     where id = $1 and lease_owner = $2 and deleted_at is null
     returning ${changed} as changed, paused`,
    [
      claim.id,
      claim.owner,
      p.cursorSeq,
      p.state,
      p.stateReason,
      p.attempts,
      p.failingSince?.toISOString() ?? null,
      p.nextAttemptAt?.toISOString() ?? null,
      p.paused,
      p.delivered,
      p.failed,
      p.synced,
      leaseSeconds,
      claim.version,
      claim.replays,
    ],
  );
  return rows[0];
}

export async function releaseLease(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query('update log_streams set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2', [id, owner]);
}

export async function releaseAllLeases(db: Queryable, owner: string): Promise<void> {
  await db.query('update log_streams set lease_owner = null, lease_until = null where lease_owner = $1', [owner]);
}

/** Frees every worker's stream leases: only for a start that knows no other worker can be alive (PGlite). */
export async function releaseEveryOwnersLeases(db: Queryable): Promise<void> {
  await db.query('update log_streams set lease_owner = null, lease_until = null where lease_owner is not null');
}

/** Of these stream ids, the ones still live (not deleted): the rest may be forgotten by a worker. */
export async function selectLiveStreamIds(db: Queryable, ids: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }>('select id from log_streams where id = any($1::text[]) and deleted_at is null', [ids]);
  return rows.map((row) => row.id);
}

/** Organizations that have live (not deleted) streams. */
export async function selectStreamOrganizations(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ organization_id: string }>('select distinct organization_id from log_streams where deleted_at is null');
  return rows.map((row) => row.organization_id);
}
