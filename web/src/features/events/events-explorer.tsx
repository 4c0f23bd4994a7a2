import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { ChevronLeft, ChevronRight, Inbox, Pause, Radio, SearchX } from 'lucide-react';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useLocation, useSearch } from 'wouter';
import { api, errorMessage } from '../../lib/api';
import { formatDateTime, formatRelative, initials, isoTitle, localZoneName, SYSTEM_LOG_NAME } from '../../lib/format';
import type { Action, AuditEvent, List, Organization } from '../../lib/types';
import { Button } from '../../ui/button';
import { DataTable } from '../../ui/data-table';
import { OrganizationOptions } from '../../ui/organization-options';
import { EmptyState, ErrorState } from '../../ui/states';
import { EventDrawer } from './event-drawer';
import { FilterBar } from './filter-bar';
import { activeFilterCount, filtersFromSearch, filtersToSearch, liveRows, matchesFilters, searchParams, type EventFilterState } from './filters';

const PAGE_SIZE = 50;
const LIVE_CAP = 500;

type Cursor = { after?: string; before?: string };

export interface ExplorerProps {
  /** dashboard: every organization, org picker, live mode. portal/embed: one organization, implied by the session. */
  mode: 'dashboard' | 'portal' | 'embed';
  organizations?: Organization[];
  toolbarExtra?: (filters: EventFilterState) => ReactNode;
}

function useEventFilters(): [EventFilterState, (next: EventFilterState) => void, string | null, (id: string | null) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const eventId = new URLSearchParams(search).get('event');
  const setFilters = useCallback((next: EventFilterState) => navigate(`${location}${filtersToSearch(next)}`, { replace: true }), [location, navigate]);
  const setEventId = useCallback(
    (id: string | null) => navigate(`${location}${filtersToSearch(filters, id === null ? {} : { event: id })}`, { replace: true }),
    [filters, location, navigate],
  );
  return [filters, setFilters, eventId, setEventId];
}

