import { describe, expect, it } from 'vitest';
import { monthBounds, priceUsage, type DayFigures, type OrganizationUsageInput, type Prices } from './pricing.js';

const PRICES: Prices = { siem_connection_monthly: 125, per_million_events_monthly: 99, currency: 'USD' };

const at = (iso: string): Date => new Date(iso);

/** Every day of the month measured at the same figure. */
function flat(month: string, figure: number): Map<string, DayFigures> {
  const { start, days } = monthBounds(month);
  const map = new Map<string, DayFigures>();
  for (let d = 0; d < days; d += 1) map.set(new Date(start.getTime() + d * 86_400_000).toISOString().slice(0, 10), { events_stored: figure, events_ingested: 0 });
  return map;
}

function org(overrides: Partial<OrganizationUsageInput> = {}): OrganizationUsageInput {
  return {
    organization_id: 'org_a',
    name: 'A',
    created_at: at('2020-01-01T00:00:00Z'),
    current_events_stored: 0,
    carried_in: null,
    days: new Map(),
    streams: [],
    ...overrides,
  };
}

function bill(month: string, orgs: OrganizationUsageInput[], now = '2030-01-01T00:00:00Z', prices = PRICES) {
  return priceUsage({ month, now: at(now), prices, organizations: orgs });
}

describe('monthBounds', () => {
  it.each([
    ['2026-11', 30],
    ['2026-12', 31],
    ['2027-02', 28],
    ['2028-02', 29],
    ['2100-02', 28],
    ['2000-02', 29],
  ])('%s has %i days', (month, days) => {
    expect(monthBounds(month).days).toBe(days);
    expect(monthBounds(month).start.toISOString()).toBe(`${month}-01T00:00:00.000Z`);
  });

  it('refuses anything but YYYY-MM', () => {
    expect(() => monthBounds('2026-13')).toThrow();
    expect(() => monthBounds('2026-1')).toThrow();
  });
});

describe('SIEM connections, pro rata by day', () => {
  it('bills mid-month creation and deletion for the days each stream existed', () => {
    const streams = [
      // Created on the 16th: days 16–30 → 15 days.
      { created_at: at('2026-11-16T10:00:00Z'), deleted_at: null },
      // Existed before the month, deleted on the 10th at noon: days 1–10 → 10 days.
      { created_at: at('2026-10-01T00:00:00Z'), deleted_at: at('2026-11-10T12:00:00Z') },
      // Created and deleted on the 20th: one day.
      { created_at: at('2026-11-20T08:00:00Z'), deleted_at: at('2026-11-20T09:00:00Z') },
      // Deleted exactly at the month's first midnight: never existed during November.
      { created_at: at('2026-10-01T00:00:00Z'), deleted_at: at('2026-11-01T00:00:00Z') },
      // Created after the month.
      { created_at: at('2026-12-01T00:00:00Z'), deleted_at: null },
    ];
    const result = bill('2026-11', [org({ streams })]);
    const [line] = result.organizations;
    // 26 stream-days of 30: 0.8667 connection-months; 26 × 125 / 30 = 108.333… → 108.33.
    expect(line).toMatchObject({ siem_connections: 0.8667, siem_cost: 108.33, event_units: 0, retention_cost: 0, total_cost: 108.33 });
  });

  it('a stream that existed all month is one connection at the full price', () => {
    const result = bill('2026-11', [org({ streams: [{ created_at: at('2026-01-01T00:00:00Z'), deleted_at: null }] })]);
    expect(result.organizations[0]).toMatchObject({ siem_connections: 1, siem_cost: 125, total_cost: 125 });
  });

  it('uses the leap February’s 29 days', () => {
    const halfway = { created_at: at('2028-02-15T00:00:00Z'), deleted_at: null };
    // Days 15–29 of 29: 15/29 → 0.5172; 15 × 125 / 29 = 64.655… → 64.66.
    expect(bill('2028-02', [org({ streams: [halfway] })]).organizations[0]).toMatchObject({ siem_connections: 0.5172, siem_cost: 64.66 });
    // The same day in a common year: days 15–28 of 28 → exactly half.
    const common = { created_at: at('2027-02-15T00:00:00Z'), deleted_at: null };
    expect(bill('2027-02', [org({ streams: [common] })]).organizations[0]).toMatchObject({ siem_connections: 0.5, siem_cost: 62.5 });
  });
});

