import type { Queryable } from '../db/db.js';
import type { CheckpointView } from './checkpoint.js';
import type { SignedExportStatement } from './export-statement.js';
import {
  selectCheckpointAfter,
  selectCheckpointsBetween,
  selectRangesOverlapping,
  selectRunEndingAt,
  type CheckpointRow,
} from './integrity.sql.js';

/**
 * The integrity lines of an NDJSON export, written after its event lines (one JSON object per line).
 * `verity verify` reads them; nothing else is needed besides the server's public key.
 */
export type TrailerLine = CheckpointView | PurgedRangeLine | ExportRangeLine | SignedExportStatement;

/**
 * Seqs first_seq..last_seq were deleted by retention; last_hash is the hash of the last of them. Signed by
 * the server that purged them (range-signature.ts); exports made before ranges were signed lack the three
 * signature fields.
 */
export interface PurgedRangeLine {
  object: 'audit_log_purged_range';
  organization_id: string;
  first_seq: number;
  last_seq: number;
  last_hash: string;
  purged_at?: string;
  key_id?: string;
  signature?: string;
}

/**
 * What the export spans (written by exports made before the signed statement replaced it; still read). `complete: true` states the file holds every stored event with a seq in
 * first_seq..last_seq (no filter left one out), so a missing seq there is a deletion, not a filter.
 */
export interface ExportRangeLine {
  object: 'audit_log_export_range';
  organization_id: string;
  first_seq: number;
  last_seq: number;
  complete: boolean;
}

export function checkpointView(row: CheckpointRow): CheckpointView {
  return {
    object: 'audit_log_checkpoint',
    organization_id: row.organization_id,
    seq: row.seq,
    hash: row.hash,
    created_at: row.created_at.toISOString(),
    key_id: row.key_id,
    signature: row.signature,
  };
}

const PAGE = 1_000;

/**
 * Yields the trailer for an export of `organizationId`'s events with seqs in fromSeq..toSeq:
 * - every purged range inside the span, and the run of adjacent ranges ending right before fromSeq (it
 *   anchors the first exported event's prev_hash; when it starts at seq 1 the export is complete from the
 *   log's beginning);
 * - every stored checkpoint with a seq in the span, and the first one after it when none sits at toSeq.
 * (The signed export statement that ends the file comes from IntegrityService.exportTrailer.)
 * Reads page by page: memory stays flat however many checkpoints the span holds.
 */
export async function* integrityTrailer(
  db: Queryable,
  organizationId: string,
  fromSeq: number,
  toSeq: number,
): AsyncGenerator<Record<string, unknown>> {
  const before = fromSeq > 1 ? await selectRunEndingAt(db, organizationId, fromSeq - 1) : [];
  for (const range of [...before, ...(await selectRangesOverlapping(db, organizationId, fromSeq, toSeq))]) {
    const line: PurgedRangeLine = {
      object: 'audit_log_purged_range',
      organization_id: organizationId,
      first_seq: range.first_seq,
      last_seq: range.last_seq,
      last_hash: range.last_hash,
      ...(range.key_id === null || range.signature === null ? {} : { purged_at: range.purged_at.toISOString(), key_id: range.key_id, signature: range.signature }),
    };
    yield { ...line };
  }
  let after = fromSeq - 1;
  let atEnd = false;
  for (;;) {
    const page = await selectCheckpointsBetween(db, organizationId, after + 1, toSeq, PAGE);
    for (const row of page) {
      if (row.seq === toSeq) atEnd = true;
      yield { ...checkpointView(row) };
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < PAGE) break;
    after = last.seq;
  }
  if (!atEnd) {
    const next = await selectCheckpointAfter(db, organizationId, toSeq);
    if (next !== undefined) yield { ...checkpointView(next) };
  }
}