export function EventsExplorer({ mode, organizations = [], toolbarExtra }: ExplorerProps) {
  const [filters, setFilters, eventId, setEventId] = useEventFilters();
  const [cursor, setCursor] = useState<Cursor>({});
  const [page, setPage] = useState(1);
  // Relative ranges resolve against the moment the filters were set, so paging does not drift.
  const [anchor, setAnchor] = useState(() => Date.now());
  const filterKey = filtersToSearch(filters);
  useEffect(() => {
    setCursor({});
    setPage(1);
    setAnchor(Date.now());
  }, [filterKey]);

  const orgNames = useMemo(() => new Map(organizations.map((org) => [org.id, org.system === true ? SYSTEM_LOG_NAME : org.name])), [organizations]);

  const actions = useQuery({
    queryKey: ['actions', 'names'],
    queryFn: () => api.get<List<Action>>('/audit_logs/actions', { limit: 100 }),
    staleTime: 60_000,
  });

  const query = useQuery({
    queryKey: ['events', filterKey, cursor, anchor],
    queryFn: ({ signal }) => api.get<List<AuditEvent>>('/audit_logs/events', { ...searchParams(filters, anchor), limit: PAGE_SIZE, ...cursor }, { signal }),
    placeholderData: keepPreviousData,
  });

  const live = useLiveEvents(mode === 'dashboard' ? filters.organizationId : '', filters, anchor, filterKey);

  const rows = useMemo(() => {
    const base = query.data?.data ?? [];
    if (!live.on || page !== 1) return base;
    return liveRows(base, live.events, filters, anchor);
  }, [query.data, live.on, live.events, page, filters, anchor]);

  const selectedIndex = eventId === null ? -1 : rows.findIndex((event) => event.id === eventId);
  const single = useQuery({
    queryKey: ['event', eventId],
    queryFn: () => api.get<AuditEvent>(`/audit_logs/events/${encodeURIComponent(eventId ?? '')}`),
    enabled: eventId !== null && selectedIndex < 0 && !query.isLoading,
  });
  const selected = selectedIndex >= 0 ? (rows[selectedIndex] ?? null) : (single.data ?? null);

  const showOrg = mode === 'dashboard' && filters.organizationId === '';
  const zone = useMemo(() => localZoneName(), []);
  const columns = useMemo<ColumnDef<AuditEvent, unknown>[]>(() => {
    const list: ColumnDef<AuditEvent, unknown>[] = [
      {
        id: 'time',
        header: () => <span title={`Times are in your browser’s time zone (${zone}); hover one for its exact UTC time`}>Time ({zone})</span>,
        meta: { width: 150, className: 'col-time' },
        cell: ({ row }) => (
          <span className="time-cell" title={isoTitle(row.original.occurred_at)}>
            {formatDateTime(row.original.occurred_at)}
          </span>
        ),
      },
      {
        id: 'action',
        header: 'Action',
        meta: { width: '20%', className: 'col-action' },
        cell: ({ row }) => <span className="pill" title={row.original.action}>{row.original.action}</span>,
      },
      {
        id: 'actor',
        header: 'Actor',
        cell: ({ row }) => {
          const actor = row.original.actor;
          return (
            <div className="actor-cell">
              <span className="avatar" aria-hidden="true">
                {initials(actor.name ?? actor.id)}
              </span>
              <div className="cell-stack">
                <span>{actor.name ?? actor.id}</span>
                <span className="sub">{actor.name ? actor.id : actor.type}</span>
              </div>
            </div>
          );
        },
      },
      {
        id: 'targets',
        header: 'Targets',
        meta: { className: 'col-wide' },
        cell: ({ row }) => {
          const [first, ...rest] = row.original.targets;
          if (first === undefined) return <span className="muted">—</span>;
          return (
            <div className="cell-stack">
              <span>
                {first.name ?? first.id}
                {rest.length > 0 && <span className="muted"> +{rest.length}</span>}
              </span>
              <span className="sub">{first.type}</span>
            </div>
          );
        },
      },
    ];
    if (showOrg) {
      list.push({
        id: 'organization',
        header: 'Organization',
        meta: { width: 160, className: 'col-wide' },
        cell: ({ row }) => <span className="text-secondary">{orgNames.get(row.original.organization_id) ?? row.original.organization_id}</span>,
      });
    }
    list.push({
      id: 'location',
      header: 'Location',
      meta: { width: 130, className: 'col-wide' },
      cell: ({ row }) => <span className="mono muted">{row.original.context.location}</span>,
    });
    return list;
  }, [showOrg, orgNames, zone]);

  const meta = query.data?.list_metadata;
  const filtered = activeFilterCount(filters) > 0 || filters.q !== '' || filters.range !== 'all';
  const liveAvailable = mode === 'dashboard';

  return (
    <div className="stack" style={{ gap: 14 }}>
      <FilterBar
        filters={filters}
        onChange={setFilters}
        actionSuggestions={(actions.data?.data ?? []).map((action) => action.name)}
        leading={
          mode === 'dashboard' && (
            <select
              className="select"
              style={{ width: 200 }}
              aria-label="Organization"
              value={filters.organizationId}
              onChange={(event) => setFilters({ ...filters, organizationId: event.target.value })}
            >
              <option value="">All organizations</option>
              <OrganizationOptions organizations={organizations} />
            </select>
          )
        }
        trailing={
          <>
            {liveAvailable && (
              <Button
                icon={live.on ? <Pause /> : <Radio />}
                aria-pressed={live.on}
                disabled={filters.organizationId === ''}
                title={filters.organizationId === '' ? 'Choose an organization to follow its events live' : undefined}
                onClick={() => {
                  setCursor({});
                  setPage(1);
                  live.toggle();
                }}
              >
                {live.on ? (
                  <>
                    <span className="live-dot" aria-hidden="true" /> Live
                  </>
                ) : (
                  'Go live'
                )}
              </Button>
            )}
            {toolbarExtra?.(filters)}
          </>
        }
      />
      {live.error && live.on && (
        <div className="callout callout-amber" role="status">
          <Radio aria-hidden="true" />
          <span>{live.error}</span>
        </div>
      )}
      <div className="card">
        {query.isError && !query.data ? (
          <ErrorState error={query.error} onRetry={() => void query.refetch()} title="Could not load events" />
        ) : (
          <DataTable
            caption="Audit log events"
            fixed
            data={query.data ? rows : undefined}
            columns={columns}
            loading={query.isLoading}
            getRowId={(event) => event.id}
            onRowClick={(event) => setEventId(event.id)}
            rowLabel={(event) => `${event.action} by ${event.actor.name ?? event.actor.id}, ${formatRelative(event.occurred_at)}`}
            rowClassName={(event) => (event.id === eventId ? 'selected' : live.fresh.has(event.id) ? 'flash' : undefined)}
            empty={
              filtered ? (
                <EmptyState icon={<SearchX />} title="No events match these filters">
                  Try a wider time range or remove a filter.
                </EmptyState>
              ) : (
                <EmptyState icon={<Inbox />} title="No events yet">
                  Events appear here as soon as your application sends them with <code>POST /audit_logs/events</code>.
                </EmptyState>
              )
            }
            footer={
              (rows.length > 0 || page > 1) && (
                <div className="table-foot">
                  <span aria-live="polite">
                    {query.isFetching && !query.isLoading ? 'Loading…' : `Page ${page} · ${rows.length} event${rows.length === 1 ? '' : 's'}`}
                    {live.on && ` · following live`}
                  </span>
                  <div className="pager">
                    <Button
                      size="sm"
                      icon={<ChevronLeft />}
                      disabled={!meta?.before || page === 1}
                      onClick={() => {
                        if (!meta?.before) return;
                        setCursor({ before: meta.before });
                        setPage((p) => Math.max(1, p - 1));
                      }}
                    >
                      Newer
                    </Button>
                    <Button
                      size="sm"
                      disabled={!meta?.after}
                      onClick={() => {
                        if (!meta?.after) return;
                        setCursor({ after: meta.after });
                        setPage((p) => p + 1);
                      }}
                    >
                      Older <ChevronRight aria-hidden="true" />
                    </Button>
                  </div>
                </div>
              )
            }
          />
        )}
      </div>
      {eventId !== null && single.isError && (
        <div className="callout callout-red" role="alert">
          <SearchX aria-hidden="true" />
          <span>
            <strong>Event not found.</strong> {errorMessage(single.error)}{' '}
            <Button size="sm" variant="ghost" onClick={() => setEventId(null)}>
              Dismiss
            </Button>
          </span>
        </div>
      )}
      <EventDrawer
        event={eventId === null ? null : selected}
        organizationName={selected ? orgNames.get(selected.organization_id) : undefined}
        onClose={() => setEventId(null)}
        onPrevious={selectedIndex > 0 ? () => setEventId(rows[selectedIndex - 1]?.id ?? null) : undefined}
        onNext={selectedIndex >= 0 && selectedIndex < rows.length - 1 ? () => setEventId(rows[selectedIndex + 1]?.id ?? null) : undefined}
      />
    </div>
  );
}

