import type { Db, Queryable } from '../db/db.js';
import { sqlLiteral, type SqlLiteralValue } from '../db/sql-literal.js';
import { metadataTag } from '../ingest/prepare.js';
import type { EventRow } from '../query/query.sql.js';
import type { ExportFilters, ExportFormat, ExportState } from './export.schema.js';
import { searchTerms } from '../query/query.filters.js';
import { likePattern } from '../query/query.sql.js';

/** An event as an NDJSON export reads it. */
export type ExportChunkRow = Pick<EventRow, 'seq' | 'data' | 'hash' | 'received_at' | 'prev_hash'>;

export interface ExportRow {
  id: string;
  organization_id: string;
  state: ExportState;
  format: ExportFormat;
  gzip: boolean;
  filters: ExportFilters;
  rows_written: number;
  rows_total: number | null;
  bytes: number | null;
  location: string | null;
  error: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
}

const EXPORT_COLUMNS = `id, organization_id, state, format, gzip, filters, rows_written, rows_total, bytes, location, error,
  created_by, created_at, updated_at, expires_at`;

export async function organizationExists(db: Queryable, organizationId: string): Promise<boolean> {
  return (await db.query('select 1 from organizations where id = $1', [organizationId])).length > 0;
}

export async function insertExport(
  db: Queryable,
  row: { id: string; organizationId: string; format: ExportFormat; gzip: boolean; filters: ExportFilters; createdBy: string; ttlHours: number },
): Promise<ExportRow> {
  const rows = await db.query<ExportRow>(
    `insert into exports (id, organization_id, state, format, gzip, filters, created_by, expires_at)
     values ($1, $2, 'pending', $3, $4, $5::jsonb, $6, now() + make_interval(hours => $7))
     returning ${EXPORT_COLUMNS}`,
    [row.id, row.organizationId, row.format, row.gzip, JSON.stringify(row.filters), row.createdBy, row.ttlHours],
  );
  const inserted = rows[0];
  if (inserted === undefined) throw new Error(`inserting export ${row.id} returned no row`);
  return inserted;
}

export async function selectExport(db: Queryable, id: string): Promise<ExportRow | undefined> {
  return (await db.query<ExportRow>(`select ${EXPORT_COLUMNS} from exports where id = $1`, [id]))[0];
}

/**
 * The export unless it has expired: an expired one is gone to its readers at once, whenever the cleanup
 * gets to its row and file.
 */
export async function selectLiveExport(db: Queryable, id: string): Promise<ExportRow | undefined> {
  return (await db.query<ExportRow>(`select ${EXPORT_COLUMNS} from exports where id = $1 and expires_at > now()`, [id]))[0];
}

/**
 * One page of unexpired exports, for one organization or (null) all, in id order: ids are ULIDs, so that
 * is creation order, and the id is the cursor as in every other list.
 */
export async function selectExportPage(
  db: Queryable,
  organizationId: string | null,
  cursor: string | undefined,
  op: '<' | '>',
  order: 'asc' | 'desc',
  limit: number,
): Promise<ExportRow[]> {
  return db.query<ExportRow>(
    `select ${EXPORT_COLUMNS} from exports
     where ($1::text is null or organization_id = $1) and expires_at > now() and ($2::text is null or id ${op} $2)
     order by id ${order} limit $3`,
    [organizationId, cursor ?? null, limit],
  );
}

/** A (re)started run: progress from zero, with the total the filters match now. */
export async function startExportRun(db: Queryable, id: string, rowsTotal: number): Promise<void> {
  await db.query(
    `update exports set rows_written = 0, rows_total = $2, error = null, updated_at = now() where id = $1 and state = 'pending'`,
    [id, rowsTotal],
  );
}

export async function updateExportProgress(db: Queryable, id: string, rowsWritten: number): Promise<void> {
  await db.query(`update exports set rows_written = $2, updated_at = now() where id = $1 and state = 'pending'`, [id, rowsWritten]);
}

