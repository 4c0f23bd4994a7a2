import { flexRender, useReactTable, type ColumnDef, type RowData, type SortingState } from '@tanstack/react-table';
import { ArrowDown, ArrowUp } from 'lucide-react';
import { useState, type KeyboardEvent, type ReactNode } from 'react';
import { dataTableOptions } from './data-table-options';
import { SkeletonRows } from './states';

declare module '@tanstack/react-table' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the augmented interface must keep TanStack's type parameters
  interface ColumnMeta<TData extends RowData, TValue> {
    className?: string;
    /** Column width (CSS), honoured exactly by tables with `fixed` layout. */
    width?: number | string;
  }
}

interface DataTableProps<T> {
  data: T[] | undefined;
  columns: ColumnDef<T, unknown>[];
  loading?: boolean;
  /** Shown instead of the body when there are no rows (and nothing is loading). */
  empty?: ReactNode;
  onRowClick?: (row: T) => void;
  rowLabel?: (row: T) => string;
  rowClassName?: (row: T) => string | undefined;
  getRowId?: (row: T) => string;
  sortable?: boolean;
  caption: string;
  footer?: ReactNode;
  /** Fixed layout: declared widths hold and long values are cut with an ellipsis instead of widening the table. */
  fixed?: boolean;
}

/**
 * The one table: TanStack Table for columns and sorting, semantic <table> markup, rows that open with
 * Enter/Space and move with the arrow keys when they are clickable.
 */
export function DataTable<T>({ data, columns, loading = false, empty, onRowClick, rowLabel, rowClassName, getRowId, sortable = false, caption, footer, fixed = false }: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const table = useReactTable(dataTableOptions({ data, columns, sorting, onSortingChange: setSorting, sortable, getRowId }));
  const rows = table.getRowModel().rows;
  const showEmpty = !loading && data !== undefined && rows.length === 0 && empty !== undefined;

  const onKeyDown = (event: KeyboardEvent<HTMLTableRowElement>, row: T) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onRowClick?.(row);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const sibling = event.key === 'ArrowDown' ? event.currentTarget.nextElementSibling : event.currentTarget.previousElementSibling;
      if (sibling instanceof HTMLElement) sibling.focus();
    }
  };

  return (
    <>
      <div className="table-wrap">
        <table className={fixed ? 'table table-fixed' : 'table'} aria-busy={loading || undefined}>
          <caption className="sr-only">{caption}</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const meta = header.column.columnDef.meta;
                  const sorted = header.column.getIsSorted();
                  return (
                    <th
                      key={header.id}
                      className={meta?.className}
                      style={meta?.width !== undefined ? { width: meta.width } : undefined}
                      aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                    >
                      {header.isPlaceholder ? null : header.column.getCanSort() ? (
                        <button type="button" className="sort-btn" onClick={header.column.getToggleSortingHandler()}>
                          {flexRender(header.column.columnDef.header, header.getContext())}
                          {sorted === 'asc' ? <ArrowUp aria-hidden="true" /> : sorted === 'desc' ? <ArrowDown aria-hidden="true" /> : null}
                        </button>
                      ) : (
                        flexRender(header.column.columnDef.header, header.getContext())
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {loading && rows.length === 0 ? (
              <SkeletonRows columns={columns.length} />
            ) : (
              rows.map((row) => (
                <tr
                  key={row.id}
                  className={[onRowClick ? 'clickable' : '', rowClassName?.(row.original) ?? ''].join(' ').trim() || undefined}
                  tabIndex={onRowClick ? 0 : undefined}
                  aria-label={onRowClick && rowLabel ? rowLabel(row.original) : undefined}
                  onClick={onRowClick ? () => onRowClick(row.original) : undefined}
                  onKeyDown={onRowClick ? (event) => onKeyDown(event, row.original) : undefined}
                >
                  {row.getVisibleCells().map((cell) => {
                    const meta = cell.column.columnDef.meta;
                    return (
                      <td key={cell.id} className={meta?.className}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    );
                  })}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      {showEmpty && empty}
      {footer}
    </>
  );
}
