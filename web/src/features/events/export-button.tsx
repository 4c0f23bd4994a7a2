import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CheckCircle2, Download, FileDown } from 'lucide-react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { ApiError, api, errorMessage } from '../../lib/api';
import { formatNumber, fromLocalInput, toLocalInput } from '../../lib/format';
import type { ExportJob } from '../../lib/types';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { Field } from '../../ui/field';
import { EXPORTS_KEY, triggerDownload } from '../exports/exports-list';
import { exportBody, exportRangeProblem } from './export-body';
import type { EventFilterState } from './filters';

type ExportFormat = 'csv' | 'ndjson';

const FORMAT_LABEL: Record<ExportFormat, string> = { csv: 'CSV', ndjson: 'NDJSON' };

/**
 * "Export": a short form (format; the custom range, checked before sending), then the export of what the
 * filters select, its progress and the file's download.
 * `exportsHref`: where the page lists exports, offered when the export is left to run in the background.
 */
export function ExportButton({ organizationId, filters, exportsHref }: { organizationId: string; filters: EventFilterState; exportsHref?: string }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  // form: choosing; running: created (or being created), followed until ready or failed.
  const [stage, setStage] = useState<'form' | 'running'>('form');
  const [format, setFormat] = useState<ExportFormat>('csv');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  // The filters' exact ends (the inputs hold minutes): kept as they are unless edited in the dialog.
  const [shown, setShown] = useState({ from: '', to: '' });
  const [submitted, setSubmitted] = useState(false);
  const [exportId, setExportId] = useState<string | null>(null);
  const downloaded = useRef<string | null>(null);
  const custom = filters.range === 'custom';
  const rangeError = custom ? exportRangeProblem(from, to) : undefined;
  const create = useMutation({
    mutationFn: () =>
      api.post<ExportJob>(
        '/audit_logs/exports',
        exportBody(
          organizationId,
          custom ? { ...filters, from: from === shown.from ? filters.from : (fromLocalInput(from) ?? ''), to: to === shown.to ? filters.to : (fromLocalInput(to) ?? '') } : filters,
          format,
        ),
      ),
    onSuccess: (job) => {
      setExportId(job.id);
      void client.invalidateQueries({ queryKey: [EXPORTS_KEY] });
    },
    // A range the server refuses goes back to the form, shown at the field (the check above should catch it first).
    onError: (error) => {
      if (error instanceof ApiError && error.code === 'invalid_audit_log_export_range_date') setStage('form');
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

  const openForm = () => {
    setStage('form');
    setSubmitted(false);
    create.reset();
    // The dialog starts from what the screen shows.
    const initial = { from: filters.from ? toLocalInput(filters.from) : '', to: filters.to ? toLocalInput(filters.to) : '' };
    setShown(initial);
    setFrom(initial.from);
    setTo(initial.to);
    setOpen(true);
  };
  const start = (event?: FormEvent) => {
    event?.preventDefault();
    setSubmitted(true);
    if (rangeError !== undefined) return;
    setExportId(null);
    downloaded.current = null;
    setStage('running');
    create.mutate();
  };

  const serverRangeError = create.error instanceof ApiError && create.error.code === 'invalid_audit_log_export_range_date' ? create.error.message : undefined;
  const shownRangeError = submitted ? rangeError : undefined;
  const running = stage === 'running';
  const failed = running && (create.isError || job.isError || data?.state === 'error');
  const percent = data ? Math.round(data.percent) : 0;
  const ready = running && data?.state === 'ready';
  const label = FORMAT_LABEL[format];
  const search = filters.q.trim();

  const title = !running ? 'Export events' : ready ? 'Your export is ready' : failed ? 'Export failed' : 'Preparing your export';
  const description = !running
    ? `Events matching your current filters${search ? ` and the search “${search}”` : ''}.`
    : ready
      ? `The download starts automatically.${exportsHref ? ' You can download it again from Exports until it expires.' : ' You can download it again for ten minutes.'}`
      : failed
        ? `${create.isError ? `The ${label} export could not be started.` : `The ${label} export failed.`} Nothing is running: try again, changing your choices if needed.`
        : `Events matching your current filters${search ? ` and the search “${search}”` : ''}, as ${label}.${exportsHref ? ' You can close this: the export keeps running and appears under Exports.' : ''}`;

  return (
    <>
      <Button icon={<FileDown />} onClick={openForm}>
        Export
      </Button>
      <Dialog
        open={open}
        onClose={() => setOpen(false)}
        title={title}
        description={description}
        footer={
          !running ? (
            <>
              <Button onClick={() => setOpen(false)}>Cancel</Button>
              <Button type="submit" form="export-events" variant="primary" icon={<FileDown />}>
                Export {label}
              </Button>
            </>
          ) : (
            <>
              {exportsHref && !failed && (
                <Link href={exportsHref} className="btn btn-ghost" onClick={() => setOpen(false)}>
                  View all exports
                </Link>
              )}
              <Button onClick={() => setOpen(false)}>{ready || failed ? 'Close' : 'Run in background'}</Button>
              {ready && data.url && (
                <a className="btn btn-primary" href={data.url} download>
                  <Download aria-hidden="true" /> Download {label}
                </a>
              )}
              {failed && (
                <Button variant="primary" onClick={() => setStage('form')}>
                  Try again
                </Button>
              )}
            </>
          )
        }
      >
        {!running ? (
          <form id="export-events" className="form-stack" onSubmit={start} noValidate>
            <fieldset className="format-choice">
              <legend className="field-label">Format</legend>
              <label className="checkbox">
                <input type="radio" name="export-format" value="csv" checked={format === 'csv'} onChange={() => setFormat('csv')} />
                <span>
                  <strong>CSV</strong> <span className="text-secondary text-sm">· for spreadsheets</span>
                </span>
              </label>
              <label className="checkbox">
                <input type="radio" name="export-format" value="ndjson" checked={format === 'ndjson'} onChange={() => setFormat('ndjson')} />
                <span>
                  <strong>NDJSON</strong> <span className="text-secondary text-sm">· signed and verifiable: each event with its hash-chain position</span>
                </span>
              </label>
            </fieldset>
            {custom && (
              <div className="form-grid">
                <Field label="From" optional error={shownRangeError?.field === 'from' ? shownRangeError.message : serverRangeError}>
                  <input className="input" type="datetime-local" value={from} onChange={(event) => setFrom(event.target.value)} />
                </Field>
                <Field label="To" optional error={shownRangeError?.field === 'to' ? shownRangeError.message : undefined}>
                  <input className="input" type="datetime-local" value={to} onChange={(event) => setTo(event.target.value)} />
                </Field>
              </div>
            )}
            {create.isError && serverRangeError === undefined && (
              <div className="callout callout-red" role="alert">
                {errorMessage(create.error)}
              </div>
            )}
          </form>
        ) : (
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
        )}
      </Dialog>
    </>
  );
}