/**
 * Follows an organization's new events over Server-Sent Events while switched on, keeping those that match
 * the filters in force. Changing the filters empties the list: the refetched page holds every stored match.
 */
function useLiveEvents(organizationId: string, filters: EventFilterState, anchor: number, filterKey: string) {
  const [on, setOn] = useState(false);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const matchRef = useRef({ filters, anchor });
  matchRef.current = { filters, anchor };

  useEffect(() => {
    if (organizationId === '') setOn(false);
    setEvents([]);
  }, [organizationId]);

  useEffect(() => {
    setEvents([]);
    setFresh(new Set());
  }, [filterKey]);

  useEffect(() => {
    if (!on || organizationId === '') return;
    const source = new EventSource(`/audit_logs/events/stream?organization_id=${encodeURIComponent(organizationId)}`);
    source.addEventListener('open', () => setError(null));
    source.addEventListener('error', () => setError('Live connection interrupted — reconnecting…'));
    source.addEventListener('audit_log_event', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as AuditEvent;
      if (!matchesFilters(event, matchRef.current.filters, matchRef.current.anchor)) return;
      setEvents((list) => [event, ...list].slice(0, LIVE_CAP));
      setFresh((set) => new Set(set).add(event.id));
    });
    return () => source.close();
  }, [on, organizationId]);

  return {
    on,
    events,
    fresh,
    error,
    toggle: () => {
      setEvents([]);
      setFresh(new Set());
      setOn((value) => !value);
    },
  };
}
