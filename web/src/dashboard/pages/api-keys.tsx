import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { AlertTriangle, KeyRound, Plus } from 'lucide-react';
import { useMemo, useState, type FormEvent } from 'react';
import { ApiError, api, errorMessage } from '../../lib/api';
import { formatDate, formatRelative } from '../../lib/format';
import type { ApiKey, List } from '../../lib/types';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { CopyButton } from '../../ui/copy-button';
import { DataTable } from '../../ui/data-table';
import { ConfirmDialog, Dialog } from '../../ui/dialog';
import { Field } from '../../ui/field';
import { PageHeader } from '../../ui/page-header';
import { EmptyState, ErrorState } from '../../ui/states';
import { useToast } from '../../ui/toast';
import { useOrganizations, useOrgNames } from '../hooks';

const SCOPES = [
  { value: 'events:write', label: 'Write events', hint: 'Send events (POST /audit_logs/events)' },
  { value: 'events:read', label: 'Read events', hint: 'Search, export and follow events' },
  { value: 'admin', label: 'Admin', hint: 'Organizations, schemas, streams, portal links' },
];

function CreateKeyDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const orgs = useOrganizations();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['events:write', 'events:read']);
  const [organizationId, setOrganizationId] = useState('');
  const create = useMutation({
    mutationFn: () => api.post<ApiKey>('/api_keys', { name: name.trim(), scopes, organization_id: organizationId || null }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['api_keys'] }),
  });
  const close = () => {
    onClose();
    create.reset();
    setName('');
    setScopes(['events:write', 'events:read']);
    setOrganizationId('');
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const created = create.data;
  if (created?.secret) {
    return (
      <Dialog
        open={open}
        onClose={close}
        title="Copy your new API key"
        description="This is the only time the secret is shown. Store it in your secrets manager now."
        footer={
          <Button variant="primary" onClick={close}>
            I have copied it
          </Button>
        }
      >
        <div className="stack">
          <div className="secret-box" data-testid="api-key-secret">
            <code>{created.secret}</code>
            <CopyButton value={created.secret} label="Copy secret" variant="default" showLabel />
          </div>
          <div className="callout callout-amber">
            <AlertTriangle aria-hidden="true" />
            <span>Anyone with this key can act with its scopes. If it leaks, revoke it and create a new one.</span>
          </div>
        </div>
      </Dialog>
    );
  }
  return (
    <Dialog
      open={open}
      onClose={close}
      title="Create API key"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" form="create-key" variant="primary" loading={create.isPending} disabled={name.trim() === '' || scopes.length === 0}>
            Create key
          </Button>
        </>
      }
    >
      <form id="create-key" className="form-stack" onSubmit={submit}>
        {create.isError && (
          <div className="callout callout-red" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <Field label="Name" hint="Where the key is used, e.g. “Production backend”." error={create.error instanceof ApiError ? create.error.fieldMessage('name') : undefined}>
          <input className="input" autoFocus value={name} maxLength={200} onChange={(event) => setName(event.target.value)} />
        </Field>
        <fieldset className="field" style={{ border: 'none', padding: 0, margin: 0 }}>
          <legend className="field-label" style={{ marginBottom: 6 }}>
            Scopes
          </legend>
          {SCOPES.map((scope) => (
            <label key={scope.value} className="checkbox" style={{ alignItems: 'flex-start', padding: '4px 0' }}>
              <input
                type="checkbox"
                checked={scopes.includes(scope.value)}
                onChange={(event) => setScopes(event.target.checked ? [...scopes, scope.value] : scopes.filter((s) => s !== scope.value))}
                style={{ marginTop: 2 }}
              />
              <span className="cell-stack">
                <span>{scope.label}</span>
                <span className="sub">{scope.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <Field label="Restrict to organization" optional hint="A restricted key reaches only this organization (others answer 404); its scopes decide what it may do there. With admin that includes the organization’s streams, retention, exports and portal links, never API keys, new organizations or schemas.">
          <select className="select" value={organizationId} onChange={(event) => setOrganizationId(event.target.value)}>
            <option value="">All organizations</option>
            {/* Keys are for the vendor's application and its customers; the system log is Verity's own. */}
            {(orgs.data?.data ?? []).filter((org) => org.system !== true).map((org) => (
              <option key={org.id} value={org.id}>
                {org.name}
              </option>
            ))}
          </select>
        </Field>
      </form>
    </Dialog>
  );
}

export function ApiKeysPage() {
  const client = useQueryClient();
  const toast = useToast();
  const names = useOrgNames();
  const [creating, setCreating] = useState(false);
  const [showRevoked, setShowRevoked] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const keys = useQuery({ queryKey: ['api_keys', showRevoked], queryFn: () => api.get<List<ApiKey>>('/api_keys', { include_revoked: showRevoked || undefined }) });
  const revoke = useMutation({
    mutationFn: (key: ApiKey) => api.del(`/api_keys/${encodeURIComponent(key.id)}`),
    onSuccess: () => {
      toast.success('Key revoked');
      setRevoking(null);
      void client.invalidateQueries({ queryKey: ['api_keys'] });
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  const columns = useMemo<ColumnDef<ApiKey, unknown>[]>(
    () => [
      {
        id: 'name',
        header: 'Name',
        cell: ({ row }) => (
          <div className="cell-stack">
            <span style={{ fontWeight: 500 }}>{row.original.name}</span>
            <span className="sub mono">{row.original.display_prefix}…</span>
          </div>
        ),
      },
      {
        id: 'scopes',
        header: 'Scopes',
        cell: ({ row }) => (
          <div className="row" style={{ gap: 4 }}>
            {row.original.scopes.map((scope) => (
              <Badge key={scope} tone={scope === 'admin' ? 'accent' : 'gray'}>
                {scope}
              </Badge>
            ))}
          </div>
        ),
      },
      { id: 'org', header: 'Organization', cell: ({ row }) => (row.original.organization_id ? (names.get(row.original.organization_id) ?? row.original.organization_id) : <span className="muted">All</span>) },
      { id: 'used', header: 'Last used', cell: ({ row }) => <span className="muted">{formatRelative(row.original.last_used_at)}</span> },
      { id: 'created', header: 'Created', cell: ({ row }) => <span className="muted">{formatDate(row.original.created_at)}</span> },
      {
        id: 'actions',
        header: '',
        meta: { className: 'num' },
        cell: ({ row }) =>
          row.original.revoked_at ? (
            <Badge tone="red">Revoked {formatDate(row.original.revoked_at)}</Badge>
          ) : (
            <Button size="sm" variant="danger" onClick={() => setRevoking(row.original)} aria-label={`Revoke ${row.original.name}`}>
              Revoke
            </Button>
          ),
      },
    ],
    [names],
  );
  return (
    <div className="page">
      <PageHeader
        title="API keys"
        description="Keys authenticate your backend to Verity. Secrets are stored hashed and shown once."
        actions={
          <>
            <label className="checkbox text-sm">
              <input type="checkbox" checked={showRevoked} onChange={(event) => setShowRevoked(event.target.checked)} /> Show revoked
            </label>
            <Button variant="primary" icon={<Plus />} onClick={() => setCreating(true)}>
              Create key
            </Button>
          </>
        }
      />
      <div className="card">
        {keys.isError ? (
          <ErrorState error={keys.error} onRetry={() => void keys.refetch()} title="Could not load API keys" />
        ) : (
          <DataTable
            caption="API keys"
            data={keys.data?.data}
            columns={columns}
            loading={keys.isLoading}
            getRowId={(key) => key.id}
            empty={
              <EmptyState icon={<KeyRound />} title="No API keys" action={<Button icon={<Plus />} onClick={() => setCreating(true)}>Create a key</Button>}>
                Create a key for each service that sends or reads events.
              </EmptyState>
            }
          />
        )}
      </div>
      <CreateKeyDialog open={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        open={revoking !== null}
        onClose={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        loading={revoke.isPending}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        confirmLabel="Revoke key"
        danger
      >
        Requests with this key start failing with 401 immediately. This cannot be undone.
      </ConfirmDialog>
    </div>
  );
}
