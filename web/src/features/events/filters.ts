import type { QueryValue } from '../../lib/api';
import { fromLocalInput } from '../../lib/format';
import type { AuditEvent, Metadata } from '../../lib/types';

/** The API's limit on the free-text search (q), for events and exports alike. */
export const SEARCH_MAX_LENGTH = 200;

export type RangePreset = '1h' | '24h' | '7d' | '30d' | '90d' | 'all' | 'custom';

export const RANGE_LABELS: Record<RangePreset, string> = {
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  '90d': 'Last 90 days',
  all: 'All time',
  custom: 'Custom range',
};

const RANGE_MS: Partial<Record<RangePreset, number>> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '90d': 90 * 86_400_000,
};

/** Everything the explorer filters on; it lives in the URL so a filtered view can be shared. */
export interface EventFilterState {
  organizationId: string;
  actions: string[];
  actorIds: string[];
  actorNames: string[];
  targetIds: string[];
  targetTypes: string[];
  /** "key=value" pairs. */
  metadata: string[];
  q: string;
  range: RangePreset;
  from: string;
  to: string;
}

export const EMPTY_FILTERS: EventFilterState = {
  organizationId: '',
  actions: [],
  actorIds: [],
  actorNames: [],
  targetIds: [],
  targetTypes: [],
  metadata: [],
  q: '',
  range: 'all',
  from: '',
  to: '',
};

const LISTS = {
  action: 'actions',
  actor_id: 'actorIds',
  actor_name: 'actorNames',
  target_id: 'targetIds',
  target_type: 'targetTypes',
  meta: 'metadata',
} as const;

export function filtersFromSearch(search: string): EventFilterState {
  const params = new URLSearchParams(search);
  const state: EventFilterState = { ...EMPTY_FILTERS, organizationId: params.get('org') ?? '', q: params.get('q') ?? '' };
  for (const [param, key] of Object.entries(LISTS)) state[key] = params.getAll(param).filter(Boolean);
  const range = params.get('range');
  state.range = range !== null && range in RANGE_LABELS ? (range as RangePreset) : 'all';
  state.from = params.get('from') ?? '';
  state.to = params.get('to') ?? '';
  return state;
}

