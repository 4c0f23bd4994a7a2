import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Download, FileDown, Plus } from 'lucide-react';
import { useMemo, useState, type FormEvent } from 'react';
import { ApiError, api, errorMessage } from '../../lib/api';
import { formatDateTime, formatNumber, formatRelative, fromLocalInput, toLocalInput } from '../../lib/format';
import type { ExportJob } from '../../lib/types';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { DataTable } from '../../ui/data-table';
import { Dialog } from '../../ui/dialog';
import { Field } from '../../ui/field';
import { PageHeader } from '../../ui/page-header';
import { EmptyState } from '../../ui/states';
import { useToast } from '../../ui/toast';
import { useOrganizations, useOrgNames } from '../hooks';

const KEY = 'verity-exports';

/** The API has no list of exports, so this browser remembers the ones it started (ids only). */
function loadIds(): string[] {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(0, 30) : [];
  } catch {
    return [];
  }
}

function saveIds(ids: string[]) {
  try {
    localStorage.setItem(KEY, JSON.stringify(ids.slice(0, 30)));
  } catch {
    // storage unavailable: the list lasts for this page
  }
}

function NewExportDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (job: ExportJob) => void }) {
  const orgs = useOrganizations();
  const [organizationId, setOrganizationId] = useState('');
  const [from, setFrom] = useState(() => toLocalInput(new Date(Date.now() - 30 * 86_400_000).toISOString()));
  const [to, setTo] = useState(() => toLocalInput(new Date(Date.now() + 60_000).toISOString()));
  const [format, setFormat] = useState<'csv' | 'ndjson'>('csv');
  const [gzip, setGzip] = useState(false);
  const [actions, setActions] = useState('');
  const create = useMutation({
    mutationFn: () =>
      api.post<ExportJob>('/audit_logs/exports', {
        organization_id: organizationId,
        range_start: fromLocalInput(from),
        range_end: fromLocalInput(to),
        format,
        gzip,
        ...(actions.trim() ? { actions: actions.split(/[\s,]+/).filter(Boolean) } : {}),
      }),
    onSuccess: (job) => {
      onCreated(job);
      onClose();
    },
  });
  const fieldError = (field: string) => (create.error instanceof ApiError ? create.error.fieldMessage(field) : undefined);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="New export"
      description="A file of one organization’s events in a time range, built in the background."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" form="new-export" variant="primary" loading={create.isPending} disabled={organizationId === ''}>
            Start export
          </Button>
        </>
      }
    >
      <form id="new-export" className="form-stack" onSubmit={submit}>
        {create.isError && (
          <div className="callout callout-red" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <Field label="Organization" error={fieldError('organization_id')}>
          <select className="select" value={organizationId} onChange={(event) => setOrganizationId(event.target.value)} required>
            <option value="">Choose an organization…</option>
            {(orgs.data?.data ?? []).map((org) => (
              <option key={org.id} value={org.id}>
                {org.name}
              </option>
            ))}
          </select>
        </Field>
        <div className="form-grid">
          <Field label="From" error={fieldError('range_start')}>
            <input className="input" type="datetime-local" value={from} onChange={(event) => setFrom(event.target.value)} />
          </Field>
          <Field label="To" error={fieldError('range_end')}>
            <input className="input" type="datetime-local" value={to} onChange={(event) => setTo(event.target.value)} />
          </Field>
          <Field label="Format">
            <select className="select" value={format} onChange={(event) => setFormat(event.target.value as 'csv' | 'ndjson')}>
              <option value="csv">CSV</option>
              <option value="ndjson">NDJSON</option>
            </select>
          </Field>
          <Field label="Actions" optional hint="Comma-separated">
            <input className="input mono" value={actions} onChange={(event) => setActions(event.target.value)} placeholder="user.signed_in" />
          </Field>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={gzip} onChange={(event) => setGzip(event.target.checked)} /> Compress with gzip
        </label>
      </form>
    </Dialog>
  );
}