/** False when the export is gone (deleted or expired meanwhile): the caller removes the orphaned file. */
export async function markExportReady(db: Queryable, id: string, result: { rowsWritten: number; bytes: number; location: string }): Promise<boolean> {
  const rows = await db.query(
    `update exports set state = 'ready', rows_written = $2, bytes = $3, location = $4, error = null, updated_at = now()
     where id = $1 and state = 'pending' returning id`,
    [id, result.rowsWritten, result.bytes, result.location],
  );
  return rows.length > 0;
}

export async function markExportFailed(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(`update exports set state = 'error', error = $2, updated_at = now() where id = $1 and state = 'pending'`, [id, error]);
}

/** Expired exports, oldest first (what names their files). */
export async function selectExpiredExports(db: Queryable, limit: number): Promise<Pick<ExportRow, 'id' | 'format' | 'gzip'>[]> {
  return db.query(`select id, format, gzip from exports where expires_at <= now() order by expires_at limit $1`, [limit]);
}

/** Every export of an organization (what names their files), expired or not. */
export async function selectExportFiles(db: Queryable, organizationId: string): Promise<Pick<ExportRow, 'id' | 'format' | 'gzip'>[]> {
  return db.query(`select id, format, gzip from exports where organization_id = $1`, [organizationId]);
}

/** Records files to remove once the transaction commits (migration 0013). */
export async function recordFileRemovals(tx: Queryable, organizationId: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await tx.query(
    `insert into export_file_removals (name, organization_id) select unnest($2::text[]), $1 on conflict (name) do nothing`,
    [organizationId, names],
  );
}

/** Files still to remove, by name after `after` (keyset pagination: one that keeps failing holds up no other). */
export async function selectFileRemovals(db: Queryable, after: string, limit: number): Promise<{ name: string; organization_id: string }[]> {
  return db.query(`select name, organization_id from export_file_removals where name > $1 order by name limit $2`, [after, limit]);
}

/** Storage confirmed these files are gone. */
export async function deleteFileRemovals(db: Queryable, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await db.query('delete from export_file_removals where name = any($1::text[])', [names]);
}

export async function deleteExport(db: Queryable, id: string): Promise<void> {
  await db.query('delete from exports where id = $1', [id]);
}

/**
 * The WHERE clause of one export's filters; `e` is the events table. `bind` turns each value into SQL: a
 * `$n` placeholder for a query, a literal for COPY (which takes no parameters).
 */
function filterClause(organizationId: string, filters: ExportFilters, bind: (value: SqlLiteralValue) => string): string[] {
  const where = [
    `e.organization_id = ${bind(organizationId)}`,
    `e.occurred_at >= ${bind(filters.range_start)}::timestamptz`,
    `e.occurred_at < ${bind(filters.range_end)}::timestamptz`,
  ];
  if (filters.actions.length > 0) where.push(`e.action = any(${bind(filters.actions)}::text[])`);
  if (filters.actor_ids.length > 0) where.push(`e.actor_id = any(${bind(filters.actor_ids)}::text[])`);
  // The same tags (and so the same GIN index and semantics) as search: values OR within a filter.
  const tagFilters = [
    filters.actor_names.map((name) => `an:${name}`),
    filters.target_types.map((type) => `tty:${type}`),
    (filters.target_ids ?? []).map((id) => `tid:${id}`),
    ...Object.entries(filters.metadata).map(([key, values]) => values.map((value) => metadataTag(key, value))),
  ];
  for (const tags of tagFilters) if (tags.length > 0) where.push(`e.tags && ${bind(tags)}::text[]`);
  for (const term of searchTerms(filters.q)) where.push(`e.search_text like ${bind(likePattern(term))}`);
  return where;
}

/** filterClause with its values as `$n` parameters. */
function boundFilterClause(organizationId: string, filters: ExportFilters): { where: string[]; params: unknown[] } {
  const params: unknown[] = [];
  const where = filterClause(organizationId, filters, (value) => {
    params.push(value);
    return `$${params.length}`;
  });
  return { where, params };
}

