import type { QueryValue } from '../../lib/api';
import type { AuditEvent } from '../../lib/types';

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

/** Client-side check for live events, mirroring the server's filters closely enough for a live view. */
export function matchesFilters(event: AuditEvent, state: EventFilterState): boolean {
  if (state.actions.length > 0 && !state.actions.includes(event.action)) return false;
  if (state.actorIds.length > 0 && !state.actorIds.includes(event.actor.id)) return false;
  if (state.actorNames.length > 0 && !state.actorNames.includes(event.actor.name ?? '')) return false;
  if (state.targetIds.length > 0 && !event.targets.some((t) => state.targetIds.includes(t.id))) return false;
  if (state.targetTypes.length > 0 && !event.targets.some((t) => state.targetTypes.includes(t.type))) return false;
  for (const pair of state.metadata) {
    const [key, value] = splitMeta(pair);
    const bags = [event.metadata, event.actor.metadata ?? {}, ...event.targets.map((t) => t.metadata ?? {})];
    if (!bags.some((bag) => key in bag && String(bag[key]) === value)) return false;
  }
  const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length > 0) {
    const text = JSON.stringify(event).toLowerCase();
    if (!words.every((word) => text.includes(word))) return false;
  }
  return true;
}
