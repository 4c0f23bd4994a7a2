import { useMutation, useQuery, useQueryClient, keepPreviousData } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Building2, ChevronLeft, ChevronRight, Plus, ScrollText, ShieldCheck } from 'lucide-react';
import { useMemo, useState, type FormEvent } from 'react';
import { useLocation } from 'wouter';
import { ApiError, api, errorMessage } from '../../lib/api';
import { formatDate, initials, SYSTEM_LOG_NAME } from '../../lib/format';
import type { List, Organization } from '../../lib/types';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { DataTable } from '../../ui/data-table';
import { Dialog } from '../../ui/dialog';
import { Field } from '../../ui/field';
import { PageHeader } from '../../ui/page-header';
import { EmptyState, ErrorState } from '../../ui/states';
import { useToast } from '../../ui/toast';
import { useOrgDirectory } from '../hooks';

/** The domains typed, split on commas and whitespace. */
function splitDomains(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The API's errors on domain_data.N.domain (or domains.N), as one message naming each refused domain. */
function domainErrors(error: ApiError, sent: string[]): string | undefined {
  const refused: string[] = [];
  let other: string | undefined;
  for (const item of error.errors) {
    const match = /^(?:domain_data|domains)(?:\.(\d+))?/.exec(item.field ?? '');
    if (match === null) continue;
    const domain = match[1] === undefined ? undefined : sent[Number(match[1])];
    if (domain === undefined) other ??= item.message ?? 'is invalid';
    else if (!refused.includes(domain)) refused.push(domain);
  }
  if (refused.length > 0) {
    const names = refused.map((domain) => `“${domain}”`).join(', ');
    return `${names} ${refused.length === 1 ? 'is not a domain name' : 'are not domain names'} (such as acme.com).`;
  }
  return other === undefined ? undefined : `Domains: ${other}`;
}

export function CreateOrganizationDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [externalId, setExternalId] = useState('');
  const [domains, setDomains] = useState('');
  const domainList = splitDomains(domains);
  const create = useMutation({
    mutationFn: () =>
      api.post<Organization>('/organizations', {
        name: name.trim(),
        ...(externalId.trim() ? { external_id: externalId.trim() } : {}),
        ...(domainList.length > 0 ? { domain_data: domainList.map((domain) => ({ domain, state: 'verified' })) } : {}),
      }),
    onSuccess: (org) => {
      void client.invalidateQueries({ queryKey: ['organizations'] });
      toast.success(`${org.name} created`);
      onClose();
      setName('');
      setExternalId('');
      setDomains('');
      navigate(`/organizations/${org.id}`);
    },
  });
  const fieldError = (field: string) => (create.error instanceof ApiError ? create.error.fieldMessage(field) : undefined);
  // The list sent is the one the errors index (domain_data.N.domain): name the domains they are about.
  const [sentDomains, setSentDomains] = useState<string[]>([]);
  const domainsError = create.error instanceof ApiError ? domainErrors(create.error, sentDomains) : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSentDomains(domainList);
    create.mutate();
  };
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Create organization"
      description="An organization is one of your customers. Its events are kept and chained separately."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="create-org" loading={create.isPending} disabled={name.trim() === ''}>
            Create organization
          </Button>
        </>
      }
    >
      <form id="create-org" className="form-stack" onSubmit={submit}>
        {create.error && (fieldError('name') ?? fieldError('external_id') ?? domainsError) === undefined && (
          <div className="callout callout-red" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <Field label="Name" hint="Up to 256 characters." error={fieldError('name')}>
          <input className="input" name="name" required autoFocus maxLength={256} placeholder="Acme Inc." value={name} onChange={(event) => setName(event.target.value)} />
        </Field>
        <Field label="External ID" optional hint="Your own id for this customer, to look it up later." error={fieldError('external_id')}>
          <input className="input mono" name="external_id" maxLength={256} placeholder="cus_123" value={externalId} onChange={(event) => setExternalId(event.target.value)} />
        </Field>
        <Field label="Domains" optional hint="Separated by commas or spaces, e.g. acme.com, acme.io" error={domainsError}>
          <input className="input" name="domains" placeholder="acme.com" value={domains} onChange={(event) => setDomains(event.target.value)} />
        </Field>
      </form>
    </Dialog>
  );
}