/**
 * How many events match, and the lowest and highest sequence numbers among them. The export reads that
 * span of the log only: a narrow time range of a long log is not walked from its start, and the file is a
 * snapshot of the log as it stood when the run began (backdated events ingested meanwhile are left out
 * rather than making the total a moving target).
 */
export async function countExportEvents(
  db: Db,
  organizationId: string,
  filters: ExportFilters,
): Promise<{ total: number; minSeq: number; maxSeq: number }> {
  const { where, params } = boundFilterClause(organizationId, filters);
  const rows = await db.transaction(async (tx) => {
    await tx.query(`select set_config('jit', 'off', true)`);
    return tx.query<{ total: number; min_seq: number | null; max_seq: number | null }>(
      `select count(*)::int8 as total, min(e.seq) as min_seq, max(e.seq) as max_seq from events e where ${where.join(' and ')}`,
      params,
    );
  });
  return { total: Number(rows[0]?.total ?? 0), minSeq: Number(rows[0]?.min_seq ?? 1), maxSeq: Number(rows[0]?.max_seq ?? 0) };
}

/**
 * A text cell of the CSV: a value starting with = + - @ tab or CR (or the full-width ＝ ＋ － ＠) gets a
 * leading ' so spreadsheets show it rather than evaluate it (OWASP "CSV injection"); an empty string is
 * written as NULL, which COPY leaves an empty unquoted field (it would quote a non-null one as "").
 * Numbers (version, seq) are not passed through this: -1 stays -1. `column` names a field of the document
 * subquery (CSV_FIELDS), so naming it several times here costs nothing.
 */
function textCell(column: string): string {
  const value = `f.${column}`;
  // ascii() gives the first code point only in a UTF-8 database, so the full-width forms are matched as
  // byte prefixes (starts_with), which holds in any encoding.
  return `case when ascii(${value}) in (61, 43, 45, 64, 9, 13)
      or (ascii(${value}) > 127 and (starts_with(${value}, '＝') or starts_with(${value}, '＋')
        or starts_with(${value}, '－') or starts_with(${value}, '＠')))
    then '''' || ${value} else nullif(${value}, '') end`;
}

/** An object field of the document: its JSON, {} when absent or null. */
function objectField(expression: string): string {
  return `coalesce(nullif((${expression})::text, 'null'), '{}')`;
}

/**
 * The targets' `key`s joined with commas, in order; a target without one contributes an empty string, as
 * the API's join would. Events with one or two targets (nearly all) are read by index: unnesting the array
 * in a subquery for every row cost PostgreSQL a sixth of the whole COPY.
 */
function targetsJoined(key: 'id' | 'type'): string {
  const at = (i: number): string => `coalesce(e.data#>>'{targets,${i},${key}}', '')`;
  return `case jsonb_array_length(e.data->'targets') when 0 then null when 1 then ${at(0)} when 2 then ${at(0)} || ',' || ${at(1)}
    else (select string_agg(coalesce(target->>'${key}', ''), ',') from jsonb_array_elements(e.data->'targets') target) end`;
}

/**
 * Every field of the CSV, each looked up in the stored document once. Every field comes from the document
 * (not from the index columns beside it), so the file shows exactly what was hashed.
 */
const CSV_FIELDS = `e.data->>'id' as id, e.data->>'organization_id' as organization_id, e.data->>'occurred_at' as occurred_at,
  e.data->>'action' as action, e.data->>'version' as version,
  e.data#>>'{actor,id}' as actor_id, e.data#>>'{actor,type}' as actor_type, e.data#>>'{actor,name}' as actor_name,
  ${objectField("e.data#>'{actor,metadata}'")} as actor_metadata, (e.data->'targets')::text as targets,
  ${targetsJoined('id')} as target_ids, ${targetsJoined('type')} as target_types,
  e.data#>>'{context,location}' as context_location, e.data#>>'{context,user_agent}' as context_user_agent,
  ${objectField("e.data->'metadata'")} as metadata, e.seq, e.hash`;

