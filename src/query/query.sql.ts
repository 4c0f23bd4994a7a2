import type { Queryable } from '../db/db.js';
import { isSystemOrganizationSql } from '../system-audit/system-audit.sql.js';
import type { AuditEvent } from '../ingest/event.schema.js';
import type { EventFilters } from './query.filters.js';

export interface EventRow {
  seq: number;
  received_at: Date;
  data: AuditEvent;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'e.seq, e.received_at, e.data, e.prev_hash, e.hash';

function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A free-text search reads the events of the matching search blocks (migration 0008) when there are at
 * most this many blocks holding at most this many events; past that the term is common enough that
 * walking the events newest first finds a page sooner than checking every candidate (see the q rows of
 * `npm run bench`'s search step).
 */
export const MAX_CANDIDATE_BLOCKS = 1_000;
export const MAX_CANDIDATE_EVENTS = 20_000;

/** Where a free-text search looks: the events of these blocks only, or (undefined) every event. */
export interface BlockCandidates {
  organizationIds: string[];
  firstSeqs: number[];
  lastSeqs: number[];
}

/**
 * The search blocks holding every term, or undefined when there are too many to be worth reading (see
 * MAX_CANDIDATE_BLOCKS). A block's text holds the distinct lines of its events' texts, so it holds a term
 * whenever one of its events does: the events' own text decides afterwards.
 */
export async function selectBlockCandidates(
  db: Queryable,
  organizationId: string | undefined,
  terms: readonly string[],
  limits: { blocks: number; events: number } = { blocks: MAX_CANDIDATE_BLOCKS, events: MAX_CANDIDATE_EVENTS },
): Promise<BlockCandidates | undefined> {
  const params: unknown[] = terms.map(likePattern);
  const where = terms.map((_, index) => `b.search_text like $${index + 1}`);
  if (organizationId !== undefined) {
    params.push(organizationId);
    where.push(`b.organization_id = $${params.length}`);
  } else where.push(`not ${isSystemOrganizationSql('b.organization_id')}`);
  params.push(limits.blocks + 1);
  const rows = await db.query<{ organization_id: string; first_seq: number; last_seq: number; event_count: number }>(
    `select b.organization_id, b.first_seq, b.last_seq, b.event_count from event_search_blocks b
     where ${where.join(' and ')} limit $${params.length}`,
    params,
  );
  if (rows.length > limits.blocks || rows.reduce((sum, row) => sum + row.event_count, 0) > limits.events) return undefined;
  return {
    organizationIds: rows.map((row) => row.organization_id),
    firstSeqs: rows.map((row) => row.first_seq),
    lastSeqs: rows.map((row) => row.last_seq),
  };
}

/**
 * One parameterised statement per search; every filter narrows with AND, values within a filter with OR.
 * Newest first by (occurred_at, id); the cursor is an event id, resolved to its position in the order.
 * `candidates` (from selectBlockCandidates) restricts the search to those blocks' events.
 */
export async function selectEventPage(
  db: Queryable,
  filters: EventFilters,
  cursor: string | undefined,
  op: '<' | '>',
  order: 'asc' | 'desc',
  limit: number,
  candidates?: BlockCandidates,
): Promise<EventRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.organizationId !== undefined) where.push(`e.organization_id = ${param(filters.organizationId)}`);
  // Searching every organization means every customer: Verity's own administrative log is asked for by its id.
  else where.push(`not ${isSystemOrganizationSql('e.organization_id')}`);
  // One value compares with "=": the planner can then walk (org, column, occurred_at) in order instead of
  // reading every match and sorting (measured at 1M events: 14 buffers instead of ~1,000).
  const oneOf = (column: string, values: string[]): string =>
    values.length === 1 ? `${column} = ${param(values[0])}` : `${column} = any(${param(values)}::text[])`;
  if (filters.actions.length > 0) where.push(oneOf('e.action', filters.actions));
  if (filters.actorIds.length > 0) where.push(oneOf('e.actor_id', filters.actorIds));
  const tagFilters: string[][] = [
    filters.actorNames.map((name) => `an:${name}`),
    filters.targetIds.map((id) => `tid:${id}`),
    filters.targetTypes.map((type) => `tty:${type}`),
    ...filters.metadata,
  ];
  for (const tags of tagFilters) if (tags.length > 0) where.push(`e.tags && ${param(tags)}::text[]`);
  for (const term of filters.terms) where.push(`e.search_text like ${param(likePattern(term))}`);
  if (filters.rangeStart) where.push(`e.occurred_at >= ${param(filters.rangeStart.toISOString())}::timestamptz`);
  if (filters.rangeEnd) where.push(`e.occurred_at < ${param(filters.rangeEnd.toISOString())}::timestamptz`);
  if (cursor !== undefined) {
    where.push(`(e.occurred_at, e.id) ${op} (select c.occurred_at, c.id from events c where c.id = ${param(cursor)})`);
  }
  // Blocks never overlap, so an event joins at most one: the join only narrows.
  const join =
    candidates === undefined
      ? ''
      : `join unnest(${param(candidates.organizationIds)}::text[], ${param(candidates.firstSeqs)}::bigint[], ${param(candidates.lastSeqs)}::bigint[])
           as m(organization_id, first_seq, last_seq)
           on e.organization_id = m.organization_id and e.seq between m.first_seq and m.last_seq`;
  const sql = `select ${COLUMNS} from events e ${join}
    ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
    order by e.occurred_at ${order}, e.id ${order}
    limit ${param(limit)}`;
  return db.query<EventRow>(sql, params);
}

export async function selectEventById(db: Queryable, id: string): Promise<EventRow | undefined> {
  return (await db.query<EventRow>(`select ${COLUMNS} from events e where e.id = $1`, [id]))[0];
}

export async function selectEventsAfterSeq(db: Queryable, organizationId: string, afterSeq: number, limit: number): Promise<EventRow[]> {
  return db.query<EventRow>(
    `select ${COLUMNS} from events e where e.organization_id = $1 and e.seq > $2 order by e.seq limit $3`,
    [organizationId, afterSeq, limit],
  );
}

export async function selectHeadSeq(db: Queryable, organizationId: string): Promise<number | undefined> {
  const rows = await db.query<{ seq: number }>('select seq from org_log_heads where organization_id = $1', [organizationId]);
  return rows[0]?.seq;
}
