import { getCoreRowModel, getSortedRowModel, type ColumnDef, type OnChangeFn, type SortingState, type TableOptions } from '@tanstack/react-table';

/**
 * The rows of a table whose data has not arrived. One shared array, never `data ?? []`: TanStack Table
 * rebuilds its row model, and (with page-index auto-reset on) schedules a state update, whenever the data
 * array changes identity, so a fresh `[]` on every render made every render ask for another. A table that
 * re-rendered while its query loaded (the API keys page after "Show revoked", whose new query key starts
 * with no data) looped forever; begun by a click, React ran those updates synchronously and froze the tab.
 */
const NO_ROWS: never[] = [];

export interface DataTableOptionsInput<T> {
  data: T[] | undefined;
  columns: ColumnDef<T, unknown>[];
  sorting: SortingState;
  onSortingChange: OnChangeFn<SortingState>;
  sortable: boolean;
  getRowId?: (row: T) => string;
}

/** The options DataTable gives useReactTable on each render (apart so they can be tested without a DOM). */
export function dataTableOptions<T>({ data, columns, sorting, onSortingChange, sortable, getRowId }: DataTableOptionsInput<T>): TableOptions<T> {
  return {
    data: data ?? NO_ROWS,
    columns,
    state: { sorting },
    onSortingChange,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: sortable ? getSortedRowModel() : undefined,
    enableSorting: sortable,
    // These tables do not paginate, so a page index to reset is only a state update per data change, and
    // a caller passing a new array each render (e.g. `items.filter(…)`) would loop as above.
    autoResetPageIndex: false,
    getRowId,
  };
}
