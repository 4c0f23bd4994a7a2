import { useMutation, useQueryClient } from '@tanstack/react-query';
import { FileDown, Plus } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { EXPORTS_KEY, ExportsList } from '../../features/exports/exports-list';
import { ApiError, api, errorMessage } from '../../lib/api';
import { fromLocalInput, toLocalInput } from '../../lib/format';
import type { ExportJob } from '../../lib/types';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { OrganizationOptions } from '../../ui/organization-options';
import { Field } from '../../ui/field';
import { PageHeader } from '../../ui/page-header';
import { EmptyState } from '../../ui/states';
import { useToast } from '../../ui/toast';
import { useOrganizations, useOrgNames } from '../hooks';

/** The time range checked before sending: both ends set, From before To. */
function rangeProblem(from: string, to: string): { field: 'from' | 'to'; message: string } | undefined {
  const start = fromLocalInput(from);
  const end = fromLocalInput(to);
  if (start === undefined) return { field: 'from', message: 'Choose when the export starts.' };
  if (end === undefined) return { field: 'to', message: 'Choose when the export ends.' };
  if (Date.parse(start) >= Date.parse(end)) return { field: 'from', message: 'From must be before To.' };
  return undefined;
}

/** Fields whose API errors the form shows in place (no banner needed for them). */
const SHOWN_FIELDS = ['organization_id', 'range_start', 'range_end'];

function NewExportDialog({
  open,
  initialOrganizationId,
  onClose,
  onCreated,
}: {
  open: boolean;
  initialOrganizationId: string;
  onClose: () => void;
  onCreated: (job: ExportJob) => void;
}) {
  const orgs = useOrganizations();
  const [organizationId, setOrganizationId] = useState(initialOrganizationId);
  // Opening the dialog while the page shows one organization preselects it.
  const [wasOpen, setWasOpen] = useState(open);
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) setOrganizationId(initialOrganizationId);
  }
  const [from, setFrom] = useState(() => toLocalInput(new Date(Date.now() - 30 * 86_400_000).toISOString()));
  const [to, setTo] = useState(() => toLocalInput(new Date(Date.now() + 60_000).toISOString()));
  const [format, setFormat] = useState<'csv' | 'ndjson'>('csv');
  const [gzip, setGzip] = useState(false);
  const [actions, setActions] = useState('');
  const [submitted, setSubmitted] = useState(false);
  const rangeError = rangeProblem(from, to);
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
    setSubmitted(true);
    if (rangeError !== undefined) return;
    create.mutate();
  };
  const shownRangeError = submitted ? rangeError : undefined;
  const shownAtField = create.error instanceof ApiError && create.error.errors.some((item) => SHOWN_FIELDS.includes(item.field ?? ''));
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
        {create.isError && !shownAtField && (
          <div className="callout callout-red" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <Field label="Organization" error={fieldError('organization_id')}>
          <select className="select" value={organizationId} onChange={(event) => setOrganizationId(event.target.value)} required>
            <option value="">Choose an organization…</option>
            <OrganizationOptions organizations={orgs.data?.data ?? []} />
          </select>
        </Field>
        <div className="form-grid">
          <Field label="From" error={shownRangeError?.field === 'from' ? shownRangeError.message : fieldError('range_start')}>
            <input className="input" type="datetime-local" value={from} onChange={(event) => setFrom(event.target.value)} />
          </Field>
          <Field label="To" error={shownRangeError?.field === 'to' ? shownRangeError.message : fieldError('range_end')}>
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
  const orgs = useOrganizations();
  const names = useOrgNames();
  const [organizationId, setOrganizationId] = useState('');
  const [creating, setCreating] = useState(false);
  return (
    <div className="page">
      <PageHeader
        title="Exports"
        description="CSV and NDJSON files of an organization’s events, written in the background. Files are kept for a limited time, then deleted."
        actions={
          <>
            <select className="select" style={{ width: 220 }} aria-label="Organization" value={organizationId} onChange={(event) => setOrganizationId(event.target.value)}>
              <option value="">All organizations</option>
              <OrganizationOptions organizations={orgs.data?.data ?? []} />
            </select>
            <Button variant="primary" icon={<Plus />} onClick={() => setCreating(true)}>
              New export
            </Button>
          </>
        }
      />
      <div className="card">
        <ExportsList
          organizationId={organizationId || undefined}
          orgNames={organizationId ? undefined : names}
          empty={
            <EmptyState
              icon={<FileDown />}
              title={organizationId ? 'No exports for this organization' : 'No exports yet'}
              action={
                <Button icon={<Plus />} onClick={() => setCreating(true)}>
                  Start an export
                </Button>
              }
            >
              Exports started here, through the API or by customers in the Admin Portal appear with their progress, and can be downloaded until they expire.
            </EmptyState>
          }
        />
      </div>
      <NewExportDialog
        open={creating}
        initialOrganizationId={organizationId}
        onClose={() => setCreating(false)}
        onCreated={() => {
          void client.invalidateQueries({ queryKey: [EXPORTS_KEY] });
          toast.success('Export started');
        }}
      />
    </div>
  );
}
