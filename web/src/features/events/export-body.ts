import { fromLocalInput } from '../../lib/format';
import { resolveRange, SEARCH_MAX_LENGTH, splitMeta, type EventFilterState } from './filters';

/**
 * The ends an export takes where the screen's range is open: the widest the API accepts (four-digit
 * years), so "All time" exports every event the list can show — one dated in the future by a client's
 * clock, or long ago, included.
 */
export const ALL_TIME_START = '0001-01-01T00:00:00.000Z';
export const ALL_TIME_END = '9999-12-31T23:59:59.999Z';

/** The export body for the explorer's current filters, the search text included. */
export function exportBody(organizationId: string, filters: EventFilterState, format: 'csv' | 'ndjson' = 'csv', now = Date.now()) {
  const range = resolveRange(filters, now);
  const q = filters.q.trim().slice(0, SEARCH_MAX_LENGTH);
  const metadata: Record<string, string[]> = {};
  for (const pair of filters.metadata) {
    const [key, value] = splitMeta(pair);
    (metadata[key] ??= []).push(value);
  }
  return {
    organization_id: organizationId,
    range_start: range.range_start ?? ALL_TIME_START,
    range_end: range.range_end ?? ALL_TIME_END,
    format,
    ...(filters.actions.length > 0 ? { actions: filters.actions } : {}),
    ...(filters.actorIds.length > 0 ? { actor_ids: filters.actorIds } : {}),
    ...(filters.actorNames.length > 0 ? { actor_names: filters.actorNames } : {}),
    ...(filters.targetTypes.length > 0 ? { targets: filters.targetTypes } : {}),
    ...(filters.targetIds.length > 0 ? { target_ids: filters.targetIds } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(q !== '' ? { q } : {}),
  };
}

/** The custom range checked before sending, as the server would: From before To (open ends as exportBody fills them). */
export function exportRangeProblem(from: string, to: string): { field: 'from' | 'to'; message: string } | undefined {
  const start = from === '' ? undefined : fromLocalInput(from);
  const end = to === '' ? undefined : fromLocalInput(to);
  if (from !== '' && start === undefined) return { field: 'from', message: 'Enter a valid date and time.' };
  if (to !== '' && end === undefined) return { field: 'to', message: 'Enter a valid date and time.' };
  const startMs = Date.parse(start ?? ALL_TIME_START);
  const endMs = Date.parse(end ?? ALL_TIME_END);
  if (startMs >= endMs) return { field: 'from', message: 'From must be before To.' };
  return undefined;
}
