/**
 * The bill for one month, as a pure function of raw figures (DESIGN.md §8). Everything is computed in
 * whole cents and integer counts, so the same inputs always give the same bill to the cent.
 *
 * Rules (all days are UTC calendar days; "the period" is the month's days up to and including today —
 * a past month is final, the current month is month-to-date, a future month is empty):
 *
 * - A SIEM connection (log stream) counts on a day if it existed at any moment of that day: created
 *   before the day ended and not deleted before the day began. siem_connections = stream-days /
 *   days in the month; siem_cost = stream-days × price / days in the month, rounded to the cent.
 * - An organization's days are the period's days from the day it was created (to the day it was deleted,
 *   for one deleted since: its usage rows outlive it, so a closed month's bill stays). Each day's events_stored
 *   is today's live counter for today; otherwise the figure the roll-up measured that day; a day without
 *   a measurement carries the last measured figure before it (also from before the month); a day with no
 *   measurement before it counts 0 (metering had not started).
 * - events_stored_avg = the mean of those daily figures; event_units = ceil(avg / 1,000,000);
 *   retention_cost = units × price. total_cost = siem_cost + retention_cost.
 * - An organization with no day in the period is left out of the bill.
 */

export interface Prices {
  siem_connection_monthly: number;
  per_million_events_monthly: number;
  currency: string;
}

export interface StreamLife {
  created_at: Date;
  deleted_at: Date | null;
}

export interface DayFigures {
  /** Measured by the roll-up that day; null when the row exists only because of ingest. */
  events_stored: number | null;
  events_ingested: number;
}

export interface OrganizationUsageInput {
  organization_id: string;
  name: string;
  created_at: Date;
  /** When the organization was deleted: days that began after it are not its days. */
  deleted_at?: Date | null;
  /** org_log_heads.events_stored now (for a deleted organization, at its deletion): today's figure. */
  current_events_stored: number;
  /** The last figure measured before the month began, if any. */
  carried_in: number | null;
  /** Keyed by UTC day, "YYYY-MM-DD". */
  days: ReadonlyMap<string, DayFigures>;
  streams: readonly StreamLife[];
}

export interface OrganizationBill {
  organization_id: string;
  name: string;
  /** Only for an organization deleted since: it stays on the bills of the months it existed in. */
  deleted_at?: string;
  events_stored: number;
  events_stored_avg: number;
  events_ingested: number;
  siem_connections: number;
  event_units: number;
  siem_cost: number;
  retention_cost: number;
  total_cost: number;
}

export type UsageTotals = Omit<OrganizationBill, 'organization_id' | 'name' | 'deleted_at'>;

export interface UsageView {
  object: 'usage';
  month: string;
  prices: Prices;
  organizations: OrganizationBill[];
  totals: UsageTotals;
}

const DAY_MS = 86_400_000;
const EVENTS_PER_UNIT = 1_000_000n;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(value: string): boolean {
  return MONTH.test(value);
}

/** The month's first day (UTC midnight) and its number of days. */
export function monthBounds(month: string): { start: Date; days: number } {
  const match = MONTH.exec(month);
  if (match === null) throw new Error(`not a month (YYYY-MM): ${month}`);
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { start: new Date(Date.UTC(year, index, 1)), days: new Date(Date.UTC(year, index + 1, 0)).getUTCDate() };
}

