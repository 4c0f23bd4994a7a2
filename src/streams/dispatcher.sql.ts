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
}

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
     returning s.id, s.organization_id, s.type, s.config, s.secrets, s.cursor_seq, s.attempts, s.failing_since, s.updated_at`,
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

/**
 * Records an attempt's effect on the stream, only while this worker still holds the lease (and renews
 * it). Returns false when the lease was lost: the caller must roll back so the delivery row goes too.
 */
export async function saveProgress(tx: Queryable, id: string, owner: string, leaseSeconds: number, p: Progress): Promise<boolean> {
  const rows = await tx.query(
    `update log_streams set cursor_seq = greatest(cursor_seq, $3),
       -- A pause that landed while the batch was in flight wins over the attempt's outcome.
       state = case when paused or $9 then 'inactive' else $4 end, state_reason = case when paused then state_reason else $5 end, attempts = $6,
       failing_since = $7, next_attempt_at = $8, paused = paused or $9, delivered_count = delivered_count + $10,
       failed_count = failed_count + $11, last_synced_at = case when $12::boolean then now() else last_synced_at end,
       lease_until = now() + make_interval(secs => $13)
     where id = $1 and lease_owner = $2 and deleted_at is null
     returning id`,
    [
      id,
      owner,
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
    ],
  );
  return rows.length > 0;
}

export async function releaseLease(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query('update log_streams set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2', [id, owner]);
}

export async function releaseAllLeases(db: Queryable, owner: string): Promise<void> {
  await db.query('update log_streams set lease_owner = null, lease_until = null where lease_owner = $1', [owner]);
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
