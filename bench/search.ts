import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { Queryable } from '../src/db/db.js';
import { chainHash } from '../src/ingest/hash.js';
import type { AuditEvent } from '../src/ingest/event.schema.js';
import { parseEventFilters } from '../src/query/query.filters.js';
import { selectEventPage } from '../src/query/query.sql.js';
import { cursorOf, pageParams, scanOrder } from '../src/shared/pagination.js';
import { bulkLoadEvents } from './lib/bulk-load.js';
import { ACTIONS, ACTOR_COUNT, actorAt, EventGenerator, FIRST_NAMES, LAST_NAMES, PLANS, prng, REGIONS, TARGET_COUNT, TARGET_TYPES, targetAt } from './lib/events.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { withClient } from './lib/pg.js';
import { log } from './lib/report.js';
import { settings } from './lib/settings.js';
import { fmtMs } from './lib/stats.js';
import { BENCH_KEY, ROOT, type VerityServer } from './server.js';

const DAY_MS = 86_400_000;
export const SEARCH_DAYS = 90;

export interface LoadedData {
  events: number;
  seconds: number;
  /** Newest occurred_at in the data (the 90 days end here). */
  end: Date;
  /** Real values drawn from the loaded rows, for filters that need one. */
  requestIds: string[];
  eventIds: string[];
  tableSize: string;
}

/**
 * Loads `count` events into one organization (bulkLoadEvents: COPY, rows made with the server's own
 * prepareEvent and chainHash, the migrated indexes rebuilt afterwards). Times drift forward with the
 * sequence over the last 90 days (as a live log's do), with jitter; each is received a moment after it
 * occurred.
 */
export async function loadSearchData(databaseUrl: string, organizationId: string, count: number): Promise<LoadedData> {
  const end = new Date();
  const start = end.getTime() - SEARCH_DAYS * DAY_MS;
  const jitter = prng(11);
  const generator = new EventGenerator({
    seed: 10,
    timeOf: (i) => new Date(start + ((i + 1) / count) * SEARCH_DAYS * DAY_MS - Math.floor(jitter() * 120_000)),
  });
  const loaded = await bulkLoadEvents(databaseUrl, {
    organizationId,
    count,
    eventAt: () => generator.next(),
    receivedAt: (event) => new Date(Date.parse(event.occurred_at) + Math.floor(jitter() * 2_000)),
    logEvery: 200_000,
  });
  return withClient(databaseUrl, async (client) => {
    const sample = await client.query<{ request_id: string; id: string }>(
      `select data->'metadata'->>'request_id' as request_id, id from events tablesample system (1) repeatable (7)
       where organization_id = $1 limit 500`,
      [organizationId],
    );
    const size = await client.query<{ size: string }>(`select pg_size_pretty(pg_total_relation_size('events')) as size`);
    return {
      events: count,
      seconds: loaded.seconds,
      end,
      requestIds: sample.rows.map((r) => r.request_id),
      eventIds: sample.rows.map((r) => r.id),
      tableSize: size.rows[0]?.size ?? '?',
    };
  });
}

/**
 * Proves the loaded log is a valid chain the server continues: the first rows recompute from their stored
 * documents, and an event appended through the API links onto the loaded head.
 */
export async function checkChain(server: VerityServer, databaseUrl: string, organizationId: string, loaded: number): Promise<string> {
  await server.api('POST', '/audit_logs/events', { organization_id: organizationId, event: new EventGenerator({ seed: 99 }).next() });
  return withClient(databaseUrl, async (client) => {
    const rows = await client.query<{ seq: string; data: AuditEvent; prev_hash: string; hash: string }>(
      `(select seq, data, prev_hash, hash from events where organization_id = $1 order by seq limit 2000)
       union all
       (select seq, data, prev_hash, hash from events where organization_id = $1 and seq >= $2 order by seq)
       order by seq`,
      [organizationId, loaded],
    );
    let checked = 0;
    for (let i = 0; i < rows.rows.length; i++) {
      const row = rows.rows[i] as (typeof rows.rows)[number];
      if (chainHash(row.prev_hash, row.data) !== row.hash) throw new Error(`hash mismatch at seq ${row.seq}`);
      const prev = rows.rows[i - 1];
      if (prev !== undefined && Number(prev.seq) + 1 === Number(row.seq) && prev.hash !== row.prev_hash) {
        throw new Error(`chain broken between seq ${prev.seq} and ${row.seq}`);
      }
      checked++;
    }
    const last = rows.rows[rows.rows.length - 1];
    if (last === undefined || Number(last.seq) !== loaded + 1) throw new Error(`API append landed at seq ${last?.seq}, expected ${loaded + 1}`);
    return `chain ok: ${checked} rows recomputed, API append continued at seq ${last.seq}`;
  });
}

type Query = Record<string, string | string[]>;

