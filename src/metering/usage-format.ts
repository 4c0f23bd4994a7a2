import type { OrganizationBill, UsageTotals, UsageView } from './pricing.js';

/** How `verity usage` shows a bill: an aligned table for people, or CSV for spreadsheets. */

const COLUMNS: readonly { header: string; csv: string; cell: (line: OrganizationBill | (UsageTotals & { organization_id: string; name: string })) => string }[] = [
  { header: 'ORGANIZATION', csv: 'organization_id', cell: (line) => line.organization_id },
  { header: 'NAME', csv: 'name', cell: (line) => line.name },
  { header: 'STORED', csv: 'events_stored', cell: (line) => String(line.events_stored) },
  { header: 'STORED AVG', csv: 'events_stored_avg', cell: (line) => line.events_stored_avg.toFixed(2) },
  { header: 'INGESTED', csv: 'events_ingested', cell: (line) => String(line.events_ingested) },
  { header: 'SIEM CONN.', csv: 'siem_connections', cell: (line) => line.siem_connections.toFixed(4) },
  { header: 'UNITS', csv: 'event_units', cell: (line) => String(line.event_units) },
  { header: 'SIEM COST', csv: 'siem_cost', cell: (line) => line.siem_cost.toFixed(2) },
  { header: 'RETENTION COST', csv: 'retention_cost', cell: (line) => line.retention_cost.toFixed(2) },
  { header: 'TOTAL', csv: 'total_cost', cell: (line) => line.total_cost.toFixed(2) },
];

// Numbers read best right-aligned; the first two columns are text.
const TEXT_COLUMNS = 2;

function rows(usage: UsageView): string[][] {
  const totals = { ...usage.totals, organization_id: 'TOTAL', name: '' };
  return [...usage.organizations, totals].map((line) => COLUMNS.map((column) => column.cell(line)));
}

export function formatUsageTable(usage: UsageView): string {
  const header = COLUMNS.map((column) => column.header);
  const body = rows(usage);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i < TEXT_COLUMNS ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const { prices } = usage;
  const title =
    `Usage for ${usage.month} (${prices.currency}): ${prices.siem_connection_monthly.toFixed(2)} per SIEM connection-month, ` +
    `${prices.per_million_events_monthly.toFixed(2)} per million events stored (monthly average)`;
  return `${[title, '', line(header), ...body.map(line)].join('\n')}\n`;
}

/** RFC 4180; cells starting with a formula character are prefixed with ' so spreadsheets show them as text. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function formatUsageCsv(usage: UsageView): string {
  const header = ['month', ...COLUMNS.map((column) => column.csv), 'currency'];
  const lines = rows(usage).map((row) => [usage.month, ...row, usage.prices.currency]);
  return `${[header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
