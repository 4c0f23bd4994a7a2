import { useQuery } from '@tanstack/react-query';
import { Activity, AlertTriangle, BarChart3, Building2, CheckCircle2, Radio } from 'lucide-react';
import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import { StreamStateBadge } from '../../ui/badge';
import { api } from '../../lib/api';
import { formatNumber, formatRelative } from '../../lib/format';
import type { Stats } from '../../lib/types';
import { BarList, fillBuckets, VolumeChart } from '../../ui/chart';
import { PageHeader } from '../../ui/page-header';
import { EmptyState, ErrorState, LoadingBlock, Skeleton } from '../../ui/states';
import { destinationLabel, DestinationLogo } from '../../features/streams/destinations';
import { useOrganizations, useOrgDirectory, useOrgNames, useStreams } from '../hooks';
import { OrganizationOptions } from '../../ui/organization-options';

type Window = '24h' | '7d' | '30d' | '90d';
const WINDOWS: Record<Window, { label: string; ms: number; interval: 'hour' | 'day' }> = {
  '24h': { label: '24h', ms: 86_400_000, interval: 'hour' },
  '7d': { label: '7d', ms: 7 * 86_400_000, interval: 'day' },
  '30d': { label: '30d', ms: 30 * 86_400_000, interval: 'day' },
  '90d': { label: '90d', ms: 90 * 86_400_000, interval: 'day' },
};

function startOf(interval: 'hour' | 'day', time: number): Date {
  const date = new Date(time);
  if (interval === 'day') date.setUTCHours(0, 0, 0, 0);
  else date.setUTCMinutes(0, 0, 0);
  return date;
}

