import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CheckCircle2, Download, FileDown } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { api, errorMessage } from '../../lib/api';
import { formatNumber } from '../../lib/format';
import type { ExportJob } from '../../lib/types';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { EXPORTS_KEY, triggerDownload } from '../exports/exports-list';
import { resolveRange, SEARCH_MAX_LENGTH, splitMeta, type EventFilterState } from './filters';

/** The export body for the explorer's current filters, the search text included. */
export function exportBody(organizationId: string, filters: EventFilterState, format: 'csv' | 'ndjson' = 'csv') {
  const range = resolveRange(filters, Date.now());
  const q = filters.q.trim().slice(0, SEARCH_MAX_LENGTH);
  const metadata: Record<string, string[]> = {};
  for (const pair of filters.metadata) {
    const [key, value] = splitMeta(pair);
    (metadata[key] ??= []).push(value);
  }
  return {
    organization_id: organizationId,
    range_start: range.range_start ?? '1970-01-01T00:00:00.000Z',
    range_end: range.range_end ?? new Date(Date.now() + 60_000).toISOString(),
    format,
    ...(filters.actions.length > 0 ? { actions: filters.actions } : {}),
    ...(filters.actorIds.length > 0 ? { actor_ids: filters.actorIds } : {}),
    ...(filters.actorNames.length > 0 ? { actor_names: filters.actorNames } : {}),
    ...(filters.targetTypes.length > 0 ? { targets: filters.targetTypes } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(q !== '' ? { q } : {}),
  };
}

/**
 * "Export CSV": creates an export of what the filters select, shows its progress and downloads the file.
 * `exportsHref`: where the page lists exports, offered when the export is left to run in the background.
 */
export function ExportButton({ organizationId, filters, exportsHref }: { organizationId: string; filters: EventFilterState; exportsHref?: string }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [exportId, setExportId] = useState<string | null>(null);
  const downloaded = useRef<string | null>(null);
  const create = useMutation({
    mutationFn: () => api.post<ExportJob>('/audit_logs/exports', exportBody(organizationId, filters)),
    onSuccess: (job) => {
      setExportId(job.id);
      void client.invalidateQueries({ queryKey: [EXPORTS_KEY] });
    },
  });
  const job = useQuery({
    queryKey: ['export', exportId],
    queryFn: () => api.get<ExportJob>(`/audit_logs/exports/${encodeURIComponent(exportId ?? '')}`),
    enabled: exportId !== null,
    refetchInterval: (q) => (q.state.data?.state === 'pending' || q.state.data === undefined ? 800 : false),
  });
  const data = job.data;

  useEffect(() => {
    if (data?.state === 'ready' && data.url && downloaded.current !== data.id) {
      downloaded.current = data.id;
      triggerDownload(data.url);
    }
  }, [data]);

  const start = () => {
    setExportId(null);
    downloaded.current = null;
    setOpen(true);
    create.mutate();
  };

  const failed = create.isError || job.isError || data?.state === 'error';
  const percent = data ? Math.round(data.percent) : 0;
  const ready = data?.state === 'ready';

  return (
    <>
      <Button icon={<FileDown />} onClick={start}>
        Export CSV
      </Button>
      <Dialog
        open={open}
        onClose={() => setOpen(false)}
        title={ready ? 'Your export is ready' : failed ? 'Export failed' : 'Preparing your export'}
        description={
          ready
            ? `The download starts automatically.${exportsHref ? ' You can download it again from Exports until it expires.' : ' You can download it again for ten minutes.'}`
            : `Events matching your current filters${filters.q.trim() ? ` and the search “${filters.q.trim()}”` : ''}, as CSV.${exportsHref ? ' You can close this: the export keeps running and appears under Exports.' : ''}`
        }
        footer={
          <>
            {exportsHref && (ready || !failed) && (
              <Link href={exportsHref} className="btn btn-ghost" onClick={() => setOpen(false)}>
                View all exports
              </Link>
            )}
            <Button onClick={() => setOpen(false)}>{ready || failed ? 'Close' : 'Run in background'}</Button>
            {ready && data.url && (
              <a className="btn btn-primary" href={data.url} download>
                <Download aria-hidden="true" /> Download CSV
              </a>
            )}
            {failed && (
              <Button variant="primary" onClick={start}>
                Try again
              </Button>
            )}
          </>
        }
      >
        <div className="stack" data-testid="export-progress">
          {failed ? (
            <div className="callout callout-red" role="alert">
              {data?.error ?? errorMessage(create.error ?? job.error)}
            </div>
          ) : ready ? (
            <div className="callout callout-green" role="status">
              <CheckCircle2 aria-hidden="true" />
              <span>
                <strong>{formatNumber(data.rows_written)}</strong> events exported.
              </span>
            </div>
          ) : (
            <>
              <div
                className={`progress ${data?.rows_total == null ? 'indeterminate' : ''}`}
                role="progressbar"
                aria-label="Export progress"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={data?.rows_total == null ? undefined : percent}
              >
                <div style={data?.rows_total == null ? undefined : { width: `${Math.max(3, percent)}%` }} />
              </div>
              <div className="row-between text-sm text-secondary" aria-live="polite">
                <span>{data?.rows_total == null ? 'Counting events…' : `${formatNumber(data.rows_written)} of ${formatNumber(data.rows_total)} events`}</span>
                <span className="tabular">{data?.rows_total == null ? '' : `${percent}%`}</span>
              </div>
            </>
          )}
        </div>
      </Dialog>
    </>
  );
}
