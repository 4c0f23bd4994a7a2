import type { Db } from '../../src/db/db.js';
import type { AuditEvent } from '../../src/ingest/event.schema.js';
import { chainHash, GENESIS_HASH } from '../../src/ingest/hash.js';

/** Re-walks an organization's stored chain independently of the server's own code paths. */
export async function verifyChain(db: Db, organizationId: string): Promise<{ valid: boolean; checked: number; firstBadSeq?: number }> {
  const rows = await db.query<{ seq: number; data: AuditEvent; prev_hash: string; hash: string }>(
    'select seq, data, prev_hash, hash from events where organization_id = $1 order by seq',
    [organizationId],
  );
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const row of rows) {
    if (row.seq !== expectedSeq || row.prev_hash !== prev || chainHash(prev, row.data) !== row.hash) {
      return { valid: false, checked: expectedSeq - 1, firstBadSeq: row.seq };
    }
    prev = row.hash;
    expectedSeq += 1;
  }
  return { valid: true, checked: rows.length };
}