export function dayKey(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The month containing `date` (UTC). */
export function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

function cents(amount: number): number {
  return Math.round(amount * 100);
}

/** numerator / denominator rounded half up, for non-negative integers. */
function divideRounded(numerator: number, denominator: number): number {
  return Number((2n * BigInt(numerator) + BigInt(denominator)) / (2n * BigInt(denominator)));
}

function ceilDiv(numerator: bigint, denominator: bigint): number {
  return Number((numerator + denominator - 1n) / denominator);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

interface RawBill {
  organization_id: string;
  name: string;
  deleted_at: Date | null;
  events_stored: number;
  stored_sum: number;
  counted_days: number;
  events_ingested: number;
  stream_days: number;
  event_units: number;
  siem_cents: number;
  retention_cents: number;
}

function billOrganization(org: OrganizationUsageInput, month: { start: Date; days: number }, todayStart: number, prices: { siem: number; perMillion: number }): RawBill | undefined {
  let carried = org.carried_in;
  let storedSum = 0;
  let countedDays = 0;
  let lastFigure = 0;
  let ingested = 0;
  let streamDays = 0;
  for (let day = 0; day < month.days; day += 1) {
    const dayStart = month.start.getTime() + day * DAY_MS;
    const dayEnd = dayStart + DAY_MS;
    if (dayStart > todayStart) break;
    const figures = org.days.get(dayKey(new Date(dayStart)));
    if (figures?.events_stored !== null && figures?.events_stored !== undefined) carried = figures.events_stored;
    ingested += figures?.events_ingested ?? 0;
    if (org.created_at.getTime() >= dayEnd) continue;
    if (org.deleted_at !== undefined && org.deleted_at !== null && org.deleted_at.getTime() <= dayStart) continue;
    const figure = dayStart === todayStart ? org.current_events_stored : (carried ?? 0);
    storedSum += figure;
    lastFigure = figure;
    countedDays += 1;
    for (const stream of org.streams) {
      if (stream.created_at.getTime() < dayEnd && (stream.deleted_at === null || stream.deleted_at.getTime() > dayStart)) streamDays += 1;
    }
  }
  if (countedDays === 0) return undefined;
  const units = ceilDiv(BigInt(storedSum), BigInt(countedDays) * EVENTS_PER_UNIT);
  return {
    organization_id: org.organization_id,
    name: org.name,
    deleted_at: org.deleted_at ?? null,
    events_stored: lastFigure,
    stored_sum: storedSum,
    counted_days: countedDays,
    events_ingested: ingested,
    stream_days: streamDays,
    event_units: units,
    siem_cents: divideRounded(streamDays * prices.siem, month.days),
    retention_cents: units * prices.perMillion,
  };
}

/** Prices one month for these organizations, as of `now`. */
export function priceUsage(input: { month: string; now: Date; prices: Prices; organizations: readonly OrganizationUsageInput[] }): UsageView {
  const month = monthBounds(input.month);
  const todayStart = Math.floor(input.now.getTime() / DAY_MS) * DAY_MS;
  const priceCents = { siem: cents(input.prices.siem_connection_monthly), perMillion: cents(input.prices.per_million_events_monthly) };
  const raw = input.organizations
    .map((org) => billOrganization(org, month, todayStart, priceCents))
    .filter((bill): bill is RawBill => bill !== undefined);
  const organizations = raw.map((bill): OrganizationBill => ({
    organization_id: bill.organization_id,
    name: bill.name,
    ...(bill.deleted_at === null ? {} : { deleted_at: bill.deleted_at.toISOString() }),
    events_stored: bill.events_stored,
    events_stored_avg: round(bill.stored_sum / bill.counted_days, 2),
    events_ingested: bill.events_ingested,
    siem_connections: round(bill.stream_days / month.days, 4),
    event_units: bill.event_units,
    siem_cost: bill.siem_cents / 100,
    retention_cost: bill.retention_cents / 100,
    total_cost: (bill.siem_cents + bill.retention_cents) / 100,
  }));
  const sum = (pick: (bill: RawBill) => number): number => raw.reduce((total, bill) => total + pick(bill), 0);
  const siemCents = sum((bill) => bill.siem_cents);
  const retentionCents = sum((bill) => bill.retention_cents);
  return {
    object: 'usage',
    month: input.month,
    prices: { ...input.prices },
    organizations,
    totals: {
      events_stored: sum((bill) => bill.events_stored),
      events_stored_avg: round(sum((bill) => bill.stored_sum / bill.counted_days), 2),
      events_ingested: sum((bill) => bill.events_ingested),
      siem_connections: round(sum((bill) => bill.stream_days) / month.days, 4),
      event_units: sum((bill) => bill.event_units),
      siem_cost: siemCents / 100,
      retention_cost: retentionCents / 100,
      total_cost: (siemCents + retentionCents) / 100,
    },
  };
}
