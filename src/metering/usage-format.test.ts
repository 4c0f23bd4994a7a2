import { describe, expect, it } from 'vitest';
import { formatUsageCsv, formatUsageTable } from './usage-format.js';
import type { UsageView } from './pricing.js';

const USAGE: UsageView = {
  object: 'usage',
  month: '2026-11',
  prices: { siem_connection_monthly: 125, per_million_events_monthly: 99, currency: 'USD' },
  organizations: [
    { organization_id: 'org_a', name: 'Acme, Inc.', events_stored: 1_500_000, events_stored_avg: 1_500_000, events_ingested: 20, siem_connections: 0.5, event_units: 2, siem_cost: 62.5, retention_cost: 198, total_cost: 260.5 },
    { organization_id: 'org_b', name: '=HYPERLINK("x")', events_stored: 0, events_stored_avg: 0, events_ingested: 0, siem_connections: 0, event_units: 0, siem_cost: 0, retention_cost: 0, total_cost: 0 },
  ],
  totals: { events_stored: 1_500_000, events_stored_avg: 1_500_000, events_ingested: 20, siem_connections: 0.5, event_units: 2, siem_cost: 62.5, retention_cost: 198, total_cost: 260.5 },
};

describe('usage formats', () => {
  it('prints an aligned table with a totals row and the prices', () => {
    const text = formatUsageTable(USAGE);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('Usage for 2026-11 (USD): 125.00 per SIEM connection-month, 99.00 per million events stored (monthly average)');
    expect(lines[2]).toMatch(/^ORGANIZATION\s+NAME\s+STORED\s+STORED AVG\s+INGESTED\s+SIEM CONN\.\s+UNITS\s+SIEM COST\s+RETENTION COST\s+TOTAL$/);
    expect(lines[3]).toMatch(/^org_a\s+Acme, Inc\.\s+1500000\s+1500000\.00\s+20\s+0\.5000\s+2\s+62\.50\s+198\.00\s+260\.50$/);
    expect(lines[5]).toMatch(/^TOTAL\s+1500000\s+1500000\.00\s+20\s+0\.5000\s+2\s+62\.50\s+198\.00\s+260\.50$/);
    // Every row is as wide as the header: the columns line up.
    expect(new Set(lines.slice(2).map((line) => line.length)).size).toBe(1);
  });

  it('writes RFC 4180 CSV, neutralising formula cells', () => {
    const csv = formatUsageCsv(USAGE);
    expect(csv.split('\r\n')).toEqual([
      'month,organization_id,name,events_stored,events_stored_avg,events_ingested,siem_connections,event_units,siem_cost,retention_cost,total_cost,currency',
      '2026-11,org_a,"Acme, Inc.",1500000,1500000.00,20,0.5000,2,62.50,198.00,260.50,USD',
      `2026-11,org_b,"'=HYPERLINK(""x"")",0,0.00,0,0.0000,0,0.00,0.00,0.00,USD`,
      '2026-11,TOTAL,,1500000,1500000.00,20,0.5000,2,62.50,198.00,260.50,USD',
      '',
    ]);
  });
});
