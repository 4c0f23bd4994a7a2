import { createTable, type ColumnDef, type RowModel, type TableOptions, type Updater } from '@tanstack/react-table';
import { describe, expect, it } from 'vitest';
import { dataTableOptions } from './data-table-options';

interface Row {
  id: string;
}

const columns: ColumnDef<Row, unknown>[] = [{ id: 'id', header: 'ID', accessorFn: (row) => row.id }];

/**
 * What useReactTable does on each render of DataTable, without React or a DOM: it hands the table that
 * render's options and reads the row model. Every state change the table asks for is recorded, as React
 * would re-render for it. TanStack Table queues its automatic resets in microtasks, hence the flushes.
 */
function mountTable(first: TableOptions<Row>) {
  const changes: Updater<unknown>[] = [];
  const table = createTable<Row>({ state: {}, onStateChange: () => undefined, renderFallbackValue: null, ...first });
  const state = table.initialState;
  const render = (options: TableOptions<Row>): RowModel<Row> => {
    table.setOptions((previous) => ({ ...previous, ...options, state: { ...state, ...options.state }, onStateChange: (updater) => changes.push(updater) }));
    return table.getRowModel();
  };
  return { changes, render };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

const input = (data: Row[] | undefined) => ({ data, columns, sorting: [], onSortingChange: () => undefined, sortable: false });

describe('the options DataTable renders its table with', () => {
  it('re-rendering while the data loads asks for no state change (which would re-render it, endlessly)', async () => {
    const { changes, render } = mountTable(dataTableOptions(input(undefined)));
    const models = [];
    for (let i = 0; i < 4; i++) {
      models.push(render(dataTableOptions(input(undefined))));
      await flush();
    }
    expect(changes).toEqual([]);
    // The same empty rows each render, so the row model is not even rebuilt.
    expect(new Set(models).size).toBe(1);
  });

  it('a caller passing a new array each render still asks for no state change', async () => {
    const { changes, render } = mountTable(dataTableOptions(input([{ id: 'a' }])));
    for (let i = 0; i < 4; i++) {
      expect(render(dataTableOptions(input([{ id: 'a' }, { id: 'b' }]))).rows.map((row) => row.original.id)).toEqual(['a', 'b']);
      await flush();
    }
    expect(changes).toEqual([]);
  });
});