export interface QueryKind {
  name: string;
  /** p95 target in ms */
  target: number;
  /** The n-th query of this kind (deterministic). */
  make: () => Query;
}

/**
 * Each filter kind draws its values half from the domain uniformly (mostly rare values: a few rows match)
 * and half the way the data does (popular values: many rows match), since people search for both.
 */
export function queryKinds(data: LoadedData, seed: number): QueryKind[] {
  const r = prng(seed);
  const like = new EventGenerator({ seed: seed + 1 });
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
  const either = <T>(uniform: () => T, weighted: () => T): T => (r() < 0.5 ? uniform() : weighted());
  const startMs = data.end.getTime() - SEARCH_DAYS * DAY_MS;
  const window = (days: number): Query => {
    const from = startMs + r() * (SEARCH_DAYS - days) * DAY_MS;
    return { range_start: new Date(from).toISOString(), range_end: new Date(from + days * DAY_MS).toISOString() };
  };
  let k = 0;
  return [
    { name: 'first page (newest)', target: 20, make: () => ({}) },
    { name: 'next page (after=)', target: 50, make: () => ({ after: pick(data.eventIds) }) },
    { name: 'actions', target: 50, make: () => ({ actions: either(() => pick(ACTIONS), () => like.next().action) }) },
    {
      name: 'actor_ids',
      target: 50,
      make: () => ({ actor_ids: either(() => actorAt(Math.floor(r() * ACTOR_COUNT)).id, () => like.next().actor.id) }),
    },
    {
      name: 'actor_names',
      target: 50,
      make: () => ({ actor_names: either(() => actorAt(Math.floor(r() * ACTOR_COUNT)).name, () => like.next().actor.name ?? '') }),
    },
    {
      name: 'target_ids',
      target: 50,
      make: () => ({ target_ids: either(() => targetAt(Math.floor(r() * TARGET_COUNT)).id, () => like.next().targets[0]?.id ?? '') }),
    },
    { name: 'target_types', target: 50, make: () => ({ target_types: pick(TARGET_TYPES) }) },
    {
      name: 'metadata[key]=value',
      target: 50,
      make: () => {
        switch (k++ % 4) {
          case 0:
            return { 'metadata[region]': pick(REGIONS) };
          case 1:
            return { 'metadata[plan]': pick(PLANS) };
          case 2:
            return { 'metadata[role]': pick(['owner', 'admin', 'member', 'viewer']) };
          default:
            return { 'metadata[request_id]': pick(data.requestIds) };
        }
      },
    },
    {
      name: 'q (free text)',
      target: 50,
      make: () => {
        const event = like.next();
        const terms = [
          () => pick(FIRST_NAMES).toLowerCase(),
          () => pick(LAST_NAMES).toLowerCase(),
          () => (event.actor.name ?? '').toLowerCase(),
          () => targetAt(Math.floor(r() * TARGET_COUNT)).id,
          () => event.action,
          () => event.context.location,
        ];
        return { q: pick(terms)() };
      },
    },
    { name: 'range (1 day)', target: 50, make: () => window(1) },
    { name: 'range (7 days)', target: 50, make: () => window(7) },
    {
      name: 'actions + 30 days',
      target: 50,
      make: () => ({ actions: either(() => pick(ACTIONS), () => like.next().action), ...window(30) }),
    },
  ];
}

