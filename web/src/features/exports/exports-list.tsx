import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { ChevronLeft, ChevronRight, Download, FileDown } from 'lucide-react';
import { useMemo, useState, type ReactNode } from 'react';
import { api, errorMessage } from '../../lib/api';
import { formatDate, formatDateTime, formatNumber, formatRelative } from '../../lib/format';
import type { ExportFilters, ExportJob, List } from '../../lib/types';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { DataTable } from '../../ui/data-table';
import { EmptyState, ErrorState } from '../../ui/states';
import { useToast } from '../../ui/toast';

const PAGE_SIZE = 25;

type Cursor = { after?: string; before?: string };

/** The query key prefix of every export list, so starting an export can refresh them all. */
export const EXPORTS_KEY = 'exports';

/** Navigates to a file URL as a download without leaving the page. */
export function triggerDownload(url: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.rel = 'noopener';
  link.download = '';
  document.body.appendChild(link);
  link.click();
  link.remove();
}

// Exports made "of everything" start before this (year 1 now; the epoch in earlier versions).
const EPOCH_ISH = Date.UTC(1971, 0, 1);

const monthDay = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });

/** "Oct 1 – Oct 31, 2026", "All events up to Nov 26, 2026", "All events": what time range an export covers. */
export function describeRange(filters: Pick<ExportFilters, 'range_start' | 'range_end'>): string {
  const start = new Date(filters.range_start);
  // range_end is exclusive: a range ending at midnight ends on the day before.
  const end = new Date(Date.parse(filters.range_end) - 1);
  // Open ends (the portal's Export of "All time" or of a recent span) are the widest dates the API takes.
  const openStart = start.getTime() < EPOCH_ISH;
  const openEnd = end.getUTCFullYear() >= 9999;
  if (openStart && openEnd) return 'All events';
  if (openStart) return `All events up to ${formatDate(end.toISOString())}`;
  if (openEnd) return `All events from ${formatDate(start.toISOString())}`;
  // One year written once keeps the range short enough for a table cell.
  const from = start.getFullYear() === end.getFullYear() ? monthDay.format(start) : formatDate(start.toISOString());
  return `${from} – ${formatDate(end.toISOString())}`;
}

/** The filters besides the range, in words, or null when the export has none. */
export function describeFilters(filters: ExportFilters): string | null {
  const parts: string[] = [];
  if (filters.q) parts.push(`search “${filters.q}”`);
  const list = (label: string, values: string[]) => {
    if (values.length === 0) return;
    parts.push(`${label} ${values.slice(0, 2).join(', ')}${values.length > 2 ? ` +${values.length - 2}` : ''}`);
  };
  list('action', filters.actions);
  list('actor', [...filters.actor_names, ...filters.actor_ids]);
  list('target type', filters.target_types);
  list('target id', filters.target_ids ?? []);
  const metadata = Object.entries(filters.metadata ?? {});
  if (metadata.length > 0) parts.push(metadata.map(([key, values]) => `${key}=${values.join('|')}`).join(', '));
  return parts.length === 0 ? null : parts.join(' · ');
}