export function filtersToSearch(state: EventFilterState, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (state.organizationId) params.set('org', state.organizationId);
  for (const [param, key] of Object.entries(LISTS)) for (const value of state[key]) params.append(param, value);
  if (state.q) params.set('q', state.q);
  if (state.range !== 'all') params.set('range', state.range);
  if (state.range === 'custom') {
    if (state.from) params.set('from', state.from);
    if (state.to) params.set('to', state.to);
  }
  for (const [key, value] of Object.entries(extra)) if (value) params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export function activeFilterCount(state: EventFilterState): number {
  return (
    state.actions.length + state.actorIds.length + state.actorNames.length + state.targetIds.length + state.targetTypes.length + state.metadata.length
  );
}

/** The time window, resolved against `now` (frozen when the filters change so paging stays stable). */
export function resolveRange(state: EventFilterState, now: number): { range_start?: string; range_end?: string } {
  const span = RANGE_MS[state.range];
  if (span !== undefined) return { range_start: new Date(now - span).toISOString() };
  if (state.range === 'custom') {
    return { ...(state.from ? { range_start: state.from } : {}), ...(state.to ? { range_end: state.to } : {}) };
  }
  return {};
}

/**
 * The custom range as typed in the From and To fields (datetime-local values, either may be empty), turned
 * into the filters' ISO times; or what is wrong with it, checked as the API would (range_start before
 * range_end) so a bad pair is never sent for a 400.
 */
export function customRange(from: string, to: string): { from: string; to: string } | { field: 'from' | 'to'; problem: string } {
  const start = fromLocalInput(from);
  const end = fromLocalInput(to);
  if (from !== '' && start === undefined) return { field: 'from', problem: 'Enter a valid date and time.' };
  if (to !== '' && end === undefined) return { field: 'to', problem: 'Enter a valid date and time.' };
  if (start !== undefined && end !== undefined && Date.parse(start) >= Date.parse(end)) return { field: 'from', problem: 'From must be before To.' };
  return { from: start ?? '', to: end ?? '' };
}

export function splitMeta(pair: string): [string, string] {
  const index = pair.indexOf('=');
  return index < 0 ? [pair, ''] : [pair.slice(0, index), pair.slice(index + 1)];
}

/** Query parameters of GET /audit_logs/events for the filters. */
export function searchParams(state: EventFilterState, now: number): Record<string, QueryValue> {
  const params: Record<string, QueryValue> = {
    organization_id: state.organizationId || undefined,
    actions: state.actions,
    actor_ids: state.actorIds,
    target_ids: state.targetIds,
    target_types: state.targetTypes,
    q: state.q.trim().slice(0, SEARCH_MAX_LENGTH) || undefined,
    ...resolveRange(state, now),
  };
  // Repeated actor_names, never comma-joined: "Doe, Jane" is one name.
  if (state.actorNames.length > 0) params.actor_names = state.actorNames;
  for (const pair of state.metadata) {
    const [key, value] = splitMeta(pair);
    const name = `metadata[${key}]`;
    const existing = params[name];
    params[name] = Array.isArray(existing) ? [...(existing as string[]), value] : [value];
  }
  return params;
}

/** The server's list filters: trimmed values, commas separating values except in actor names (query.filters.ts listParam). */
function listValues(values: readonly string[], splitCommas = true): string[] {
  const split = splitCommas ? values.flatMap((value) => value.split(',')) : values;
  return split.map((value) => value.trim()).filter((value) => value !== '');
}

/**
 * What the server's free-text search (q) looks in: the lower-cased values of an event, never its keys —
 * a mirror of searchTextOf in src/ingest/prepare.ts. Ids, hashes and times are not searched there either.
 */
export function searchTextOf(event: AuditEvent): string {
  const parts: (string | number | boolean | null | undefined)[] = [
    event.action,
    event.actor.id,
    event.actor.type,
    event.actor.name,
    event.context.location,
    event.context.user_agent,
  ];
  const addMetadata = (metadata: Metadata | undefined): void => {
    if (metadata) for (const value of Object.values(metadata)) parts.push(value);
  };
  addMetadata(event.metadata);
  addMetadata(event.actor.metadata);
  for (const target of event.targets) {
    parts.push(target.id, target.type, target.name);
    addMetadata(target.metadata);
  }
  return parts
    .filter((part) => part !== undefined && part !== null && part !== '')
    .join('\n')
    .toLowerCase();
}

/**
 * Client-side check for live events, with the server's semantics (query.filters.ts, query.sql.ts) so the
 * live view shows what a reload would: values within a filter OR, filters AND, metadata values OR per key
 * and found on the event, its actor or any target, every search word a substring of a value (searched as
 * sent: trimmed, at most SEARCH_MAX_LENGTH characters), and the time window resolved against `now` as the
 * page's query was.
 */
export function matchesFilters(event: AuditEvent, state: EventFilterState, now: number): boolean {
  const actions = listValues(state.actions);
  if (actions.length > 0 && !actions.includes(event.action)) return false;
  const actorIds = listValues(state.actorIds);
  if (actorIds.length > 0 && !actorIds.includes(event.actor.id)) return false;
  const actorNames = listValues(state.actorNames, false);
  if (actorNames.length > 0 && !actorNames.includes(event.actor.name ?? '')) return false;
  const targetIds = listValues(state.targetIds);
  if (targetIds.length > 0 && !event.targets.some((t) => targetIds.includes(t.id))) return false;
  const targetTypes = listValues(state.targetTypes);
  if (targetTypes.length > 0 && !event.targets.some((t) => targetTypes.includes(t.type))) return false;

  const wanted = new Map<string, string[]>();
  for (const pair of state.metadata) {
    const [key, value] = splitMeta(pair);
    wanted.set(key, [...(wanted.get(key) ?? []), value]);
  }
  if (wanted.size > 0) {
    const bags = [event.metadata, event.actor.metadata ?? {}, ...event.targets.map((t) => t.metadata ?? {})];
    for (const [key, values] of wanted) {
      // Own keys only: "constructor" or "toString" are not metadata an event carries.
      if (!bags.some((bag) => Object.hasOwn(bag, key) && values.includes(String(bag[key])))) return false;
    }
  }

  const words = state.q.trim().slice(0, SEARCH_MAX_LENGTH).toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length > 0) {
    const text = searchTextOf(event);
    if (!words.every((word) => text.includes(word))) return false;
  }

  const { range_start: start, range_end: end } = resolveRange(state, now);
  const occurred = Date.parse(event.occurred_at);
  if (start !== undefined && occurred < Date.parse(start)) return false;
  if (end !== undefined && occurred >= Date.parse(end)) return false;
  return true;
}

/**
 * Page 1 while following live: the fetched page plus the live arrivals that match the filters now in
 * force (an arrival kept under earlier filters leaves when they change), newest first by occurred_at.
 */
export function liveRows(page: readonly AuditEvent[], live: readonly AuditEvent[], state: EventFilterState, now: number): AuditEvent[] {
  const seen = new Set(page.map((event) => event.id));
  const arrivals = live.filter((event) => !seen.has(event.id) && matchesFilters(event, state, now));
  // Live arrivals take their place by occurred_at, not by arrival: an event may be sent late.
  return [...arrivals, ...page].sort(newestFirst);
}

/** The list's order: occurred_at, newest first; the chain's order (seq) among equal times. */
export function newestFirst(a: AuditEvent, b: AuditEvent): number {
  return Date.parse(b.occurred_at) - Date.parse(a.occurred_at) || b.seq - a.seq;
}
