import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { CreditCard } from 'lucide-react';
import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import { api } from '../../lib/api';
import { currentMonth, formatConnections, formatDate, formatDateTime, formatMoney, formatNumber } from '../../lib/format';
import type { OrganizationBill, Usage } from '../../lib/types';
import { Badge } from '../../ui/badge';
import { BarList } from '../../ui/chart';
import { DataTable } from '../../ui/data-table';
import { PageHeader } from '../../ui/page-header';
import { EmptyState, ErrorState, LoadingBlock, Skeleton } from '../../ui/states';

function recentMonths(count: number): string[] {
  const now = new Date();
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
  });
}

const monthLabel = (month: string) => new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${month}-01T00:00:00Z`));

export function UsagePage() {
  const [month, setMonth] = useState(currentMonth());
  const usage = useQuery({ queryKey: ['usage', month], queryFn: () => api.get<Usage>('/usage', { month }), placeholderData: keepPreviousData });
  const data = usage.data;
  const currency = data?.prices.currency ?? 'USD';
  const columns = useMemo<ColumnDef<OrganizationBill, unknown>[]>(
    () => [
      {
        id: 'name',
        header: 'Organization',
        meta: { className: 'usage-name' },
        accessorFn: (b) => b.name,
        // A deleted organization keeps its bill line, but has no page to link to.
        cell: ({ row }) =>
          row.original.deleted_at ? (
            <span className="usage-org">
              <span className="text-secondary usage-org-name" title={row.original.name}>
                {row.original.name}
              </span>
              <Badge tone="gray" title={`Deleted ${formatDateTime(row.original.deleted_at)}`}>
                Deleted {formatDate(row.original.deleted_at)}
              </Badge>
            </span>
          ) : (
            <Link href={`/organizations/${row.original.organization_id}`} title={row.original.name}>
              {row.original.name}
            </Link>
          ),
      },
      { id: 'ingested', header: 'Ingested', meta: { className: 'num' }, accessorFn: (b) => b.events_ingested, cell: ({ row }) => formatNumber(row.original.events_ingested) },
      { id: 'stored', header: 'Stored (avg)', meta: { className: 'num col-wide' }, accessorFn: (b) => b.events_stored_avg, cell: ({ row }) => formatNumber(Math.round(row.original.events_stored_avg)) },
      { id: 'units', header: 'Event units', meta: { className: 'num col-wide' }, accessorFn: (b) => b.event_units, cell: ({ row }) => row.original.event_units },
      {
        id: 'siem',
        header: 'SIEM connections',
        meta: { className: 'num col-wide' },
        accessorFn: (b) => b.siem_connections,
        cell: ({ row }) => <span title={`${row.original.siem_connections} connection-months (pro rata)`}>{formatConnections(row.original.siem_connections)}</span>,
      },
      { id: 'siem_cost', header: 'SIEM', meta: { className: 'num col-wide' }, accessorFn: (b) => b.siem_cost, cell: ({ row }) => formatMoney(row.original.siem_cost, currency) },
      { id: 'retention_cost', header: 'Retention', meta: { className: 'num col-wide' }, accessorFn: (b) => b.retention_cost, cell: ({ row }) => formatMoney(row.original.retention_cost, currency) },
      { id: 'total', header: 'Total', meta: { className: 'num' }, accessorFn: (b) => b.total_cost, cell: ({ row }) => <b>{formatMoney(row.original.total_cost, currency)}</b> },
    ],
    [currency],
  );
  const top = [...(data?.organizations ?? [])].sort((a, b) => b.total_cost - a.total_cost).slice(0, 8);
  const topIngest = [...(data?.organizations ?? [])].sort((a, b) => b.events_ingested - a.events_ingested).slice(0, 8);
  return (
    <div className="page">
      <PageHeader
        title="Usage & billing"
        description={
          data
            ? `SIEM connections at ${formatMoney(data.prices.siem_connection_monthly, currency)}/month pro rata; retention at ${formatMoney(data.prices.per_million_events_monthly, currency)} per million stored events.`
            : 'Metered events, SIEM connections and the priced bill.'
        }
        actions={
          <select className="select" style={{ width: 190 }} aria-label="Month" value={month} onChange={(event) => setMonth(event.target.value)}>
            {recentMonths(12).map((m) => (
              <option key={m} value={m}>
                {monthLabel(m)}
              </option>
            ))}
          </select>
        }
      />
      {usage.isError ? (
        <div className="card">
          <ErrorState error={usage.error} onRetry={() => void usage.refetch()} title="Could not load usage" />
        </div>
      ) : (
        <>
          <div className="grid grid-4">
            <div className="card stat">
              <div className="stat-label">Total {month === currentMonth() ? 'month to date' : 'for the month'}</div>
              <div className="stat-value">{data ? formatMoney(data.totals.total_cost, currency) : <Skeleton width={100} height={26} />}</div>
            </div>
            <div className="card stat">
              <div className="stat-label">Events ingested</div>
              <div className="stat-value">{data ? formatNumber(data.totals.events_ingested) : <Skeleton width={80} height={26} />}</div>
            </div>
            <div className="card stat">
              <div className="stat-label">SIEM connections</div>
              <div className="stat-value">{data ? formatMoney(data.totals.siem_cost, currency) : <Skeleton width={80} height={26} />}</div>
              {/* Pro rata: a stream that existed for a third of the month is a third of a connection-month. */}
              <div className="stat-sub">{data ? `${formatConnections(data.totals.siem_connections)} connection-months` : ''}</div>
            </div>
            <div className="card stat">
              <div className="stat-label">Retention</div>
              <div className="stat-value">{data ? formatMoney(data.totals.retention_cost, currency) : <Skeleton width={80} height={26} />}</div>
              <div className="stat-sub">{data ? `${data.totals.event_units} × 1M events` : ''}</div>
            </div>
          </div>
          <div className="grid grid-2">
            <section className="card" aria-labelledby="bill-chart">
              <div className="card-header">
                <h2 id="bill-chart">Bill by organization</h2>
              </div>
              <div className="card-body">
                {usage.isLoading ? (
                  <LoadingBlock height={120} />
                ) : top.length === 0 ? (
                  <p className="muted text-sm">Nothing billed this month.</p>
                ) : (
                  <ul className="bar-list" aria-label="Total per organization">
                    {top.map((bill) => {
                      const max = Math.max(0.01, top[0]?.total_cost ?? 0);
                      return (
                        <li key={bill.organization_id}>
                          <span className="bar" style={{ width: `${Math.max(2, (bill.total_cost / max) * 100)}%` }} aria-hidden="true" />
                          <span className="label">{bill.deleted_at ? `${bill.name} (deleted)` : bill.name}</span>
                          <span className="value">{formatMoney(bill.total_cost, currency)}</span>
                        </li>
                      );
                    })}
                  </ul>
                )}
              </div>
            </section>
            <section className="card" aria-labelledby="ingest-chart">
              <div className="card-header">
                <h2 id="ingest-chart">Events ingested by organization</h2>
              </div>
              <div className="card-body">
                {usage.isLoading ? (
                  <LoadingBlock height={120} />
                ) : topIngest.length === 0 ? (
                  <p className="muted text-sm">No events this month.</p>
                ) : (
                  <BarList label="Events ingested per organization" items={topIngest.map((b) => ({ key: b.organization_id, label: b.deleted_at ? `${b.name} (deleted)` : b.name, value: b.events_ingested }))} />
                )}
              </div>
            </section>
          </div>
          <div className="card">
            <DataTable
              caption="Usage per organization"
              data={data?.organizations}
              columns={columns}
              loading={usage.isLoading}
              sortable
              getRowId={(b) => b.organization_id}
              empty={
                <EmptyState icon={<CreditCard />} title="No usage this month">
                  Usage is recorded as organizations send events and connect SIEMs.
                </EmptyState>
              }
              footer={
                data &&
                data.organizations.length > 0 && (
                  <div className="table-foot">
                    <span>{data.organizations.length} organizations</span>
                    <span style={{ color: 'var(--text)', fontWeight: 600 }}>Total {formatMoney(data.totals.total_cost, currency)}</span>
                  </div>
                )
              }
            />
          </div>
        </>
      )}
    </div>
  );
}