export function OrganizationsPage() {
  const [, navigate] = useLocation();
  const { system } = useOrgDirectory();
  const [creating, setCreating] = useState(false);
  const [cursor, setCursor] = useState<{ after?: string; before?: string }>({});
  const [filter, setFilter] = useState('');
  const orgs = useQuery({
    queryKey: ['organizations', 'page', cursor],
    queryFn: () => api.get<List<Organization>>('/organizations', { limit: 50, ...cursor }),
    placeholderData: keepPreviousData,
  });
  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const data = orgs.data?.data ?? [];
    return needle === '' ? data : data.filter((org) => [org.name, org.id, org.external_id ?? '', ...org.domains.map((d) => d.domain)].some((v) => v.toLowerCase().includes(needle)));
  }, [orgs.data, filter]);

  const columns = useMemo<ColumnDef<Organization, unknown>[]>(
    () => [
      {
        id: 'name',
        header: 'Organization',
        accessorFn: (org) => org.name,
        cell: ({ row }) => (
          <div className="actor-cell">
            <span className="avatar" aria-hidden="true" style={{ borderRadius: 6 }}>
              {initials(row.original.name)}
            </span>
            <div className="cell-stack">
              <span style={{ fontWeight: 500 }}>{row.original.name}</span>
              <span className="sub mono">{row.original.id}</span>
            </div>
          </div>
        ),
      },
      {
        id: 'domains',
        header: 'Domains',
        enableSorting: false,
        cell: ({ row }) =>
          row.original.domains.length === 0 ? (
            <span className="muted">—</span>
          ) : (
            <div className="row" style={{ gap: 4 }}>
              {row.original.domains.slice(0, 2).map((d) => (
                <Badge key={d.id}>{d.domain}</Badge>
              ))}
              {row.original.domains.length > 2 && <span className="muted text-sm">+{row.original.domains.length - 2}</span>}
            </div>
          ),
      },
      { id: 'external', header: 'External ID', accessorFn: (org) => org.external_id ?? '', cell: ({ row }) => (row.original.external_id ? <code>{row.original.external_id}</code> : <span className="muted">—</span>) },
      { id: 'created', header: 'Created', accessorFn: (org) => org.created_at, cell: ({ row }) => <span className="muted">{formatDate(row.original.created_at)}</span> },
    ],
    [],
  );

  const meta = orgs.data?.list_metadata;
  return (
    <div className="page">
      <PageHeader
        title="Organizations"
        description="Your customers. Each has its own tamper-evident log, retention, streams and portal."
        actions={
          <Button variant="primary" icon={<Plus />} onClick={() => setCreating(true)}>
            New organization
          </Button>
        }
      />
      <div className="toolbar">
        <input className="input" style={{ maxWidth: 320 }} type="search" aria-label="Filter organizations" placeholder="Filter by name, id or domain…" value={filter} onChange={(event) => setFilter(event.target.value)} />
      </div>
      <div className="card">
        {orgs.isError ? (
          <ErrorState error={orgs.error} onRetry={() => void orgs.refetch()} title="Could not load organizations" />
        ) : (
          <DataTable
            caption="Organizations"
            data={orgs.data ? rows : undefined}
            columns={columns}
            loading={orgs.isLoading}
            sortable
            getRowId={(org) => org.id}
            onRowClick={(org) => navigate(`/organizations/${org.id}`)}
            rowLabel={(org) => `Open ${org.name}`}
            empty={
              filter ? (
                <EmptyState icon={<Building2 />} title="No organization matches">
                  Nothing on this page matches “{filter}”.
                </EmptyState>
              ) : (
                <EmptyState
                  icon={<Building2 />}
                  title="No organizations yet"
                  action={
                    <Button variant="primary" icon={<Plus />} onClick={() => setCreating(true)}>
                      Create your first organization
                    </Button>
                  }
                >
                  Create one for each customer, or let your backend create them with <code>POST /organizations</code>.
                </EmptyState>
              )
            }
            footer={
              (meta?.after || meta?.before) && (
                <div className="table-foot">
                  <span>{rows.length} organizations</span>
                  <div className="pager">
                    <Button size="sm" icon={<ChevronLeft />} disabled={!meta.before} onClick={() => meta.before && setCursor({ before: meta.before })}>
                      Previous
                    </Button>
                    <Button size="sm" disabled={!meta.after} onClick={() => meta.after && setCursor({ after: meta.after })}>
                      Next <ChevronRight aria-hidden="true" />
                    </Button>
                  </div>
                </div>
              )
            }
          />
        )}
      </div>
      {system && <SystemLogCard organization={system} />}
      <CreateOrganizationDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

/** Verity's own system organization, shown apart: it is not a customer and is never billed. */
function SystemLogCard({ organization }: { organization: Organization }) {
  const [, navigate] = useLocation();
  return (
    <section className="card system-log" aria-labelledby="system-log-title" data-testid="system-log">
      <div className="card-body row-between" style={{ gap: 16, flexWrap: 'wrap' }}>
        <div className="row" style={{ gap: 12, alignItems: 'flex-start', minWidth: 0, flex: '1 1 420px' }}>
          <span className="avatar system-avatar" aria-hidden="true">
            <ShieldCheck />
          </span>
          <div className="cell-stack">
            <h2 id="system-log-title" className="row" style={{ gap: 8, fontSize: 14 }}>
              {SYSTEM_LOG_NAME} <Badge tone="accent">System</Badge>
            </h2>
            <span className="sub" style={{ whiteSpace: 'normal' }}>
              Verity’s own audit trail: operator sign-ins, Admin Portal links and sessions, legal holds, export downloads. Not a customer and never billed.
            </span>
          </div>
        </div>
        <div className="row" style={{ gap: 8 }}>
          <Button icon={<ScrollText />} onClick={() => navigate(`/events?org=${encodeURIComponent(organization.id)}`)}>
            View events
          </Button>
          <Button variant="ghost" onClick={() => navigate(`/organizations/${encodeURIComponent(organization.id)}`)}>
            Details
          </Button>
        </div>
      </div>
    </section>
  );
}