describe('retention units on the average of daily figures', () => {
  it('1.5 M events on average → 2 units', () => {
    const [line] = bill('2026-11', [org({ days: flat('2026-11', 1_500_000) })]).organizations;
    expect(line).toMatchObject({ events_stored: 1_500_000, events_stored_avg: 1_500_000, event_units: 2, retention_cost: 198, total_cost: 198 });
  });

  it('exactly 1,000,000 → 1 unit; one event more on one day → 2 units', () => {
    expect(bill('2026-11', [org({ days: flat('2026-11', 1_000_000) })]).organizations[0]).toMatchObject({ event_units: 1, retention_cost: 99 });
    const days = flat('2026-11', 1_000_000);
    days.set('2026-11-17', { events_stored: 1_000_001, events_ingested: 1 });
    expect(bill('2026-11', [org({ days })]).organizations[0]).toMatchObject({ events_stored_avg: 1_000_000.03, event_units: 2, retention_cost: 198 });
  });

  it('0 events → 0 units', () => {
    expect(bill('2026-11', [org({ days: flat('2026-11', 0) })]).organizations[0]).toMatchObject({ events_stored_avg: 0, event_units: 0, retention_cost: 0, total_cost: 0 });
  });

  it('an empty month bills nothing; a month before the organization existed leaves it out', () => {
    const empty = bill('2026-11', [org()]);
    expect(empty.organizations).toEqual([
      { organization_id: 'org_a', name: 'A', events_stored: 0, events_stored_avg: 0, events_ingested: 0, siem_connections: 0, event_units: 0, siem_cost: 0, retention_cost: 0, total_cost: 0 },
    ]);
    expect(empty.totals.total_cost).toBe(0);
    expect(bill('2019-12', [org()]).organizations).toEqual([]);
    expect(bill('2031-01', [org()]).organizations).toEqual([]);
  });

  it('counts only the days since the organization was created', () => {
    // Created on the 21st at noon: days 21–30 count (10 days), each at 3 M.
    const [line] = bill('2026-11', [org({ created_at: at('2026-11-21T12:00:00Z'), days: flat('2026-11', 3_000_000) })]).organizations;
    expect(line).toMatchObject({ events_stored_avg: 3_000_000, event_units: 3 });
  });

  it('carries the last measured figure over days without one, including from before the month', () => {
    const days = new Map<string, DayFigures>();
    for (let d = 1; d <= 5; d += 1) days.set(`2026-11-0${d}`, { events_stored: 2_000_000, events_ingested: 10 });
    // Days 6–10 unmeasured (one row exists only because of ingest) → carry 2 M.
    days.set('2026-11-08', { events_stored: null, events_ingested: 5 });
    for (let d = 11; d <= 30; d += 1) days.set(`2026-11-${d}`, { events_stored: 0, events_ingested: 0 });
    const [line] = bill('2026-11', [org({ days })]).organizations;
    // 10 days × 2 M / 30 = 666,666.67 → 1 unit.
    expect(line).toMatchObject({ events_stored: 0, events_stored_avg: 666_666.67, events_ingested: 55, event_units: 1 });

    const carried = bill('2026-11', [org({ carried_in: 4_000_000 })]).organizations[0];
    expect(carried).toMatchObject({ events_stored: 4_000_000, events_stored_avg: 4_000_000, event_units: 4 });
  });

  it('counts no figure before metering started as 0', () => {
    const days = new Map<string, DayFigures>([['2026-11-16', { events_stored: 3_000_000, events_ingested: 0 }]]);
    // Days 1–15: nothing measured yet → 0; days 16–30: 3 M → avg 1.5 M → 2 units.
    expect(bill('2026-11', [org({ days })]).organizations[0]).toMatchObject({ events_stored_avg: 1_500_000, event_units: 2 });
  });
});

describe('the current month', () => {
  it('is month-to-date: today counts as the live figure, later days do not count', () => {
    const days = flat('2026-11', 1_000_000);
    const result = bill(
      '2026-11',
      [org({ days, current_events_stored: 4_000_000, streams: [{ created_at: at('2026-10-01T00:00:00Z'), deleted_at: null }] })],
      '2026-11-26T12:00:00Z',
    );
    // Days 1–25 at 1 M and today at 4 M: 29 M / 26 = 1,115,384.62 → 2 units. Streams: 26 of 30 days.
    expect(result.organizations[0]).toMatchObject({
      events_stored: 4_000_000,
      events_stored_avg: 1_115_384.62,
      event_units: 2,
      siem_connections: 0.8667,
      siem_cost: 108.33,
      retention_cost: 198,
      total_cost: 306.33,
    });
  });
});

describe('totals and prices', () => {
  it('sums organizations, each billed in its own whole units, to the cent', () => {
    const prices: Prices = { siem_connection_monthly: 99.99, per_million_events_monthly: 0.5, currency: 'EUR' };
    const third = { created_at: at('2026-11-21T00:00:00Z'), deleted_at: null };
    const result = bill(
      '2026-11',
      [
        org({ organization_id: 'org_a', name: 'A', days: flat('2026-11', 1_500_000), streams: [third] }),
        org({ organization_id: 'org_b', name: 'B', days: flat('2026-11', 200_000), streams: [third, third] }),
      ],
      '2030-01-01T00:00:00Z',
      prices,
    );
    expect(result.prices).toEqual(prices);
    // A: 10 stream-days × 99.99 / 30 = 33.33; 2 units × 0.5 = 1.00. B: 20 stream-days → 66.66; 1 unit → 0.50.
    expect(result.organizations.map((line) => [line.siem_cost, line.retention_cost, line.total_cost])).toEqual([
      [33.33, 1, 34.33],
      [66.66, 0.5, 67.16],
    ]);
    expect(result.totals).toEqual({
      events_stored: 1_700_000,
      events_stored_avg: 1_700_000,
      events_ingested: 0,
      siem_connections: 1,
      event_units: 3,
      siem_cost: 99.99,
      retention_cost: 1.5,
      total_cost: 101.49,
    });
  });
});
