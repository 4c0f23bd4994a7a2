import { GENESIS_HASH } from '../src/ingest/hash.js';
import { EventGenerator } from './lib/events.js';
import { createScratchDatabase, dropScratchDatabase, migrateDatabase, withClient } from './lib/pg.js';
import { cpuProbe, type CpuUsage } from './lib/proc.js';
import { log } from './lib/report.js';
import { chunked, copyLines } from './lib/bulk-load.js';
import { ChainWriter } from './lib/rows.js';
import { settings } from './lib/settings.js';

// Moved to lib/bulk-load.ts (the loaders share them); re-exported for the suites that import them from here.
export { chunked, copyLines } from './lib/bulk-load.js';

export interface CopyResult {
  rows: number;
  seconds: number;
  rate: number;
  cpu: CpuUsage;
}

/**
 * Storage ceiling: the same rows ingest would write (built with the server's prepareEvent and chainHash),
 * generated beforehand, then COPYed into a freshly migrated `events` table with all its indexes. Only the
 * COPY is timed.
 */
export async function measureCopyCeiling(): Promise<CopyResult> {
  const db = await createScratchDatabase('copy');
  try {
    await migrateDatabase(db.url);
    const rows = settings.copyRows;
    log(`storage ceiling: generating ${rows.toLocaleString('en-US')} event rows (not timed)`);
    const generator = new EventGenerator({ seed: 2 });
    const writer = new ChainWriter('org_copy_ceiling', { seq: 0, hash: GENESIS_HASH });
    const lines = function* (): Generator<string> {
      for (let i = 0; i < rows; i++) yield writer.line(generator.next());
    };
    const chunks = [...chunked(lines())];
    log(`storage ceiling: COPY into events (${db.name}, all indexes of migrations/)`);
    return await withClient(db.url, async (client) => {
      const started = performance.now();
      const cpu = cpuProbe({});
      await copyLines(client, chunks);
      const seconds = (performance.now() - started) / 1000;
      return { rows, seconds, rate: rows / seconds, cpu: cpu() };
    });
  } finally {
    await dropScratchDatabase(db.name);
  }
}