export function ExportsPage() {
  const toast = useToast();
  const client = useQueryClient();
  const names = useOrgNames();
  const [ids, setIds] = useState<string[]>(loadIds);
  const [creating, setCreating] = useState(false);
  const jobs = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['export', id],
      queryFn: () => api.get<ExportJob>(`/audit_logs/exports/${encodeURIComponent(id)}`),
      refetchInterval: (q: { state: { data?: ExportJob } }) => (q.state.data?.state === 'pending' ? 1000 : false),
      retry: false,
    })),
  });
  const rows = jobs.map((q) => q.data).filter((job): job is ExportJob => job !== undefined);
  const columns = useMemo<ColumnDef<ExportJob, unknown>[]>(
    () => [
      {
        id: 'org',
        header: 'Organization',
        cell: ({ row }) => (
          <div className="cell-stack">
            <span>{names.get(row.original.organization_id) ?? row.original.organization_id}</span>
            <span className="sub mono">{row.original.id}</span>
          </div>
        ),
      },
      { id: 'format', header: 'Format', cell: ({ row }) => <Badge>{row.original.format.toUpperCase() + (row.original.gzip ? ' · gzip' : '')}</Badge> },
      {
        id: 'state',
        header: 'Status',
        cell: ({ row }) => {
          const job = row.original;
          if (job.state === 'ready') return <Badge tone="green" dot>Ready</Badge>;
          if (job.state === 'error') return <Badge tone="red" dot title={job.error}>Failed</Badge>;
          return (
            <div className="row" style={{ gap: 8, minWidth: 140 }}>
              <div className="progress" style={{ flex: 1 }} role="progressbar" aria-label="Progress" aria-valuenow={Math.round(job.percent)} aria-valuemin={0} aria-valuemax={100}>
                <div style={{ width: `${Math.max(3, job.percent)}%` }} />
              </div>
              <span className="text-sm muted tabular">{Math.round(job.percent)}%</span>
            </div>
          );
        },
      },
      { id: 'rows', header: 'Events', meta: { className: 'num' }, cell: ({ row }) => formatNumber(row.original.rows_written) },
      { id: 'created', header: 'Created', cell: ({ row }) => <span className="muted">{formatDateTime(row.original.created_at)}</span> },
      { id: 'expires', header: 'Expires', cell: ({ row }) => <span className="muted">{formatRelative(row.original.expires_at)}</span> },
      {
        id: 'download',
        header: '',
        cell: ({ row }) =>
          row.original.state === 'ready' && row.original.url ? (
            <a className="btn btn-sm" href={row.original.url} download>
              <Download aria-hidden="true" /> Download
            </a>
          ) : null,
      },
    ],
    [names],
  );
  return (
    <div className="page">
      <PageHeader
        title="Exports"
        description="CSV and NDJSON files of an organization’s events. Files are kept for a limited time, then deleted."
        actions={
          <Button variant="primary" icon={<Plus />} onClick={() => setCreating(true)}>
            New export
          </Button>
        }
      />
      <div className="card">
        <DataTable
          caption="Exports"
          data={rows}
          columns={columns}
          loading={ids.length > 0 && jobs.some((q) => q.isLoading)}
          empty={
            <EmptyState
              icon={<FileDown />}
              title="No exports yet"
              action={
                <Button icon={<Plus />} onClick={() => setCreating(true)}>
                  Start an export
                </Button>
              }
            >
              Exports started from this browser appear here with their progress. Customers can also export from the Admin Portal.
            </EmptyState>
          }
        />
      </div>
      <NewExportDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(job) => {
          const next = [job.id, ...ids.filter((id) => id !== job.id)];
          setIds(next);
          saveIds(next);
          client.setQueryData(['export', job.id], job);
          toast.success('Export started');
        }}
      />
    </div>
  );
}
