import { describe, expect, it } from 'vitest';
import type { CsvCopy, Db, Queryable } from '../db/db.js';
import type { ExportFilters } from './export.schema.js';
import { openExportStream } from './export.service.js';

const FILTERS: ExportFilters = { range_start: '2026-01-01T00:00:00.000Z', range_end: '2027-01-01T00:00:00.000Z', actions: [], actor_ids: [], actor_names: [], target_types: [], metadata: {} };

/**
 * A PostgreSQL stand-in whose COPYs never end (a record per chunk, forever), counting how many were
 * started and how many were closed: a COPY left open would hold its pooled connection for good.
 */
function endlessCopies(): { db: Db; opened: () => number; closed: () => number } {
  let opened = 0;
  let closed = 0;
  const tx: Queryable = {
    query: async <Row>() => [{ total: 1_000_000, min_seq: 1, max_seq: 1_000_000 }] as Row[],
    exec: async () => {},
  };
  const copyCsv = (): CsvCopy => ({
    chunks: (async function* () {
      opened += 1;
      try {
        for (;;) yield Buffer.from('a,b\n');
      } finally {
        closed += 1;
      }
    })(),
    rows: () => 0,
  });
  const unused = async (): Promise<never> => {
    throw new Error('not used by a CSV export');
  };
  const db: Db = { kind: 'postgres', query: unused, exec: unused, transaction: async (fn) => fn(tx), copyCsv, listen: unused, close: async () => {} };
  return { db, opened: () => opened, closed: () => closed };
}

describe('CSV export stream', () => {
  it('closes every COPY it started, read ahead or being written, when its reader goes away', async () => {
    const { db, opened, closed } = endlessCopies();
    const { body, counted } = openExportStream(db, { id: null, organization_id: 'org_1', format: 'csv', filters: FILTERS }, { gzip: false, csvWindow: 10, csvBufferBytes: 64 }, async () => {});
    counted.catch(() => undefined);
    let seen = 0;
    for await (const chunk of body) {
      seen += (chunk as Buffer).length;
      if (seen > 4_096) break;
    }
    await expect.poll(() => closed(), { timeout: 2_000 }).toBe(opened());
    // The window being written and the two read ahead.
    expect(opened()).toBe(3);
  });
});