export function ExportStatus({ job }: { job: ExportJob }) {
  if (job.state === 'ready') {
    return (
      <Badge tone="green" dot>
        Ready
      </Badge>
    );
  }
  if (job.state === 'error') {
    return (
      <Badge tone="red" dot title={job.error}>
        Failed
      </Badge>
    );
  }
  const counting = job.rows_total === null;
  const percent = Math.round(job.percent);
  return (
    <div className="export-progress">
      <div
        className={`progress ${counting ? 'indeterminate' : ''}`}
        role="progressbar"
        aria-label={`Export ${job.id} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={counting ? undefined : percent}
      >
        <div style={counting ? undefined : { width: `${Math.max(3, percent)}%` }} />
      </div>
      <span className="text-sm muted tabular">{counting ? 'Starting…' : `${percent}%`}</span>
    </div>
  );
}

/**
 * Download with a fresh link: the list's signed links last ten minutes, and a page left open longer would
 * hand out an expired one, so the export is fetched again (a new link comes with every GET) on click.
 */
function DownloadButton({ job }: { job: ExportJob }) {
  const toast = useToast();
  const fresh = useMutation({
    mutationFn: () => api.get<ExportJob>(`/audit_logs/exports/${encodeURIComponent(job.id)}`),
    onSuccess: (latest) => {
      if (latest.url) triggerDownload(latest.url);
      else toast.error('This export has no file to download.');
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  return (
    <Button size="sm" icon={<Download />} loading={fresh.isPending} onClick={() => fresh.mutate()} aria-label={`Download export ${job.id}`}>
      Download
    </Button>
  );
}

export interface ExportsListProps {
  /** One organization's exports; undefined lists all (unrestricted operators only). */
  organizationId?: string;
  /** Names for an Organization column; omitted in the portal, where every export is the same organization's. */
  orgNames?: Map<string, string>;
  empty?: ReactNode;
}

/**
 * Recent exports, newest first, with live progress while any is being written and a download button on
 * ready ones. Shared by the dashboard's Exports page and the Admin Portal's Exports tab.
 */
export function ExportsList({ organizationId, orgNames, empty }: ExportsListProps) {
  const [cursor, setCursor] = useState<Cursor>({});
  const [scope, setScope] = useState(organizationId);
  // A new scope starts from the first page.
  if (scope !== organizationId) {
    setScope(organizationId);
    setCursor({});
  }
  const exports = useQuery({
    queryKey: [EXPORTS_KEY, organizationId ?? 'all', cursor],
    queryFn: () => api.get<List<ExportJob>>('/audit_logs/exports', { organization_id: organizationId, limit: PAGE_SIZE, ...cursor }),
    placeholderData: keepPreviousData,
    // Follow progress closely while something is being written; otherwise notice new exports now and then.
    refetchInterval: (query) => ((query.state.data?.data ?? []).some((job) => job.state === 'pending') ? 1000 : 15_000),
  });

  const columns = useMemo<ColumnDef<ExportJob, unknown>[]>(() => {
    const list: ColumnDef<ExportJob, unknown>[] = [];
    if (orgNames !== undefined) {
      list.push({
        id: 'org',
        header: 'Organization',
        meta: { width: '15%', className: 'col-org' },
        cell: ({ row }) => <span>{orgNames.get(row.original.organization_id) ?? row.original.organization_id}</span>,
      });
    }
    list.push(
      {
        id: 'selection',
        header: 'Events',
        meta: { className: 'col-events' },
        cell: ({ row }) => {
          const filters = row.original.filters;
          const extra = filters === undefined ? null : describeFilters(filters);
          return (
            <div className="cell-stack">
              <span>{filters === undefined ? <span className="mono text-sm">{row.original.id}</span> : describeRange(filters)}</span>
              <span className="sub" title={`${extra ?? 'No other filters'} · ${row.original.id}`}>
                {extra ?? 'No other filters'}
              </span>
            </div>
          );
        },
      },
      { id: 'state', header: 'Status', meta: { width: 130, className: 'col-state' }, cell: ({ row }) => <ExportStatus job={row.original} /> },
      {
        id: 'file',
        header: 'File',
        meta: { width: 130, className: 'col-file' },
        cell: ({ row }) => {
          const job = row.original;
          const rowsText =
            job.state !== 'pending' ? `${formatNumber(job.rows_written)} ${job.rows_written === 1 ? 'row' : 'rows'}` : job.rows_total === null ? 'counting…' : `${formatNumber(job.rows_written)} of ${formatNumber(job.rows_total)}`;
          return (
            <div className="cell-stack">
              <span>{job.format.toUpperCase() + (job.gzip ? ', gzip' : '')}</span>
              <span className="sub tabular">{rowsText}</span>
            </div>
          );
        },
      },
      {
        id: 'created',
        header: 'Created',
        meta: { width: 140, className: 'col-created' },
        cell: ({ row }) => (
          <div className="cell-stack">
            <span className="text-secondary" title={formatDateTime(row.original.created_at)}>
              {formatRelative(row.original.created_at)}
            </span>
            <span className="sub" title={`The file is deleted ${formatDateTime(row.original.expires_at)}`}>
              expires {formatRelative(row.original.expires_at)}
            </span>
          </div>
        ),
      },
      {
        id: 'download',
        header: () => <span className="sr-only">Download</span>,
        meta: { className: 'actions col-download', width: 136 },
        cell: ({ row }) => (row.original.state === 'ready' ? <DownloadButton job={row.original} /> : null),
      },
    );
    return list;
  }, [orgNames]);

  if (exports.isError && !exports.data) {
    return <ErrorState error={exports.error} onRetry={() => void exports.refetch()} title="Could not load exports" />;
  }
  const meta = exports.data?.list_metadata;
  const rows = exports.data?.data;
  // The wrapper lets a phone show each export as a stacked row (components.css, .exports-list).
  return (
    <div className="exports-list">
      <DataTable
        caption="Exports"
        fixed
        data={rows}
        columns={columns}
        loading={exports.isLoading}
        getRowId={(job) => job.id}
        empty={
          empty ?? (
            <EmptyState icon={<FileDown />} title="No exports yet">
              Exports appear here with their progress while they are written, and can be downloaded until they expire.
            </EmptyState>
          )
        }
        footer={
          (meta?.after || meta?.before) && (
            <div className="table-foot">
              <span>{rows?.length ?? 0} exports on this page</span>
              <div className="pager">
                <Button size="sm" icon={<ChevronLeft />} disabled={!meta.before} onClick={() => meta.before && setCursor({ before: meta.before })}>
                  Newer
                </Button>
                <Button size="sm" disabled={!meta.after} onClick={() => meta.after && setCursor({ after: meta.after })}>
                  Older <ChevronRight aria-hidden="true" />
                </Button>
              </div>
            </div>
          )
        }
      />
    </div>
  );
}
