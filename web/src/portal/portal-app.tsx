import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, FileDown, Plus, ScrollText } from 'lucide-react';
import { useEffect, useState } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { ApiError, api, setCsrfToken, setSessionKind, setUnauthorizedHandler } from '../lib/api';
import { formatRelative } from '../lib/format';
import type { List, LogStream, PortalSession, PortalSessionProbe } from '../lib/types';
import { StreamStateBadge } from '../ui/badge';
import { Button } from '../ui/button';
import { PageHeader } from '../ui/page-header';
import { EmptyState, ErrorState, LoadingBlock } from '../ui/states';
import { EventsExplorer } from '../features/events/events-explorer';
import { ExportButton } from '../features/events/export-button';
import { ExportsList } from '../features/exports/exports-list';
import { destinationLabel, DestinationLogo } from '../features/streams/destinations';
import { StreamSetup } from '../features/streams/stream-setup';
import { StreamStatus } from '../features/streams/stream-status';
import { BrandHeader, SessionEnded } from './portal-shell';

/** The portal session, or how an ended one looked (its brand), from the probe that always answers 200. */
export function usePortalSession() {
  return useQuery({
    queryKey: ['portal-session'],
    queryFn: () => api.get<PortalSessionProbe>('/portal/api/session'),
    staleTime: Infinity,
    retry: false,
  });
}

export function PortalApp() {
  setSessionKind('portal');
  const client = useQueryClient();
  const session = usePortalSession();
  useEffect(() => {
    // A request answering 401 means the session ended meanwhile: show the ended page, keeping the brand.
    setUnauthorizedHandler(() =>
      client.setQueryData<PortalSessionProbe>(['portal-session'], (previous) => ({ signed_in: false, brand: previous?.brand ?? { name: 'Admin Portal', logo_url: null } })),
    );
    return () => setUnauthorizedHandler(null);
  }, [client]);
  useEffect(() => {
    const probe = session.data;
    setCsrfToken(probe?.signed_in ? probe.csrf_token : null);
    if (probe?.signed_in) document.title = `${probe.brand.name} · ${probe.intent === 'audit_logs' ? 'Audit logs' : 'Log streams'}`;
    else if (probe) document.title = `${probe.brand.name} · Session ended`;
  }, [session.data]);

  if (session.isLoading) {
    return (
      <div className="auth">
        <LoadingBlock label="Opening the portal…" />
      </div>
    );
  }
  if (session.isError) {
    return (
      <div className="auth">
        <div className="card auth-card">
          <ErrorState error={session.error} onRetry={() => void session.refetch()} title="The portal is not reachable" />
        </div>
      </div>
    );
  }
  const probe = session.data;
  if (!probe) return null;
  if (!probe.signed_in) return <SessionEnded brand={probe.brand} />;
  const data: PortalSession = probe;
  const home = data.intent === 'audit_logs' ? '/' : '/log-streams';
  return (
    <Router base="/portal">
      <BrandHeader session={data} />
      <main id="main">
        <Switch>
          {data.intent === 'audit_logs' && (
            <Route path="/">
              <AuditLogsPage session={data} />
            </Route>
          )}
          {data.intent === 'audit_logs' && (
            <Route path="/exports">
              <PortalExportsPage session={data} />
            </Route>
          )}
          {data.intent === 'log_streams' && (
            <Route path="/log-streams">
              <StreamsHome session={data} />
            </Route>
          )}
          {data.intent === 'log_streams' && (
            <Route path="/log-streams/new">
              <NewStreamPage session={data} />
            </Route>
          )}
          {data.intent === 'log_streams' && <Route path="/log-streams/:id">{(params) => <PortalStreamPage id={params.id} session={data} />}</Route>}
          <Route>
            <Redirect to={home} replace />
          </Route>
        </Switch>
      </main>
    </Router>
  );
}

/** Events | Exports: the audit_logs portal's two pages, as links (each has its own address). */
function AuditLogsTabs() {
  const [location] = useLocation();
  return (
    <nav className="tabs page-tabs" aria-label="Audit log sections">
      <Link href="/" className="tab" aria-current={location === '/' ? 'page' : undefined}>
        <ScrollText aria-hidden="true" width={15} height={15} /> Events
      </Link>
      <Link href="/exports" className="tab" aria-current={location === '/exports' ? 'page' : undefined}>
        <FileDown aria-hidden="true" width={15} height={15} /> Exports
      </Link>
    </nav>
  );
}

function AuditLogsPage({ session }: { session: PortalSession }) {
  return (
    <div className="page page-wide" style={{ maxWidth: 1320 }}>
      <PageHeader title="Audit logs" description={`Everything that happened in ${session.organization.name}, who did it and when.`} />
      <AuditLogsTabs />
      <EventsExplorer mode="portal" toolbarExtra={(filters) => <ExportButton organizationId={session.organization.id} filters={filters} exportsHref="/exports" />} />
    </div>
  );
}

