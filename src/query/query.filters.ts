import { rangeBound } from '../shared/instant.js';
import { AppError } from '../errors/app-error.js';
import { metadataTag } from '../ingest/prepare.js';

/** Search filters of GET /audit_logs/events, parsed from the raw query string. */
export interface EventFilters {
  organizationId: string | undefined;
  actions: string[];
  actorIds: string[];
  actorNames: string[];
  targetIds: string[];
  targetTypes: string[];
  /** Per metadata key, the accepted values (any of them matches), as tags. */
  metadata: string[][];
  terms: string[];
  rangeStart: Date | undefined;
  rangeEnd: Date | undefined;
}

type RawQuery = Record<string, unknown>;

const METADATA_KEY = /^metadata\[([a-zA-Z0-9_-]{0,40})\](\[\])?$/;
const MAX_VALUES = 100;

function strings(value: unknown): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((item): item is string => typeof item === 'string');
}

/**
 * A list filter accepts repeated parameters (a=x&a=y), the bracket form (a[]=x) and comma-separated values
 * (a=x,y). Actor names are the exception to commas: "Doe, Jane" is one name.
 */
export function listParam(query: RawQuery, name: string, splitCommas = true): string[] {
  const values = [...strings(query[name]), ...strings(query[`${name}[]`])];
  const split = splitCommas ? values.flatMap((value) => value.split(',')) : values;
  const cleaned = [...new Set(split.map((value) => value.trim()).filter((value) => value !== ''))];
  if (cleaned.length > MAX_VALUES) throw new AppError('invalid_query', `At most ${MAX_VALUES} values may be given for ${name}.`);
  return cleaned;
}

function timeParam(query: RawQuery, name: string): Date | undefined {
  const [raw, ...rest] = strings(query[name]);
  if (raw === undefined) return undefined;
  const date = rangeBound(raw);
  if (rest.length > 0 || date === undefined) {
    throw new AppError('invalid_query', `${name} must be one ISO-8601 date-time, e.g. 2026-01-31T00:00:00Z.`);
  }
  return date;
}

const MAX_TERMS = 10;

/** The words of a free-text search, lower-cased: each must appear in an event's search text. */
export function searchTerms(q: string | undefined): string[] {
  const terms = (q ?? '').toLowerCase().split(/\s+/).filter((term) => term !== '');
  if (terms.length > MAX_TERMS) throw new AppError('invalid_query', `q may hold at most ${MAX_TERMS} words.`);
  return terms;
}

export function parseEventFilters(query: RawQuery): EventFilters {
  const metadata = new Map<string, string[]>();
  for (const [name, value] of Object.entries(query)) {
    if (!name.startsWith('metadata')) continue;
    const match = METADATA_KEY.exec(name);
    if (match === null) {
      throw new AppError('invalid_query', `Metadata filters look like metadata[key]=value, with keys matching ^[a-zA-Z0-9_-]{0,40}$ (got "${name.slice(0, 60)}").`);
    }
    const key = match[1] as string;
    metadata.set(key, [...(metadata.get(key) ?? []), ...strings(value).map((v) => metadataTag(key, v))]);
  }
  const [q] = strings(query.q);
  if (q !== undefined && q.length > 200) throw new AppError('invalid_query', 'q may be at most 200 characters.');
  const [organizationId] = strings(query.organization_id);
  const filters: EventFilters = {
    organizationId,
    actions: listParam(query, 'actions'),
    actorIds: listParam(query, 'actor_ids'),
    actorNames: listParam(query, 'actor_names', false),
    targetIds: listParam(query, 'target_ids'),
    targetTypes: listParam(query, 'target_types'),
    metadata: [...metadata.values()],
    terms: searchTerms(q),
    rangeStart: timeParam(query, 'range_start'),
    rangeEnd: timeParam(query, 'range_end'),
  };
  if (filters.rangeStart && filters.rangeEnd && filters.rangeStart >= filters.rangeEnd) {
    throw new AppError('invalid_query', 'range_start must be before range_end.');
  }
  return filters;
}