function pathOf(organizationId: string, query: Query): string {
  const params = new URLSearchParams({ organization_id: organizationId, limit: '10' });
  for (const [key, value] of Object.entries(query)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return `/audit_logs/events?${params.toString()}`;
}

export interface SearchResult {
  kind: QueryKind;
  load: LoadResult;
}

/** One connection per kind: the latency a person waiting on a page sees. */
export async function measureSearches(server: VerityServer, organizationId: string, data: LoadedData): Promise<SearchResult[]> {
  const results: SearchResult[] = [];
  for (const kind of queryKinds(data, 1000)) {
    const sample = await server.api<{ data: unknown[] }>('GET', pathOf(organizationId, kind.make()));
    const load = await runLoad({
      url: server.url,
      connections: 1,
      seconds: settings.searchSeconds,
      warmupSeconds: 0,
      method: 'GET',
      headers: { authorization: `Bearer ${BENCH_KEY}` },
      next: () => ({ path: pathOf(organizationId, kind.make()) }),
    });
    log(`  ${kind.name.padEnd(22)} ${load.count} requests  p50 ${fmtMs(load.p50)}  p95 ${fmtMs(load.p95)}  p99 ${fmtMs(load.p99)}  (sample page: ${sample.data.length} events)`);
    results.push({ kind, load });
  }
  return results;
}

/** The first page under concurrent readers: requests per second. */
export async function measureSearchThroughput(server: VerityServer, organizationId: string): Promise<LoadResult> {
  log(`search throughput: first page, ${settings.searchConnections} connections, ${settings.searchSeconds} s`);
  return runLoad({
    url: server.url,
    connections: settings.searchConnections,
    seconds: settings.searchSeconds,
    warmupSeconds: 1,
    method: 'GET',
    headers: { authorization: `Bearer ${BENCH_KEY}` },
    next: () => ({ path: pathOf(organizationId, {}) }),
  });
}

/** The SQL the server runs for a query string: built by the server's own parser and SQL builder. */
async function serverSql(organizationId: string, query: Query): Promise<{ sql: string; params: unknown[] }> {
  const raw: Record<string, unknown> = { organization_id: organizationId, limit: 10, ...query };
  const filters = parseEventFilters(raw);
  const page = pageParams({ limit: 10, ...(typeof query.after === 'string' ? { after: query.after } : {}) });
  const { cursor, op } = cursorOf(page);
  let captured: { sql: string; params: unknown[] } | undefined;
  const capture: Queryable = {
    query: async <Row>(sql: string, params: readonly unknown[] = []) => {
      captured = { sql, params: [...params] };
      return [] as Row[];
    },
    exec: async () => undefined,
  };
  await selectEventPage(capture, filters, cursor, op, scanOrder(page), page.limit + 1);
  if (captured === undefined) throw new Error('selectEventPage ran no query');
  return captured;
}

export interface PlanSummary {
  kind: string;
  samples: number;
  medianMs: number;
  maxMs: number;
  slowestQuery: string;
  slowestShape: string;
  slowestBuffers: string;
}

const PLAN_SAMPLES = 20;

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the server's exact SQL for sampled queries of each kind (the same value
 * stream the HTTP run used); writes the slowest and the median plan of each kind to bench/results/plans.txt.
 */
export async function explainSearches(databaseUrl: string, organizationId: string, data: LoadedData): Promise<{ file: string; summaries: PlanSummary[] }> {
  const out: string[] = [`EXPLAIN (ANALYZE, BUFFERS) of GET /audit_logs/events, ${data.events.toLocaleString('en-US')} events in one organization`, `generated ${new Date().toISOString()}`, ''];
  const summaries: PlanSummary[] = [];
  await withClient(databaseUrl, async (client: pg.Client) => {
    for (const kind of queryKinds(data, 1000)) {
      const plans: { ms: number; query: Query; sql: string; params: unknown[]; text: string }[] = [];
      const deadline = Date.now() + 15_000;
      for (let i = 0; i < PLAN_SAMPLES && Date.now() < deadline; i++) {
        const query = kind.make();
        const { sql, params } = await serverSql(organizationId, query);
        const result = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql}`, params);
        const text = result.rows.map((row) => row['QUERY PLAN']).join('\n');
        const ms = Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? Number.NaN);
        plans.push({ ms, query, sql, params, text });
      }
      const sorted = [...plans].sort((a, b) => a.ms - b.ms);
      const slowest = sorted[sorted.length - 1];
      const median = sorted[Math.floor((sorted.length - 1) / 2)];
      if (slowest === undefined || median === undefined) continue;
      summaries.push({
        kind: kind.name,
        samples: plans.length,
        medianMs: median.ms,
        maxMs: slowest.ms,
        slowestQuery: describe(slowest.query),
        slowestShape: shapeOf(slowest.text),
        slowestBuffers: /Buffers: ([^\n]+)/.exec(slowest.text)?.[1] ?? '',
      });
      out.push('='.repeat(100), `${kind.name}: ${plans.length} samples, execution median ${median.ms.toFixed(2)} ms, max ${slowest.ms.toFixed(2)} ms`, '='.repeat(100));
      const show = slowest === median ? [['slowest', slowest] as const] : ([['slowest', slowest], ['median', median]] as const);
      for (const [label, plan] of show) {
        out.push(`-- ${label}: ${describe(plan.query)}`, plan.sql.replace(/\s+/g, ' '), `-- params: ${JSON.stringify(plan.params)}`, plan.text, '');
      }
    }
  });
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'plans.txt');
  writeFileSync(file, `${out.join('\n')}\n`);
  return { file, summaries };
}

function describe(query: Query): string {
  const entries = Object.entries(query);
  return entries.length === 0 ? '(no filter)' : entries.map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`).join('&');
}

/** "Limit → Sort → Bitmap Heap Scan on events e → Bitmap Index Scan on events_org_tags_idx" */
function shapeOf(plan: string): string {
  const nodes: string[] = [];
  for (const line of plan.split('\n')) {
    const match = /^\s*(?:->\s+)?([A-Z][A-Za-z ]+?(?: using \S+)?(?: on \S+(?: \S+)?)?)\s+\(cost=/.exec(line);
    if (match?.[1] !== undefined) nodes.push(match[1].replace(/ on events e$/, '').replace(/ on events c$/, ' (cursor)'));
  }
  return nodes.slice(0, 6).join(' → ');
}
