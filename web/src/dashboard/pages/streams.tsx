import { useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Radio } from 'lucide-react';
import { useMemo, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { ApiError, api } from '../../lib/api';
import { formatNumber, formatRelative } from '../../lib/format';
import type { LogStream } from '../../lib/types';
import { StreamStateBadge } from '../../ui/badge';
import { DataTable } from '../../ui/data-table';
import { PageHeader } from '../../ui/page-header';
import { EmptyState, ErrorState, LoadingBlock } from '../../ui/states';
import { destinationLabel, DestinationLogo } from '../../features/streams/destinations';
import { StreamSetup } from '../../features/streams/stream-setup';
import { StreamStatus } from '../../features/streams/stream-status';
import { useOrgNames, useStreams } from '../hooks';

type Show = 'all' | 'attention' | 'paused';

export function StreamsPage() {
  const [, navigate] = useLocation();
  const streams = useStreams();
  const names = useOrgNames();
  const [show, setShow] = useState<Show>('all');
  const all = streams.data?.data ?? [];
  const attention = all.filter((s) => !s.paused && (s.state === 'error' || s.state === 'invalid'));
  // A new array when names arrive: TanStack Table caches accessor values per row until its data changes.
  const rows = useMemo(
    () => [...(show === 'attention' ? attention : show === 'paused' ? all.filter((s) => s.paused) : all)],
    [streams.data, show, names.size],
  );
  const columns = useMemo<ColumnDef<LogStream, unknown>[]>(
    () => [
      {
        id: 'destination',
        header: 'Destination',
        accessorFn: (s) => s.name ?? s.type,
        cell: ({ row }) => (
          <div className="actor-cell">
            <DestinationLogo type={row.original.type} small />
            <div className="cell-stack">
              <span style={{ fontWeight: 500 }}>{row.original.name ?? destinationLabel(row.original.type)}</span>
              <span className="sub">{destinationLabel(row.original.type)}</span>
            </div>
          </div>
        ),
      },
      {
        id: 'organization',
        header: 'Organization',
        accessorFn: (s) => names.get(s.organization_id) ?? s.organization_id,
        cell: ({ row }) => <span className="text-secondary">{names.get(row.original.organization_id) ?? row.original.organization_id}</span>,
      },
      { id: 'state', header: 'State', accessorFn: (s) => (s.paused ? 'inactive' : s.state), cell: ({ row }) => <StreamStateBadge stream={row.original} /> },
      {
        id: 'lag',
        header: 'Behind',
        meta: { className: 'num' },
        accessorFn: (s) => s.stats.lag_events,
        cell: ({ row }) => <span className={row.original.stats.lag_events > 0 ? '' : 'muted'}>{formatNumber(row.original.stats.lag_events)}</span>,
      },
      { id: 'synced', header: 'Last synced', accessorFn: (s) => s.last_synced_at ?? '', cell: ({ row }) => <span className="muted">{formatRelative(row.original.last_synced_at)}</span> },
      {
        id: 'delivered',
        header: 'Delivered',
        meta: { className: 'num' },
        accessorFn: (s) => s.stats.delivered,
        cell: ({ row }) => (
          <span>
            {formatNumber(row.original.stats.delivered)}
            {row.original.stats.failed > 0 && <span style={{ color: 'var(--red)' }}> · {formatNumber(row.original.stats.failed)} failed</span>}
          </span>
        ),
      },
      {
        id: 'error',
        header: 'Last error',
        enableSorting: false,
        cell: ({ row }) =>
          row.original.state_reason && !row.original.paused ? (
            <span className="text-sm cell-clamp" style={{ color: row.original.state === 'active' ? undefined : 'var(--red)' }} title={row.original.state_reason}>
              {row.original.state_reason}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
    ],
    [names],
  );
  return (
    <div className="page page-wide">
      <PageHeader
        title="Log streams"
        description="Every organization’s SIEM connections, their health and how far behind they are."
        actions={
          <div className="segmented" role="group" aria-label="Show">
            <button type="button" aria-pressed={show === 'all'} onClick={() => setShow('all')}>
              All {all.length > 0 && `(${all.length})`}
            </button>
            <button type="button" aria-pressed={show === 'attention'} onClick={() => setShow('attention')}>
              Needs attention {attention.length > 0 && `(${attention.length})`}
            </button>
            <button type="button" aria-pressed={show === 'paused'} onClick={() => setShow('paused')}>
              Paused
            </button>
          </div>
        }
      />
      <div className="card">
        {streams.isError ? (
          <ErrorState error={streams.error} onRetry={() => void streams.refetch()} title="Could not load log streams" />
        ) : (
          <DataTable
            caption="Log streams"
            data={streams.data ? rows : undefined}
            columns={columns}
            loading={streams.isLoading}
            sortable
            getRowId={(s) => s.id}
            onRowClick={(s) => navigate(`/log-streams/${s.id}`)}
            rowLabel={(s) => `Open ${s.name ?? s.type} stream of ${names.get(s.organization_id) ?? s.organization_id}`}
            empty={
              show === 'all' ? (
                <EmptyState icon={<Radio />} title="No log streams yet">
                  Customers connect Datadog, Splunk, S3 and other destinations from the Admin Portal: generate a “Log streams” link on an organization’s page, or add a stream there yourself.
                </EmptyState>
              ) : (
                <EmptyState icon={<Radio />} title={show === 'attention' ? 'Nothing needs attention' : 'No paused streams'}>
                  {show === 'attention' ? 'Every stream is delivering.' : 'All streams are running.'}
                </EmptyState>
              )
            }
          />
        )}
      </div>
    </div>
  );
}

export function StreamDetailPage({ id }: { id: string }) {
  const [, navigate] = useLocation();
  const [editing, setEditing] = useState(false);
  const names = useOrgNames();
  const stream = useQuery({
    queryKey: ['stream', id],
    queryFn: () => api.get<LogStream>(`/log_streams/${encodeURIComponent(id)}`),
    // A stream that is not found stays not found: stop polling it.
    refetchInterval: (query) => (query.state.error instanceof ApiError && query.state.error.status === 404 ? false : 5000),
  });
  const data = stream.data;
  return (
    <div className="page">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link href="/log-streams">Log streams</Link>
        <span aria-hidden="true">/</span>
        {data && <Link href={`/organizations/${data.organization_id}`}>{names.get(data.organization_id) ?? data.organization_id}</Link>}
      </nav>
      {stream.isLoading ? (
        <LoadingBlock />
      ) : stream.isError ? (
        stream.error instanceof ApiError && stream.error.status === 404 ? (
          <ErrorState error={stream.error} title="Log stream not found" />
        ) : (
          <ErrorState error={stream.error} title="Could not load this stream" onRetry={() => void stream.refetch()} />
        )
      ) : data && editing ? (
        <StreamSetup
          organizationId={data.organization_id}
          existing={data}
          onCancel={() => setEditing(false)}
          onDone={() => {
            setEditing(false);
            void stream.refetch();
          }}
        />
      ) : (
        data && <StreamStatus stream={data} allowReplay onEdit={() => setEditing(true)} onDeleted={() => navigate('/log-streams')} />
      )}
    </div>
  );
}