export function OverviewPage() {
  const [span, setSpan] = useState<Window>('30d');
  const [organizationId, setOrganizationId] = useState('');
  const spec = WINDOWS[span];
  const orgs = useOrganizations();
  const directory = useOrgDirectory();
  const names = useOrgNames();
  const stats = useQuery({
    queryKey: ["stats", span, organizationId],
    queryFn: () => {
      const end = startOf(spec.interval, Date.now() + (spec.interval === 'day' ? 86_400_000 : 3_600_000));
      const start = new Date(end.getTime() - spec.ms);
      return api.get<Stats>('/audit_logs/stats', {
        interval: spec.interval,
        range_start: start.toISOString(),
        range_end: end.toISOString(),
        organization_id: organizationId || undefined,
      });
    },
    refetchInterval: 60_000,
  });
  const streams = useStreams();
  const attention = (streams.data?.data ?? []).filter((s) => !s.paused && (s.state === 'error' || s.state === 'invalid'));
  const activeStreams = (streams.data?.data ?? []).filter((s) => !s.paused && s.state === 'active').length;
  const data = stats.data;
  const peak = Math.max(0, ...(data?.volume ?? []).map((v) => v.count));
  // Memoised: the chart redraws whenever its points change identity.
  const volume = useMemo(() => (data ? fillBuckets(data.volume, data.range_start, data.range_end, data.interval) : []), [data]);

  return (
    <div className="page">
      <PageHeader
        title="Overview"
        description="Event volume and delivery health across your customers."
        actions={
          <>
            <select className="select" style={{ width: 200 }} aria-label="Organization" value={organizationId} onChange={(event) => setOrganizationId(event.target.value)}>
              <option value="">All customers</option>
              <OrganizationOptions organizations={orgs.data?.data ?? []} />
            </select>
            <div className="segmented" role="group" aria-label="Time window">
              {(Object.keys(WINDOWS) as Window[]).map((key) => (
                <button key={key} type="button" aria-pressed={span === key} onClick={() => setSpan(key)}>
                  {WINDOWS[key].label}
                </button>
              ))}
            </div>
          </>
        }
      />

      <div className="grid grid-4">
        <div className="card stat">
          <div className="stat-label">
            <Activity aria-hidden="true" /> Events
          </div>
          <div className="stat-value">{data ? formatNumber(data.total) : <Skeleton width={80} height={26} />}</div>
          <div className="stat-sub">in the last {spec.label}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">
            <BarChart3 aria-hidden="true" /> Peak {spec.interval}
          </div>
          <div className="stat-value">{data ? formatNumber(peak) : <Skeleton width={60} height={26} />}</div>
          <div className="stat-sub">events in one {spec.interval}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">
            <Building2 aria-hidden="true" /> Organizations
          </div>
          <div className="stat-value">{directory.loaded ? formatNumber(directory.customers.length) + (directory.more ? '+' : '') : <Skeleton width={40} height={26} />}</div>
          <div className="stat-sub">customers</div>
        </div>
        <div className="card stat">
          <div className="stat-label">
            <Radio aria-hidden="true" /> Log streams
          </div>
          <div className={`stat-value ${attention.length > 0 ? 'danger' : ''}`}>{streams.data ? `${activeStreams}` : <Skeleton width={40} height={26} />}</div>
          <div className="stat-sub">
            {streams.data && streams.data.data.length === 0 ? 'none set up yet' : attention.length > 0 ? `active · ${attention.length} need attention` : 'active, all healthy'}
          </div>
        </div>
      </div>

      <section className="card" aria-labelledby="volume-title">
        <div className="card-header">
          <div>
            <h2 id="volume-title">Event volume</h2>
            <p>{organizationId ? names.get(organizationId) : 'All customers'} · per {spec.interval}, UTC</p>
          </div>
        </div>
        <div className="card-body">
          {stats.isLoading ? (
            <LoadingBlock height={240} />
          ) : stats.isError ? (
            <ErrorState error={stats.error} onRetry={() => void stats.refetch()} title="Could not load event volume" />
          ) : data && data.total === 0 ? (
            <EmptyState icon={<BarChart3 />} title="No events in this window">
              Send events with <code>POST /audit_logs/events</code> and they will be charted here.
            </EmptyState>
          ) : (
            data && <VolumeChart points={volume} interval={data.interval} label={`Events per ${data.interval}`} />
          )}
        </div>
      </section>

      <div className="grid grid-3">
        <section className="card" aria-labelledby="top-actions">
          <div className="card-header">
            <h2 id="top-actions">Top actions</h2>
          </div>
          <div className="card-body">
            {data && data.top_actions.length > 0 ? (
              <BarList label="Events per action" items={data.top_actions.map((a) => ({ key: a.action, label: <span className="mono">{a.action}</span>, value: a.count }))} />
            ) : stats.isLoading ? (
              <LoadingBlock height={120} />
            ) : (
              <p className="muted text-sm">No actions in this window.</p>
            )}
          </div>
        </section>
        <section className="card" aria-labelledby="top-orgs">
          <div className="card-header">
            <h2 id="top-orgs">Top organizations</h2>
          </div>
          <div className="card-body">
            {organizationId ? (
              <p className="muted text-sm">Showing one organization. Choose “All customers” to compare.</p>
            ) : data && data.top_organizations.length > 0 ? (
              <BarList
                label="Events per organization"
                items={data.top_organizations.map((o) => ({
                  key: o.organization_id,
                  label: <Link href={`/organizations/${o.organization_id}`}>{names.get(o.organization_id) ?? o.organization_id}</Link>,
                  value: o.count,
                }))}
              />
            ) : stats.isLoading ? (
              <LoadingBlock height={120} />
            ) : (
              <p className="muted text-sm">No organizations sent events in this window.</p>
            )}
          </div>
        </section>
        <section className="card" aria-labelledby="attention">
          <div className="card-header">
            <h2 id="attention">Streams needing attention</h2>
            <Link href="/log-streams" className="text-sm">
              All streams
            </Link>
          </div>
          <div className="card-body">
            {streams.isLoading ? (
              <LoadingBlock height={120} />
            ) : streams.isError ? (
              <ErrorState error={streams.error} onRetry={() => void streams.refetch()} />
            ) : (streams.data?.data.length ?? 0) === 0 ? (
              <p className="muted text-sm">No log streams yet. Customers connect their SIEM from an Admin Portal link (Organizations → an organization).</p>
            ) : attention.length === 0 ? (
              <div className="row text-sm" style={{ color: 'var(--green)' }}>
                <CheckCircle2 width={16} height={16} aria-hidden="true" /> Every stream is delivering.
              </div>
            ) : (
              <ul className="stack" style={{ listStyle: 'none', margin: 0, padding: 0, gap: 10 }}>
                {attention.slice(0, 6).map((stream) => (
                  <li key={stream.id} className="row" style={{ gap: 10, alignItems: 'flex-start' }}>
                    <DestinationLogo type={stream.type} small />
                    <div className="cell-stack" style={{ flex: 1 }}>
                      <Link href={`/log-streams/${stream.id}`}>{stream.name ?? destinationLabel(stream.type)}</Link>
                      <span className="sub">
                        {names.get(stream.organization_id) ?? stream.organization_id} · synced {formatRelative(stream.last_synced_at)}
                      </span>
                      {stream.state_reason && (
                        <span className="sub truncate" title={stream.state_reason}>
                          <AlertTriangle width={11} height={11} aria-hidden="true" /> {stream.state_reason}
                        </span>
                      )}
                    </div>
                    <StreamStateBadge stream={stream} />
                  </li>
                ))}
              </ul>
            )}
          </div>
        </section>
      </div>
    </div>
  );
}