function PortalExportsPage({ session }: { session: PortalSession }) {
  return (
    <div className="page page-wide" style={{ maxWidth: 1320 }}>
      <PageHeader title="Audit logs" description={`Everything that happened in ${session.organization.name}, who did it and when.`} />
      <AuditLogsTabs />
      <div className="card">
        <ExportsList
          organizationId={session.organization.id}
          empty={
            <EmptyState
              icon={<FileDown />}
              title="No exports yet"
              action={
                <Link href="/" className="btn">
                  <ScrollText aria-hidden="true" /> Go to events
                </Link>
              }
            >
              Filter the events, then choose “Export” (CSV or signed NDJSON). Exports appear here with their progress and can be downloaded until they expire.
            </EmptyState>
          }
        />
      </div>
    </div>
  );
}

function StreamsHome({ session }: { session: PortalSession }) {
  const [, navigate] = useLocation();
  const streams = useQuery({
    queryKey: ['streams', session.organization.id],
    queryFn: () => api.get<List<LogStream>>('/log_streams', { limit: 100 }),
    refetchInterval: 10_000,
  });
  if (streams.isLoading) return <LoadingBlock />;
  if (streams.isError) {
    return (
      <div className="page">
        <ErrorState error={streams.error} onRetry={() => void streams.refetch()} title="Could not load your log streams" />
      </div>
    );
  }
  const list = streams.data?.data ?? [];
  // No stream yet: straight to setup, on its own route so that saving the first stream does not swap the page.
  if (list.length === 0) return <Redirect to="/log-streams/new" replace />;
  return (
    <div className="page">
      <PageHeader
        title="Log streams"
        description={`Where ${session.organization.name}’s audit log events are delivered.`}
        actions={
          <Button variant="primary" icon={<Plus />} onClick={() => navigate('/log-streams/new')}>
            Add destination
          </Button>
        }
      />
      <div className="stack" style={{ gap: 10 }}>
        {list.map((stream) => (
          <Link key={stream.id} href={`/log-streams/${stream.id}`} className="card dest-card" style={{ textDecoration: 'none', color: 'inherit' }}>
            <DestinationLogo type={stream.type} />
            <span className="cell-stack" style={{ flex: 1 }}>
              <span className="name">{stream.name ?? destinationLabel(stream.type)}</span>
              <span className="desc">
                {destinationLabel(stream.type)} · last synced {formatRelative(stream.last_synced_at)}
              </span>
            </span>
            <StreamStateBadge stream={stream} />
          </Link>
        ))}
      </div>
    </div>
  );
}

function NewStreamPage({ session }: { session: PortalSession }) {
  const [, navigate] = useLocation();
  const client = useQueryClient();
  // Read once: whether this organization had streams when setup began decides the framing.
  const [first] = useState(() => (client.getQueryData<List<LogStream>>(['streams', session.organization.id])?.data.length ?? 0) === 0);
  return (
    <div className="page">
      {first ? (
        <PageHeader title="Stream audit logs to your SIEM" description={`Send ${session.organization.name}’s audit log events to the tools your security team already uses.`} />
      ) : (
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <Link href="/log-streams" className="row" style={{ gap: 4 }}>
            <ArrowLeft width={14} height={14} aria-hidden="true" /> All log streams
          </Link>
        </nav>
      )}
      <StreamSetup
        organizationId={session.organization.id}
        // The vendor's app asked to have the admin back once a stream is set up (generate_link's success_url).
        onDone={(stream) => (session.success_url ? window.location.assign(session.success_url) : navigate(`/log-streams/${stream.id}`))}
        doneLabel={session.success_url ? `Done — back to ${session.brand.name}` : undefined}
        onCancel={first ? undefined : () => navigate('/log-streams')}
      />
    </div>
  );
}

function PortalStreamPage({ id, session }: { id: string; session: PortalSession }) {
  const [, navigate] = useLocation();
  const [editing, setEditing] = useState(false);
  const stream = useQuery({
    queryKey: ['stream', id],
    queryFn: () => api.get<LogStream>(`/log_streams/${encodeURIComponent(id)}`),
    // A stream that is not found stays not found: stop polling it.
    refetchInterval: (query) => (query.state.error instanceof ApiError && query.state.error.status === 404 ? false : 5000),
  });
  return (
    <div className="page">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link href="/log-streams" className="row" style={{ gap: 4 }}>
          <ArrowLeft width={14} height={14} aria-hidden="true" /> All log streams
        </Link>
      </nav>
      {stream.isLoading ? (
        <LoadingBlock />
      ) : stream.isError ? (
        stream.error instanceof ApiError && stream.error.status === 404 ? (
          // Nothing to retry: the stream is gone (or was never this organization's).
          <ErrorState error={stream.error} title="This log stream does not exist" />
        ) : (
          <ErrorState error={stream.error} onRetry={() => void stream.refetch()} title="Could not load this log stream" />
        )
      ) : stream.data && editing ? (
        <StreamSetup
          organizationId={session.organization.id}
          existing={stream.data}
          onCancel={() => setEditing(false)}
          onDone={() => {
            setEditing(false);
            void stream.refetch();
          }}
        />
      ) : (
        stream.data && <StreamStatus stream={stream.data} onEdit={() => setEditing(true)} onDeleted={() => navigate('/log-streams')} />
      )}
    </div>
  );
}
