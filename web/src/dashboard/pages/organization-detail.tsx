import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { ExternalLink, Link2, Plus, Radio, ScrollText } from 'lucide-react';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { ApiError, api, errorMessage } from '../../lib/api';
import { currentMonth, formatConnections, formatDate, formatMoney, formatNumber, formatRelative, SYSTEM_LOG_NAME } from '../../lib/format';
import type { LogStream, Organization, Retention, Stats, Usage } from '../../lib/types';
import { Badge, StreamStateBadge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { ConfirmDialog } from '../../ui/dialog';
import { fillBuckets, VolumeChart } from '../../ui/chart';
import { CopyButton } from '../../ui/copy-button';
import { DataTable } from '../../ui/data-table';
import { Field } from '../../ui/field';
import { PageHeader } from '../../ui/page-header';
import { EmptyState, ErrorState, LoadingBlock, Skeleton } from '../../ui/states';
import { useToast } from '../../ui/toast';
import { destinationLabel, DestinationLogo } from '../../features/streams/destinations';
import { StreamSetup } from '../../features/streams/stream-setup';
import { useStreams } from '../hooks';

const RETENTION_CHOICES = [30, 90, 180, 365, 730, 1095, 2555];

function retentionLabel(days: number): string {
  if (days % 365 === 0) return `${days / 365} year${days === 365 ? '' : 's'}`;
  if (days % 30 === 0 && days < 365) return `${days / 30} month${days === 30 ? '' : 's'}`;
  return `${days} days`;
}

function RetentionCard({ organizationId }: { organizationId: string }) {
  const client = useQueryClient();
  const toast = useToast();
  const path = `/organizations/${encodeURIComponent(organizationId)}/audit_logs_retention`;
  const retention = useQuery({ queryKey: ['retention', organizationId], queryFn: () => api.get<Retention>(path) });
  const [value, setValue] = useState<string>('');
  useEffect(() => {
    if (retention.data) setValue(String(retention.data.retention_period_in_days));
  }, [retention.data]);
  const save = useMutation({
    mutationFn: () => api.put<Retention>(path, { retention_period_in_days: Number(value) }),
    onSuccess: (data) => {
      client.setQueryData(['retention', organizationId], data);
      toast.success(`Events are now kept for ${retentionLabel(data.retention_period_in_days)}`);
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  const current = retention.data?.retention_period_in_days;
  const choices = current !== undefined && !RETENTION_CHOICES.includes(current) ? [...RETENTION_CHOICES, current].sort((a, b) => a - b) : RETENTION_CHOICES;
  return (
    <section className="card" aria-labelledby="retention-title">
      <div className="card-header">
        <div>
          <h2 id="retention-title">Retention</h2>
          <p>Older events are purged; the hash chain stays verifiable.</p>
        </div>
      </div>
      <div className="card-body">
        {retention.isError ? (
          <ErrorState error={retention.error} onRetry={() => void retention.refetch()} />
        ) : (
          <div className="row" style={{ alignItems: 'flex-end' }}>
            <Field label="Keep events for" className="grow">
              <select className="select" value={value} disabled={retention.isLoading} onChange={(event) => setValue(event.target.value)}>
                {choices.map((days) => (
                  <option key={days} value={days}>
                    {retentionLabel(days)}
                  </option>
                ))}
              </select>
            </Field>
            <Button loading={save.isPending} disabled={current === undefined || Number(value) === current} onClick={() => save.mutate()}>
              Save
            </Button>
          </div>
        )}
      </div>
    </section>
  );
}

/** Legal hold: while on, the retention purge deletes none of the organization's events. */
function LegalHoldCard({ organization }: { organization: Organization }) {
  const client = useQueryClient();
  const toast = useToast();
  const hold = organization.legal_hold;
  const [reason, setReason] = useState('');
  const change = useMutation({
    mutationFn: (enabled: boolean) =>
      api.put<Organization>(`/organizations/${encodeURIComponent(organization.id)}/legal_hold`, {
        enabled,
        ...(enabled && reason.trim() ? { reason: reason.trim() } : {}),
      }),
    onSuccess: (data, enabled) => {
      client.setQueryData(['organization', organization.id], data);
      setReason('');
      toast.success(enabled ? 'Legal hold placed: no events will be purged' : 'Legal hold lifted: retention applies again');
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(true);
  };
  return (
    <section className="card" aria-labelledby="legal-hold-title">
      <div className="card-header">
        <div>
          <h2 id="legal-hold-title">Legal hold</h2>
          <p>While a hold is on, retention deletes nothing. Changes are recorded in the system log.</p>
        </div>
        {hold?.enabled ? <Badge tone="amber">On hold</Badge> : <Badge>Off</Badge>}
      </div>
      <div className="card-body stack-sm">
        {hold?.enabled ? (
          <>
            <p className="text-sm">
              {hold.reason ? (
                <>
                  Reason: <strong>{hold.reason}</strong>
                </>
              ) : (
                'No reason given.'
              )}
              {hold.updated_at && <span className="muted"> · since {formatDate(hold.updated_at)}</span>}
            </p>
            <div>
              <Button loading={change.isPending} onClick={() => change.mutate(false)}>
                Lift legal hold
              </Button>
            </div>
          </>
        ) : (
          <form className="row" style={{ alignItems: 'flex-end' }} onSubmit={submit}>
            <Field label="Reason" hint="A case or matter reference" optional className="grow">
              <input className="input" value={reason} maxLength={1000} onChange={(event) => setReason(event.target.value)} />
            </Field>
            <Button type="submit" loading={change.isPending}>
              Place legal hold
            </Button>
          </form>
        )}
      </div>
    </section>
  );
}

/**
 * Deleting a customer organization: its events, log streams and export files go; it stays on the bills of
 * the months it existed in. Refused while a legal hold is on (the server answers 409 legal_hold_active).
 * The operator types the name, so a slip of the mouse cannot destroy a customer's audit trail.
 */
function DeleteOrganizationCard({ organization }: { organization: Organization }) {
  const [, navigate] = useLocation();
  const client = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const held = organization.legal_hold?.enabled === true;
  const remove = useMutation({
    mutationFn: () => api.del(`/organizations/${encodeURIComponent(organization.id)}`),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['organizations'] });
      toast.success(`Deleted ${organization.name}`);
      navigate('/organizations');
    },
    onError: (error) => {
      setOpen(false);
      toast.error(error instanceof ApiError && error.code === 'legal_hold_active' ? 'This organization is on legal hold: lift the hold before deleting it.' : errorMessage(error));
    },
  });
  const confirm = () => {
    if (typed.trim() !== organization.name) {
      setMismatch(true);
      return;
    }
    remove.mutate();
  };
  return (
    <section className="card" aria-labelledby="delete-org-title">
      <div className="card-header">
        <div>
          <h2 id="delete-org-title">Delete organization</h2>
          <p>Deletes its events, log streams and export files. It stays on the bills of past months. This cannot be undone.</p>
        </div>
      </div>
      <div className="card-body stack-sm">
        {held && <p className="text-sm">On legal hold: lift the hold above before deleting it.</p>}
        <div>
          <Button
            variant="danger"
            disabled={held}
            onClick={() => {
              setTyped('');
              setMismatch(false);
              setOpen(true);
            }}
          >
            Delete organization…
          </Button>
        </div>
      </div>
      <ConfirmDialog open={open} onClose={() => setOpen(false)} onConfirm={confirm} title={`Delete ${organization.name}?`} confirmLabel="Delete organization" danger loading={remove.isPending}>
        <div className="stack-sm">
          <p>Every event of this organization, its log streams and its export files will be deleted.</p>
          <Field label="Type the organization's name to confirm" error={mismatch ? 'The name does not match.' : undefined}>
            <input
              className="input"
              value={typed}
              autoComplete="off"
              onChange={(event) => {
                setTyped(event.target.value);
                setMismatch(false);
              }}
            />
          </Field>
        </div>
      </ConfirmDialog>
    </section>
  );
}

function PortalLinkCard({ organizationId }: { organizationId: string }) {
  const [intent, setIntent] = useState<'audit_logs' | 'log_streams'>('audit_logs');
  const [embed, setEmbed] = useState(false);
  const [returnUrl, setReturnUrl] = useState('');
  const [now, setNow] = useState(Date.now());
  const generate = useMutation({
    mutationFn: () =>
      api.post<{ link: string }>('/portal/generate_link', {
        organization: organizationId,
        intent,
        ...(returnUrl.trim() ? { return_url: returnUrl.trim() } : {}),
        ...(intent === 'audit_logs' && embed ? { embed: true } : {}),
      }),
    onSuccess: () => setNow(Date.now()),
  });
  const [issuedAt, setIssuedAt] = useState(0);
  useEffect(() => {
    if (generate.data) setIssuedAt(Date.now());
  }, [generate.data]);
  useEffect(() => {
    if (!generate.data) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [generate.data]);
  const remaining = Math.max(0, 300 - Math.floor((now - issuedAt) / 1000));
  // Shown at the field; the generic "Validation failed." banner would only repeat it vaguely.
  const returnUrlError = generate.error instanceof ApiError ? generate.error.fieldMessage('return_url') : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    generate.mutate();
  };
  return (
    <section className="card" aria-labelledby="portal-title">
      <div className="card-header">
        <div>
          <h2 id="portal-title">Admin Portal link</h2>
          <p>Let this customer’s IT admin view their audit logs or connect their SIEM.</p>
        </div>
      </div>
      <form className="card-body form-stack" onSubmit={submit}>
        <div className="form-grid">
          <Field label="Portal">
            <select className="select" value={intent} onChange={(event) => setIntent(event.target.value as typeof intent)}>
              <option value="audit_logs">Audit logs</option>
              <option value="log_streams">Log streams (SIEM setup)</option>
            </select>
          </Field>
          <Field label="Return URL" optional error={returnUrlError}>
            <input className="input" type="url" placeholder="https://app.example.com/settings" value={returnUrl} onChange={(event) => setReturnUrl(event.target.value)} />
          </Field>
        </div>
        {intent === 'audit_logs' && (
          <label className="checkbox">
            <input type="checkbox" checked={embed} onChange={(event) => setEmbed(event.target.checked)} />
            Embeddable viewer (for an iframe in your app)
          </label>
        )}
        <div className="row-between">
          <span className="text-sm muted">Links are single-use and expire after 5 minutes.</span>
          <Button type="submit" variant="primary" icon={<Link2 />} loading={generate.isPending}>
            Generate link
          </Button>
        </div>
        {generate.isError && returnUrlError === undefined && (
          <div className="callout callout-red" role="alert">
            {errorMessage(generate.error)}
          </div>
        )}
        {generate.data && (
          <div className="stack-sm">
            <div className="secret-box" data-testid="portal-link">
              <code>{generate.data.link}</code>
              <CopyButton value={generate.data.link} label="Copy link" variant="default" showLabel />
              <a className="btn btn-sm" href={generate.data.link} target="_blank" rel="noreferrer">
                <ExternalLink aria-hidden="true" /> Open
              </a>
            </div>
            <span className="text-sm muted" aria-live="polite">
              {remaining > 0 ? `Expires in ${Math.floor(remaining / 60)}:${String(remaining % 60).padStart(2, '0')}` : 'Expired — generate a new link.'}
            </span>
          </div>
        )}
      </form>
    </section>
  );
}

function UsageCard({ organizationId }: { organizationId: string }) {
  const month = currentMonth();
  const usage = useQuery({ queryKey: ['usage', month, organizationId], queryFn: () => api.get<Usage>('/usage', { month, organization_id: organizationId }) });
  const bill = usage.data?.organizations.find((o) => o.organization_id === organizationId);
  const currency = usage.data?.prices.currency ?? 'USD';
  return (
    <section className="card" aria-labelledby="usage-title">
      <div className="card-header">
        <div>
          <h2 id="usage-title">Usage this month</h2>
          <p>Month to date, {month}</p>
        </div>
        <Link href="/usage" className="text-sm">
          All usage
        </Link>
      </div>
      <div className="card-body">
        {usage.isLoading ? (
          <LoadingBlock height={100} />
        ) : usage.isError ? (
          <ErrorState error={usage.error} onRetry={() => void usage.refetch()} title="Usage is unavailable" />
        ) : bill ? (
          <dl className="dl">
            <dt>Events stored</dt>
            <dd className="tabular">{formatNumber(bill.events_stored)}</dd>
            <dt>Events ingested</dt>
            <dd className="tabular">{formatNumber(bill.events_ingested)}</dd>
            <dt>SIEM connections</dt>
            <dd className="tabular">
              <span title={`${bill.siem_connections} connection-months (pro rata)`}>{formatConnections(bill.siem_connections)}</span> · {formatMoney(bill.siem_cost, currency)}
            </dd>
            <dt>Retention</dt>
            <dd className="tabular">
              {bill.event_units} × 1M events · {formatMoney(bill.retention_cost, currency)}
            </dd>
            <dt>Total</dt>
            <dd className="tabular" style={{ fontWeight: 600 }}>
              {formatMoney(bill.total_cost, currency)}
            </dd>
          </dl>
        ) : (
          <p className="muted text-sm">No usage recorded this month.</p>
        )}
      </div>
    </section>
  );
}

/** In place of the portal link for Verity's own organization: what it holds, and that it is not billed. */
function SystemLogAbout() {
  return (
    <section className="card" aria-labelledby="system-about">
      <div className="card-header">
        <div>
          <h2 id="system-about">About this log</h2>
          <p>Verity’s own audit trail, hash-chained like every customer’s.</p>
        </div>
      </div>
      <div className="card-body stack-sm text-sm text-secondary">
        <p>
          Administrative actions are recorded here: operator sign-ins, failed sign-ins and sign-outs, Admin Portal links created and opened, API keys created and
          revoked, organization, retention and legal-hold changes, log stream changes, action schema versions created, and export downloads.
        </p>
        <p>It is not a customer: it has no Admin Portal, is left out of customer counts, charts and searches, is never billed, and cannot be deleted.</p>
      </div>
    </section>
  );
}

export function OrganizationDetailPage({ id }: { id: string }) {
  const [, navigate] = useLocation();
  // An operator may set up a stream themselves: the only way for the system log (API keys get 403 there),
  // and for a customer one beside the Admin Portal and POST /log_streams.
  const [addingStream, setAddingStream] = useState(false);
  useEffect(() => setAddingStream(false), [id]);
  const org = useQuery({ queryKey: ['organization', id], queryFn: () => api.get<Organization>(`/organizations/${encodeURIComponent(id)}`) });
  const streams = useStreams(id);
  const stats = useQuery({
    queryKey: ['stats', 'org', id],
    queryFn: () => {
      const end = new Date();
      end.setUTCHours(24, 0, 0, 0);
      return api.get<Stats>('/audit_logs/stats', { organization_id: id, interval: 'day', range_start: new Date(end.getTime() - 30 * 86_400_000).toISOString(), range_end: end.toISOString() });
    },
  });
  // Memoised: the chart redraws whenever its points change identity.
  const volume = useMemo(() => (stats.data ? fillBuckets(stats.data.volume, stats.data.range_start, stats.data.range_end, 'day') : []), [stats.data]);
  const columns = useMemo<ColumnDef<LogStream, unknown>[]>(
    () => [
      {
        id: 'dest',
        header: 'Destination',
        cell: ({ row }) => (
          <div className="actor-cell">
            <DestinationLogo type={row.original.type} small />
            <span className="truncate" title={row.original.name ?? undefined}>
              {row.original.name ?? destinationLabel(row.original.type)}
            </span>
          </div>
        ),
      },
      { id: 'state', header: 'State', meta: { width: 104 }, cell: ({ row }) => <StreamStateBadge stream={row.original} /> },
      { id: 'sync', header: 'Last synced', meta: { width: 116 }, cell: ({ row }) => <span className="muted">{formatRelative(row.original.last_synced_at)}</span> },
    ],
    [],
  );

  if (org.isError) {
    return (
      <div className="page">
        {org.error instanceof ApiError && org.error.status === 404 ? (
          <ErrorState error={org.error} title="Organization not found" />
        ) : (
          <ErrorState error={org.error} title="Could not load organization" onRetry={() => void org.refetch()} />
        )}
      </div>
    );
  }
  const data = org.data;
  const system = data?.system === true;
  return (
    <div className="page">
      <PageHeader
        breadcrumb={
          <>
            <Link href="/organizations">Organizations</Link> <span aria-hidden="true">/</span>
          </>
        }
        title={
          data ? (
            system ? (
              <span className="row" style={{ gap: 10 }}>
                {SYSTEM_LOG_NAME} <Badge tone="accent">System</Badge>
              </span>
            ) : (
              data.name
            )
          ) : (
            <Skeleton width={200} height={24} />
          )
        }
        description={
          data && (
            <span className="org-meta">
              <span className="copy-row">
                <code>{data.id}</code>
                <CopyButton value={data.id} label="Copy organization ID" />
              </span>
              {data.external_id && (
                <span className="muted text-sm">
                  external id <code>{data.external_id}</code>
                </span>
              )}
              <span className="muted text-sm nowrap">created {formatDate(data.created_at)}</span>
            </span>
          )
        }
        actions={
          <Button icon={<ScrollText />} onClick={() => navigate(`/events?org=${encodeURIComponent(id)}`)}>
            View events
          </Button>
        }
      />
      <section className="card" aria-labelledby="org-volume">
        <div className="card-header">
          <div>
            <h2 id="org-volume">Events, last 30 days</h2>
            <p>{stats.data ? `${formatNumber(stats.data.total)} events` : ' '}</p>
          </div>
        </div>
        <div className="card-body">
          {stats.isLoading ? (
            <LoadingBlock height={180} />
          ) : stats.isError ? (
            <ErrorState error={stats.error} onRetry={() => void stats.refetch()} />
          ) : stats.data && stats.data.total > 0 ? (
            <VolumeChart points={volume} label="Events per day" height={180} />
          ) : (
            <EmptyState icon={<ScrollText />} title="No events in the last 30 days" />
          )}
        </div>
      </section>
      {addingStream ? (
        <StreamSetup organizationId={id} onCancel={() => setAddingStream(false)} onDone={(stream) => navigate(`/log-streams/${stream.id}`)} />
      ) : (
        <div className="grid grid-2" style={{ alignItems: 'start' }}>
          <div className="stack" style={{ gap: 16 }}>
            {system ? <SystemLogAbout /> : <PortalLinkCard organizationId={id} />}
            <section className="card" aria-labelledby="org-streams">
              <div className="card-header">
                <div>
                  <h2 id="org-streams">Log streams</h2>
                  <p>
                    {system
                      ? 'Where Verity’s own audit trail is delivered. Only operators can add or change these; API keys get 403.'
                      : 'Set up by the customer in the Admin Portal, by your application with POST /log_streams, or by you here.'}
                  </p>
                </div>
                <Button size="sm" icon={<Plus />} onClick={() => setAddingStream(true)}>
                  Add log stream
                </Button>
              </div>
              {streams.isError ? (
                <ErrorState error={streams.error} onRetry={() => void streams.refetch()} />
              ) : (
                <DataTable
                  caption="Log streams"
                  fixed
                  data={streams.data?.data}
                  loading={streams.isLoading}
                  columns={columns}
                  onRowClick={(stream) => navigate(`/log-streams/${stream.id}`)}
                  rowLabel={(stream) => `Open ${stream.name ?? stream.type} stream`}
                  empty={
                    system ? (
                      <EmptyState icon={<Radio />} title="No log streams">
                        Send Verity’s own audit trail to your SIEM with <b>Add log stream</b>. Only an operator signed in here can: an API key, even an admin one, gets 403.
                      </EmptyState>
                    ) : (
                      <EmptyState icon={<Radio />} title="No log streams">
                        Generate a “Log streams” portal link so the customer can connect their SIEM, or add one yourself with <b>Add log stream</b>.
                      </EmptyState>
                    )
                  }
                />
              )}
            </section>
          </div>
          <div className="stack" style={{ gap: 16 }}>
            <RetentionCard organizationId={id} />
            {data && <LegalHoldCard organization={data} />}
            {!system && <UsageCard organizationId={id} />}
            {data && !system && <DeleteOrganizationCard organization={data} />}
          </div>
        </div>
      )}
    </div>
  );
}

