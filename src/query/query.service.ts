import type { Db } from '../db/db.js';
import { AppError, notFound } from '../errors/app-error.js';
import type { AuditEvent } from '../ingest/event.schema.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import { cursorOf, scanOrder, toList, type List, type PageParams } from '../shared/pagination.js';
import type { EventFilters } from './query.filters.js';
import { eventInScope, selectEventById, selectEventPage, selectEventsAfterSeq, selectHeadSeq, type EventRow } from './query.sql.js';

/** An event as the search API returns it: the stored event plus its place in the chain. */
export type EventView = AuditEvent & { object: 'audit_log_event'; seq: number; hash: string; prev_hash: string; received_at: string };

export function toEventView(row: EventRow): EventView {
  return {
    object: 'audit_log_event',
    ...row.data,
    seq: row.seq,
    hash: row.hash,
    prev_hash: row.prev_hash,
    received_at: row.received_at.toISOString(),
  };
}

export class QueryService {
  constructor(private readonly db: Db) {}

  async search(principal: Principal, filters: EventFilters, page: PageParams): Promise<List<EventView>> {
    requireScope(principal, 'events:read');
    const scoped = this.scope(principal, filters);
    const { cursor, op } = cursorOf(page);
    const rows = await selectEventPage(this.db, scoped, cursor, op, scanOrder(page), page.limit + 1);
    // An empty page of an organization that does not exist is a mistyped id, not "no events" (checked only
    // then, so a search that finds events costs no extra query).
    if (rows.length === 0 && scoped.organizationId !== undefined && (await selectHeadSeq(this.db, scoped.organizationId)) === undefined) {
      throw notFound('Organization', scoped.organizationId);
    }
    // A cursor that places nothing would read as the end of the list: a client would stop paging early.
    if (rows.length === 0 && cursor !== undefined && !(await eventInScope(this.db, scoped, cursor))) {
      throw new AppError(
        'invalid_query',
        `Unknown cursor '${cursor}': ${page.before !== undefined ? 'before' : 'after'} must be an event of the organization searched, as list_metadata gives it. ` +
          'An event removed by retention cannot be paged from; start again without the cursor.',
      );
    }
    return toList(rows, page, (row) => row.data.id, toEventView);
  }

  async get(principal: Principal, id: string): Promise<EventView> {
    requireScope(principal, 'events:read');
    const row = await selectEventById(this.db, id);
    if (row === undefined || (principal.organizationId !== null && row.data.organization_id !== principal.organizationId)) {
      throw new AppError('not_found', `Audit Log Event not found: '${id}'.`);
    }
    return toEventView(row);
  }

  /** The organization's current head sequence number (where a live tail starts). */
  async headSeq(principal: Principal, organizationId: string): Promise<number> {
    requireScope(principal, 'events:read');
    assertOrganizationAccess(principal, organizationId);
    const seq = await selectHeadSeq(this.db, organizationId);
    if (seq === undefined) throw notFound('Organization', organizationId);
    return seq;
  }

  async after(organizationId: string, seq: number, limit: number): Promise<EventView[]> {
    return (await selectEventsAfterSeq(this.db, organizationId, seq, limit)).map(toEventView);
  }

  /** A restricted key searches its own organization only, whether or not it names one. */
  private scope(principal: Principal, filters: EventFilters): EventFilters {
    if (principal.organizationId === null) return filters;
    if (filters.organizationId !== undefined) assertOrganizationAccess(principal, filters.organizationId);
    return { ...filters, organizationId: principal.organizationId };
  }
}
