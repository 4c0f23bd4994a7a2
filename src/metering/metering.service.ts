import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../db/db.js';
import { notFound } from '../errors/app-error.js';
import { assertOrganizationAccess } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import {
  organizationKnown,
  rollupOrganization,
  selectCarriedIn,
  selectNow,
  selectOrganizationIds,
  selectStreamLives,
  selectUsageDays,
  selectUsageOrganizations,
} from './metering.sql.js';
import { dayKey, monthBounds, monthOf, priceUsage, type DayFigures, type OrganizationUsageInput, type Prices, type StreamLife, type UsageView } from './pricing.js';

export interface UsageRequest {
  month?: string | undefined;
  organization_id?: string | undefined;
}

type PriceConfig = Pick<Config, 'priceSiemConnectionMonthly' | 'pricePerMillionEventsMonthly' | 'currency'>;

export function pricesOf(config: PriceConfig): Prices {
  return {
    siem_connection_monthly: config.priceSiemConnectionMonthly,
    per_million_events_monthly: config.pricePerMillionEventsMonthly,
    currency: config.currency,
  };
}

/** Daily usage snapshots and the monthly bill built from them (pricing rules: pricing.ts). */
export class MeteringService {
  constructor(
    private readonly db: Db,
    private readonly config: PriceConfig,
    private readonly logger: Logger,
  ) {}

  /** Writes today's events_stored and streams for every organization; returns how many rows it wrote. */
  async rollup(): Promise<number> {
    const ids = await selectOrganizationIds(this.db);
    for (const id of ids) await rollupOrganization(this.db, id);
    this.logger.debug({ organizations: ids.length }, 'usage roll-up');
    return ids.length;
  }

  /** The bill as `principal` may see it: a restricted key sees its own organization only, named or not. */
  async usage(query: UsageRequest, principal: Principal): Promise<UsageView> {
    if (query.organization_id !== undefined) assertOrganizationAccess(principal, query.organization_id);
    return this.bill({ month: query.month, organization_id: query.organization_id ?? principal.organizationId ?? undefined });
  }

  /** The bill for a month (the current one when omitted), for every organization or one. No access checks. */
  async bill(query: UsageRequest): Promise<UsageView> {
    const onlyId = query.organization_id ?? null;
    const now = await selectNow(this.db);
    const month = query.month ?? monthOf(now);
    const bounds = monthBounds(month);
    const end = new Date(bounds.start.getTime() + bounds.days * 86_400_000);
    const last = dayKey(new Date(end.getTime() - 86_400_000));

    const [organizations, days, carried, streams] = await Promise.all([
      selectUsageOrganizations(this.db, onlyId, end, bounds.start),
      selectUsageDays(this.db, onlyId, dayKey(bounds.start), last),
      selectCarriedIn(this.db, onlyId, dayKey(bounds.start)),
      selectStreamLives(this.db, onlyId, bounds.start, end),
    ]);
    if (query.organization_id !== undefined && organizations.length === 0 && !(await this.exists(query.organization_id))) {
      throw notFound('Organization', query.organization_id);
    }

    const daysByOrg = groupBy(days, (row) => row.organization_id);
    const streamsByOrg = groupBy(streams, (row) => row.organization_id);
    const carriedByOrg = new Map(carried.map((row) => [row.organization_id, row.events_stored]));
    const inputs = organizations.map(
      (org): OrganizationUsageInput => ({
        organization_id: org.id,
        name: org.name,
        created_at: org.created_at,
        deleted_at: org.deleted_at,
        current_events_stored: org.events_stored,
        carried_in: carriedByOrg.get(org.id) ?? null,
        days: new Map((daysByOrg.get(org.id) ?? []).map((row): [string, DayFigures] => [row.day, { events_stored: row.events_stored, events_ingested: row.events_ingested }])),
        streams: (streamsByOrg.get(org.id) ?? []).map((row): StreamLife => ({ created_at: row.created_at, deleted_at: row.deleted_at })),
      }),
    );
    return priceUsage({ month, now, prices: pricesOf(this.config), organizations: inputs });
  }

  private async exists(organizationId: string): Promise<boolean> {
    return organizationKnown(this.db, organizationId);
  }
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(key(row));
    if (list === undefined) map.set(key(row), [row]);
    else list.push(row);
  }
  return map;
}