/**
 * The CSV columns (CSV_COLUMNS, in order), for COPY … (FORMAT csv): PostgreSQL quotes per RFC 4180 (a
 * field holding a comma, quote, CR or LF is quoted, quotes doubled) and writes JSON columns as jsonb text.
 */
const CSV_CELLS = `${['id', 'organization_id', 'occurred_at', 'action'].map(textCell).join(', ')}, f.version,
  ${['actor_id', 'actor_type', 'actor_name'].map(textCell).join(', ')}, f.actor_metadata, f.targets,
  ${['target_ids', 'target_types', 'context_location', 'context_user_agent'].map(textCell).join(', ')}, f.metadata, f.seq, f.hash`;

/**
 * The query whose COPY (FORMAT csv) is the CSV of the matching events with seq in (afterSeq, toSeq], in
 * log order. Its values are literals (COPY takes no parameters). Run with CSV_COPY_SETTINGS.
 *
 * The fields are read in a subquery that `offset 0` keeps PostgreSQL from merging into the outer select:
 * merged, every mention of a field in a cell's checks looks it up in the document again (three per text
 * cell). Measured on 1,000,000 bench events, COPY to /dev/null on one backend: 9.3 s with both merged and
 * the targets unnested for every row, 6.7 s now.
 */
export function csvWindowQuery(organizationId: string, filters: ExportFilters, afterSeq: number, toSeq: number): string {
  const where = filterClause(organizationId, filters, sqlLiteral);
  return `select ${CSV_CELLS} from (
    select ${CSV_FIELDS} from events e
    where ${where.join(' and ')} and e.seq > ${sqlLiteral(afterSeq)} and e.seq <= ${sqlLiteral(toSeq)}
    order by e.seq offset 0
  ) f order by f.seq`;
}

/**
 * A plan that reads the primary key in order, never a sort (see selectExportChunk); and no JIT compilation:
 * each window's plan would be compiled anew, which cost more than it saved (every 20,000-event window of a
 * 1,000,000-event export compiled its own; the count before them took 1.2-1.6 s in the server with JIT,
 * 0.9-1.2 s without, and 0.6-0.7 s alone without, its parallel workers each compiling again).
 */
export const CSV_COPY_SETTINGS = { enable_sort: 'off', jit: 'off' } as const;

/**
 * One chunk of an NDJSON export: matching events with their chain fields, in log order, after `afterSeq`
 * (keyset pagination on the primary key (organization_id, seq)): each chunk is one short query, so memory
 * stays constant and no transaction or cursor is held open for the length of the export. Runs identically
 * on PostgreSQL and PGlite.
 *
 * Sorting is switched off for the statement because without table statistics (PGlite never runs
 * autovacuum; PostgreSQL right after a bulk load) the planner takes the time-range index and sorts the
 * whole range for every chunk, which makes an export quadratic. Reading the primary key in order needs no
 * sort, so it is the plan left; with `maxSeq` bounding it, it never walks past the last matching event.
 */
export async function selectExportChunk(
  db: Db,
  organizationId: string,
  filters: ExportFilters,
  afterSeq: number,
  maxSeq: number,
  limit: number,
): Promise<ExportChunkRow[]> {
  const { where, params } = boundFilterClause(organizationId, filters);
  params.push(afterSeq, maxSeq, limit);
  const n = params.length;
  return db.transaction(async (tx) => {
    await tx.query('set local enable_sort = off');
    return tx.query<ExportChunkRow>(
      `select e.seq, e.received_at, e.data, e.prev_hash, e.hash from events e
       where ${where.join(' and ')} and e.seq > $${n - 2} and e.seq <= $${n - 1}
       order by e.seq limit $${n}`,
      params,
    );
  });
}
