import { Type, type Static } from 'typebox';
import { AppError } from '../errors/app-error.js';
import { isIdOf, type IdKind } from './ids.js';
import { StringEnum } from './string-enum.js';

/** WorkOS list query parameters. */
export const PageQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
  order: Type.Optional(StringEnum(['asc', 'desc', 'normal'])),
  before: Type.Optional(Type.String({ maxLength: 200 })),
  after: Type.Optional(Type.String({ maxLength: 200 })),
});
export type PageQuery = Static<typeof PageQuerySchema>;

export interface PageParams {
  limit: number;
  order: 'asc' | 'desc';
  before: string | undefined;
  after: string | undefined;
}

export interface List<T> {
  object: 'list';
  data: T[];
  list_metadata: { before: string | null; after: string | null };
}

export function pageParams(query: PageQuery): PageParams {
  if (query.before !== undefined && query.after !== undefined) {
    throw new AppError('invalid_query', 'Pass either before or after, not both.');
  }
  return {
    limit: query.limit ?? 10,
    // WorkOS's "normal" is its default order: newest first.
    order: query.order === 'asc' ? 'asc' : 'desc',
    before: query.before,
    after: query.after,
  };
}

/** The order to read rows in: paging backwards (`before`) reads against the list order. */
export function scanOrder(page: PageParams): 'asc' | 'desc' {
  if (page.before === undefined) return page.order;
  return page.order === 'asc' ? 'desc' : 'asc';
}

/** The cursor to continue from, and the comparison that reads past it in scan order. */
export function cursorOf(page: PageParams): { cursor: string | undefined; op: '<' | '>' } {
  return { cursor: page.before ?? page.after, op: scanOrder(page) === 'desc' ? '<' : '>' };
}

/**
 * cursorOf for a list ordered by its ids: a cursor not shaped like one of them is refused (400). An id that
 * no longer exists (deleted meanwhile) still places the page, since ids sort by creation; but a mistyped
 * one would silently answer the first page again or an empty one, which reads as the end of the list.
 */
export function idCursorOf(page: PageParams, kind: IdKind, noun: string): { cursor: string | undefined; op: '<' | '>' } {
  const found = cursorOf(page);
  if (found.cursor !== undefined && !isIdOf(kind, found.cursor)) {
    throw new AppError('invalid_query', `Unknown cursor '${found.cursor}': ${page.before !== undefined ? 'before' : 'after'} takes ${noun} id, as list_metadata gives it.`);
  }
  return found;
}

/**
 * cursorOf for a list keyed by a whole number (a schema version, a delivery id), which list_metadata gives
 * as digits: anything else is refused (400), since Number() would take '1e300', '0x10' or '' and the
 * database would then fail or read a wrong position.
 */
export function numberCursorOf(page: PageParams, noun: string, maxDigits = 15): { cursor: number | undefined; op: '<' | '>' } {
  const { cursor, op } = cursorOf(page);
  if (cursor === undefined) return { cursor: undefined, op };
  if (!new RegExp(`^\\d{1,${maxDigits}}$`).test(cursor)) {
    throw new AppError('invalid_query', `Unknown cursor '${cursor}': ${page.before !== undefined ? 'before' : 'after'} takes ${noun}, as list_metadata gives it.`);
  }
  return { cursor: Number(cursor), op };
}

/** Builds the WorkOS list body from rows read in scan order, limit + 1 of them to learn whether more exist. */
export function toList<Row, Item>(rows: Row[], page: PageParams, idOf: (row: Row) => string, view: (row: Row) => Item): List<Item> {
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (page.before !== undefined) pageRows.reverse();
  const first = pageRows[0];
  const last = pageRows[pageRows.length - 1];
  const firstId = first === undefined ? null : idOf(first);
  const lastId = last === undefined ? null : idOf(last);
  let before: string | null = null;
  let after: string | null = null;
  if (page.before !== undefined) {
    before = hasMore ? firstId : null;
    after = lastId;
  } else {
    before = page.after !== undefined ? firstId : null;
    after = hasMore ? lastId : null;
  }
  return { object: 'list', data: pageRows.map(view), list_metadata: { before, after } };
}
