import { createHash, type KeyObject } from 'node:crypto';
import { canonicalJson, GENESIS_HASH } from '../ingest/hash.js';
import { checkpointSignatureValid, type CheckpointView } from './checkpoint.js';
import { exportStatementValid, parseExportStatement, type SignedExportStatement } from './export-statement.js';
import type { ExportRangeLine, PurgedRangeLine } from './export-trailer.js';
import { purgedRangeSignatureValid, rangeStatement } from './range-signature.js';
import { keyIdOf, rawPublicKey } from './signing-key.js';

/**
 * Offline verification of an NDJSON export: only the file's lines and the server's public key(s).
 *
 * Event lines (`"object":"audit_log_event"`, in ascending seq order) carry the stored event plus object,
 * seq, hash, prev_hash and received_at; the hashed document is the line without those five fields, so each
 * event's hash is recomputed as SHA-256(prev_hash ‖ RFC 8785 JSON of the document). Events with
 * consecutive seqs must link (prev_hash = the previous hash); a skipped run of seqs is bridged by an
 * `audit_log_purged_range` line (the next prev_hash must be its last_hash), or else the export is not
 * contiguous (filtered): each event is still verified, but completeness cannot be proven. Checkpoint lines
 * must carry a valid Ed25519 signature and agree with the event (or purged run end) at their seq.
 * Completeness up to seq S is claimed only when the events are contiguous up to S and a verified
 * checkpoint at S matches.
 *
 * The file ends with the server's signed export statement (export-statement.ts): what was exported, whether
 * it is complete for its span, and a SHA-256 of every line before it. It is what makes unsigned lines
 * trustworthy — a purged-range line bridging deleted events, the completeness claim, a received_at — and
 * what makes a truncated or stripped file fail: without it, deletions cannot be told from a filter, so a
 * file without one is invalid unless `allowUnsigned` (exports made before statements existed).
 */

export type ProblemReason =
  | 'malformed_line'
  | 'mixed_organizations'
  | 'out_of_order'
  | 'hash_mismatch'
  | 'prev_hash_mismatch'
  | 'missing_event'
  | 'purged_range_mismatch'
  | 'purged_range_unsigned'
  | 'purged_range_signature_invalid'
  | 'purged_range_unknown_key'
  | 'checkpoint_signature_invalid'
  | 'checkpoint_unknown_key'
  | 'checkpoint_mismatch'
  | 'no_events'
  | 'unsigned_export'
  | 'statement_unknown_key'
  | 'statement_signature_invalid'
  | 'statement_mismatch'
  | 'lines_after_statement';

export interface Problem {
  reason: ProblemReason;
  /** 1-based line number in the file, when one line is to blame. */
  line?: number;
  seq?: number;
  message: string;
}

export interface OfflineReport {
  /** No event, link, purged range or checkpoint in the file is wrong. */
  valid: boolean;
  /** Completeness is proven from first_seq up to last_seq (contiguous and signed at last_seq). */
  complete: boolean;
  organization_id: string | null;
  events: number;
  first_seq: number | null;
  last_seq: number | null;
  /** No seq is skipped between first_seq and last_seq except purged runs declared in the file. */
  contiguous: boolean;
  /** first_seq is seq 1, or follows a purged run that starts at seq 1: nothing before it is missing. */
  from_log_start: boolean;
  /** The highest seq that a verified checkpoint matches with the events contiguous up to it. */
  signed_through: number | null;
  checkpoints: { total: number; verified: number; matched: number };
  purged_ranges: number;
  /** The signed export statement, when the file ends with one whose signature and digest verify. */
  statement: Pick<SignedExportStatement, 'export_id' | 'filters' | 'complete' | 'created_at' | 'key_id'> | null;
  problems: Problem[];
  notes: string[];
  /** One paragraph saying what was proven. */
  summary: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const MAX_PROBLEMS = 20;
/** Line fields that are not part of the hashed event document. */
const NOT_HASHED = new Set(['object', 'seq', 'hash', 'prev_hash', 'received_at']);

/** Growable seq → hash store, 40 bytes per event: enough to look up checkpoints after the events. */
class SeqHashes {
  private seqs = new Float64Array(1024);
  private hashes = new Uint8Array(1024 * 32);
  length = 0;

  push(seq: number, hash: string): void {
    if (this.length === this.seqs.length) {
      const seqs = new Float64Array(this.seqs.length * 2);
      seqs.set(this.seqs);
      this.seqs = seqs;
      const hashes = new Uint8Array(this.hashes.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.seqs[this.length] = seq;
    this.hashes.set(Buffer.from(hash, 'hex'), this.length * 32);
    this.length += 1;
  }

  /** The hash stored for seq (seqs ascend, so binary search), or undefined. */
  hashAt(seq: number): string | undefined {
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const value = this.seqs[mid] as number;
      if (value === seq) return Buffer.from(this.hashes.subarray(mid * 32, mid * 32 + 32)).toString('hex');
      if (value < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

interface Gap {
  /** Last event before the gap. */
  afterSeq: number;
  /** First event after the gap, its prev_hash and line. */
  beforeSeq: number;
  prevHash: string;
  line: number;
}

interface Located<T> {
  line: number;
  value: T;
}

/**
 * A file's lines as verifyExportLines takes them: split after each "\n" (kept), nothing else removed — a
 * "\r" stays in its line. Text after the last "\n" is a last line without one.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  // Each line is decoded on its own and strictly: replacing invalid UTF-8 with U+FFFD before hashing would
  // let different bytes hash alike.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (bytes: Buffer, line: number): string => {
    try {
      return decoder.decode(bytes);
    } catch {
      throw new InvalidExportFile(`line ${line} is not valid UTF-8`);
    }
  };
  let rest: Buffer = Buffer.alloc(0);
  let line = 0;
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    rest = rest.length === 0 ? bytes : Buffer.concat([rest, bytes]);
    let start = 0;
    for (let end = rest.indexOf(0x0a); end !== -1; end = rest.indexOf(0x0a, start)) {
      line += 1;
      yield decode(rest.subarray(start, end + 1), line);
      start = end + 1;
    }
    rest = rest.subarray(start);
  }
  if (rest.length > 0) yield decode(rest, line + 1);
}

/** A file that cannot be read as an export at all (not UTF-8): nothing in it can be checked. */
export class InvalidExportFile extends Error {}

export interface VerifyExportOptions {
  /** Accept a file without a signed export statement (made before Verity signed exports): events and checkpoints are still checked. */
  allowUnsigned?: boolean;
}

/**
 * Checks an NDJSON export given as its lines, each with the "\n" that ends it in the file (splitLines): the
 * signed statement's digest covers the bytes exactly, so a carriage return, a blank line or a missing final
 * newline is a change like any other.
 */
export async function verifyExportLines(lines: AsyncIterable<string>, publicKeys: readonly KeyObject[], options: VerifyExportOptions = {}): Promise<OfflineReport> {
  const keys = new Map(publicKeys.map((key) => [keyIdOf(rawPublicKey(key)), key]));
  const problems: Problem[] = [];
  const notes: string[] = [];
  const problem = (p: Problem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };

  const hashes = new SeqHashes();
  const gaps: Gap[] = [];
  const checkpoints: Located<CheckpointView>[] = [];
  const ranges: Located<PurgedRangeLine>[] = [];
  let scope: Located<ExportRangeLine> | undefined;
  let organizationId: string | null = null;
  let first: { seq: number; prevHash: string; line: number } | undefined;
  let lastSeq: number | null = null;
  let lastHash = '';
  let lineNo = 0;
  const ignored = new Map<string, number>();
  // Every line's bytes as the writer wrote them (UTF-8, "\n" after each), up to the signed statement.
  const digest = createHash('sha256');
  let signed: { line: number; value: SignedExportStatement; digest: string } | undefined;

  let statementEnded = true;
  for await (const raw of lines) {
    lineNo += 1;
    if (signed !== undefined) {
      problem({ reason: 'lines_after_statement', line: lineNo, message: `line ${lineNo} follows the signed export statement (line ${signed.line}), which does not cover it: bytes were appended` });
      continue;
    }
    const digestBefore = digest.copy();
    digest.update(raw);
    const terminated = raw.endsWith('\n');
    const text = terminated ? raw.slice(0, -1) : raw;
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      problem({ reason: 'malformed_line', line: lineNo, message: `line ${lineNo} is not JSON` });
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problem({ reason: 'malformed_line', line: lineNo, message: `line ${lineNo} is not a JSON object` });
      continue;
    }
    const record = parsed as Record<string, unknown>;
    const org = record.organization_id;
    if (typeof org === 'string' && ['audit_log_event', 'audit_log_checkpoint', 'audit_log_purged_range', 'audit_log_export_range', 'audit_log_export_statement'].includes(String(record.object))) {
      if (organizationId === null) organizationId = org;
      else if (org !== organizationId) {
        problem({ reason: 'mixed_organizations', line: lineNo, message: `line ${lineNo} belongs to organization ${org}, not ${organizationId}` });
        continue;
      }
    }
    switch (record.object) {
      case 'audit_log_event': {
        const { seq, hash, prev_hash: prevHash } = record;
        if (!isSeq(seq) || typeof hash !== 'string' || !HEX64.test(hash) || typeof prevHash !== 'string' || !HEX64.test(prevHash) || typeof org !== 'string') {
          problem({ reason: 'malformed_line', line: lineNo, message: `line ${lineNo}: an event line needs organization_id, a positive integer seq and 64-hex hash and prev_hash` });
          continue;
        }
        if (lastSeq !== null && seq <= lastSeq) {
          problem({
            reason: 'out_of_order',
            line: lineNo,
            seq,
            message: `line ${lineNo}: event seq ${seq} comes after seq ${lastSeq}; events must be in ascending seq order (lines reordered or duplicated)`,
          });
          continue;
        }
        const document: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(record)) if (!NOT_HASHED.has(key)) document[key] = value;
        let recomputed: string;
        try {
          recomputed = createHash('sha256').update(prevHash).update(canonicalJson(document)).digest('hex');
        } catch (error) {
          problem({ reason: 'malformed_line', line: lineNo, seq, message: `line ${lineNo}: event cannot be canonicalised (${error instanceof Error ? error.message : String(error)})` });
          continue;
        }
        if (recomputed !== hash) {
          problem({ reason: 'hash_mismatch', line: lineNo, seq, message: `line ${lineNo}: event seq ${seq} does not hash to its recorded hash (its content was changed)` });
        }
        if (lastSeq === null) first = { seq, prevHash, line: lineNo };
        else if (seq === lastSeq + 1) {
          if (prevHash !== lastHash) {
            problem({
              reason: 'prev_hash_mismatch',
              line: lineNo,
              seq,
              message: `line ${lineNo}: event seq ${seq} does not link to event seq ${lastSeq} (prev_hash differs: events replaced, reordered or rewritten)`,
            });
          }
        } else {
          gaps.push({ afterSeq: lastSeq, beforeSeq: seq, prevHash, line: lineNo });
        }
        hashes.push(seq, hash);
        lastSeq = seq;
        lastHash = hash;
        break;
      }
      case 'audit_log_checkpoint': {
        const { seq, hash, created_at: createdAt, key_id: keyId, signature } = record;
        if (!isSeq(seq) || typeof hash !== 'string' || typeof createdAt !== 'string' || typeof keyId !== 'string' || typeof signature !== 'string' || typeof org !== 'string') {
          problem({ reason: 'malformed_line', line: lineNo, message: `line ${lineNo}: a checkpoint line needs organization_id, seq, hash, created_at, key_id and signature` });
          continue;
        }
        checkpoints.push({ line: lineNo, value: { object: 'audit_log_checkpoint', organization_id: org, seq, hash, created_at: createdAt, key_id: keyId, signature } });
        break;
      }
      case 'audit_log_purged_range': {
        const { first_seq: firstSeq, last_seq: rangeLast, last_hash: rangeHash, purged_at: purgedAt, key_id: keyId, signature } = record;
        if (!isSeq(firstSeq) || !isSeq(rangeLast) || rangeLast < firstSeq || typeof rangeHash !== 'string' || !HEX64.test(rangeHash)) {
          problem({ reason: 'malformed_line', line: lineNo, message: `line ${lineNo}: a purged range line needs first_seq ≤ last_seq and a 64-hex last_hash` });
          continue;
        }
        const range: PurgedRangeLine = { object: 'audit_log_purged_range', organization_id: typeof org === 'string' ? org : '', first_seq: firstSeq, last_seq: rangeLast, last_hash: rangeHash };
        const rangeProblem = checkRangeSignature(range, { purgedAt, keyId, signature }, keys, options.allowUnsigned === true, lineNo);
        if (rangeProblem !== undefined) problem(rangeProblem);
        ranges.push({ line: lineNo, value: range });
        break;
      }
      case 'audit_log_export_range': {
        const { first_seq: firstSeq, last_seq: rangeLast, complete } = record;
        if (!isSeq(firstSeq) || !isSeq(rangeLast) || typeof complete !== 'boolean') {
          problem({ reason: 'malformed_line', line: lineNo, message: `line ${lineNo}: an export range line needs first_seq, last_seq and complete` });
          continue;
        }
        scope = { line: lineNo, value: { object: 'audit_log_export_range', organization_id: typeof org === 'string' ? org : '', first_seq: firstSeq, last_seq: rangeLast, complete } };
        break;
      }
      case 'audit_log_export_statement': {
        const statement = parseExportStatement(record);
        if (statement === undefined) {
          problem({ reason: 'malformed_line', line: lineNo, message: `line ${lineNo}: an export statement line needs organization_id, export_id, filters, events, first_seq, last_seq, complete, lines_sha256, created_at, key_id and signature` });
          continue;
        }
        signed = { line: lineNo, value: statement, digest: digestBefore.digest('hex') };
        statementEnded = terminated;
        // Its signature covers its fields, not its bytes: the line must also be exactly as the server
        // writes it (the same fields in the same order, no spacing, nothing added).
        if (JSON.stringify(statement) !== text) {
          problem({ reason: 'statement_mismatch', line: lineNo, message: `line ${lineNo}: the export statement is not byte for byte as the server wrote it (fields added, re-ordered or re-spaced)` });
        }
        break;
      }
      default: {
        const kind = typeof record.object === 'string' ? record.object : '(no object field)';
        ignored.set(kind, (ignored.get(kind) ?? 0) + 1);
      }
    }
  }
  if (signed !== undefined && !statementEnded) {
    problem({ reason: 'lines_after_statement', line: signed.line, message: `the signed export statement (line ${signed.line}) is not followed by the newline that ends the file: the file was cut or changed` });
  }
  for (const [kind, count] of ignored) notes.push(`${count} line(s) of kind ${kind} are not part of the proof and were ignored`);

  const checked = checkStatement(signed, keys, problem);
  // A validly signed statement states the server's claims even when the lines no longer match its digest:
  // they still tell which events should be there, so a deletion is named, not only detected.
  const statement = checked?.intact === true ? checked.value : undefined;
  if (signed === undefined) {
    // An export_range line is what exports ended with before statements: most likely an older export.
    const message =
      scope !== undefined
        ? 'the file ends with an unsigned audit_log_export_range line, as exports made before Verity signed them did: deleted events cannot be told from a filter (verify such a file with --allow-unsigned)'
        : 'the file does not end with a signed export statement (its trailer was removed, the file was cut short, or it was made before Verity signed exports): deleted events cannot be told from a filter (--allow-unsigned checks an older export event by event)';
    if (options.allowUnsigned === true) notes.push(`${message}; accepted with --allow-unsigned`);
    else problem({ reason: 'unsigned_export', message });
  }
  if (checked !== undefined) {
    // The signed claim supersedes any unsigned range line.
    const claim = checked.value;
    scope = { line: signed?.line ?? 0, value: { object: 'audit_log_export_range', organization_id: claim.organization_id, first_seq: claim.first_seq ?? 1, last_seq: claim.last_seq ?? 0, complete: claim.complete } };
  }

  // Purged runs, chained: a bridge from seq a to seq b is a run of ranges first_seq=a … last_seq=b.
  const rangeByFirst = new Map(ranges.map((range) => [range.value.first_seq, range]));
  const rangeByLast = new Map(ranges.map((range) => [range.value.last_seq, range]));
  /** The last hash of purged ranges that exactly cover from..to, or undefined when they do not. */
  const bridge = (from: number, to: number): string | undefined => {
    let next = from;
    let hash: string | undefined;
    while (next <= to) {
      const range = rangeByFirst.get(next);
      if (range === undefined || range.value.last_seq > to) return undefined;
      hash = range.value.last_hash;
      next = range.value.last_seq + 1;
    }
    return hash;
  };

  const events = hashes.length;
  const firstSeq = first?.seq ?? null;
  if (events === 0 && statement?.events !== 0) problem({ reason: 'no_events', message: 'the file holds no event lines: nothing to verify' });

  // Where the chain starts: genesis at seq 1, a purged run ending just before, or unknown (mid-log export).
  let fromLogStart = false;
  if (first !== undefined) {
    if (first.seq === 1) {
      fromLogStart = true;
      if (first.prevHash !== GENESIS_HASH) {
        problem({ reason: 'prev_hash_mismatch', line: first.line, seq: 1, message: `line ${first.line}: event seq 1 must follow the genesis hash (${GENESIS_HASH.slice(0, 8)}…)` });
      }
    } else {
      const before = rangeByLast.get(first.seq - 1);
      if (before !== undefined) {
        if (before.value.last_hash !== first.prevHash) {
          problem({
            reason: 'purged_range_mismatch',
            line: first.line,
            seq: first.seq,
            message: `line ${first.line}: event seq ${first.seq} does not link to the purged run ending at seq ${first.seq - 1} (line ${before.line})`,
          });
        }
        // Follow runs back: if they reach seq 1, the export starts at the log's retention anchor.
        let cursor: Located<PurgedRangeLine> | undefined = before;
        while (cursor !== undefined && cursor.value.first_seq > 1) cursor = rangeByLast.get(cursor.value.first_seq - 1);
        fromLogStart = cursor !== undefined;
      }
    }
  }

  // Gaps: bridged by purged runs (which must link), or unexplained (filtered export, or deletion).
  let firstUnexplained: Gap | undefined;
  for (const gap of gaps) {
    const bridged = bridge(gap.afterSeq + 1, gap.beforeSeq - 1);
    if (bridged === undefined) {
      firstUnexplained ??= gap;
    } else if (bridged !== gap.prevHash) {
      problem({
        reason: 'purged_range_mismatch',
        line: gap.line,
        seq: gap.beforeSeq,
        message: `line ${gap.line}: event seq ${gap.beforeSeq} does not link to the purged run ending at seq ${gap.beforeSeq - 1}`,
      });
    }
  }
  const contiguous = firstUnexplained === undefined;
  const contiguousUntil = firstUnexplained?.afterSeq ?? lastSeq;

  // An export that declares itself complete for a span must hold every seq of it (or its purged runs).
  if (scope?.value.complete === true && firstSeq !== null && lastSeq !== null) {
    const { first_seq: spanFirst, last_seq: spanLast } = scope.value;
    const missing: number[] = [];
    if (firstSeq > spanFirst && bridge(spanFirst, firstSeq - 1) === undefined) missing.push(spanFirst);
    if (firstUnexplained !== undefined) missing.push(firstUnexplained.afterSeq + 1);
    if (lastSeq < spanLast && bridge(lastSeq + 1, spanLast) === undefined) missing.push(lastSeq + 1);
    if (firstSeq < spanFirst || lastSeq > spanLast) notes.push(`events outside the declared span ${spanFirst}–${spanLast} are present`);
    if (missing.length > 0) {
      const seq = Math.min(...missing);
      problem({
        reason: 'missing_event',
        seq,
        line: scope.line,
        message: `event seq ${seq} is missing: the file declares (line ${scope.line}) that it holds every event of seq ${spanFirst}–${spanLast}`,
      });
    }
  } else if (scope?.value.complete === false) {
    notes.push('the export declares itself filtered: it need not hold every event of its span');
  }

  // Checkpoints: the signature, then agreement with the chain where the file reaches their seq.
  let verified = 0;
  let matched = 0;
  let signedThrough: number | null = null;
  let signedAt: CheckpointView | undefined;
  for (const { line, value: checkpoint } of checkpoints) {
    const key = keys.get(checkpoint.key_id);
    if (key === undefined) {
      problem({
        reason: 'checkpoint_unknown_key',
        line,
        seq: checkpoint.seq,
        message: `line ${line}: checkpoint seq ${checkpoint.seq} is signed by key ${checkpoint.key_id}, which is not among the public keys given (${[...keys.keys()].join(', ') || 'none'})`,
      });
      continue;
    }
    if (!checkpointSignatureValid(key, checkpoint)) {
      problem({ reason: 'checkpoint_signature_invalid', line, seq: checkpoint.seq, message: `line ${line}: the signature of checkpoint seq ${checkpoint.seq} does not verify (forged or altered)` });
      continue;
    }
    verified += 1;
    const atEvent = hashes.hashAt(checkpoint.seq);
    const atRange = rangeByLast.get(checkpoint.seq)?.value.last_hash;
    const expected = atEvent ?? atRange;
    if (expected === undefined) {
      notes.push(`checkpoint seq ${checkpoint.seq} (line ${line}) is validly signed but falls outside the exported events, so it cannot be linked to them`);
      continue;
    }
    if (expected !== checkpoint.hash) {
      problem({
        reason: 'checkpoint_mismatch',
        line,
        seq: checkpoint.seq,
        message: `line ${line}: checkpoint seq ${checkpoint.seq} was signed for hash ${checkpoint.hash.slice(0, 12)}…, but the file has ${expected.slice(0, 12)}… there (history rewritten)`,
      });
      continue;
    }
    matched += 1;
    if (firstSeq !== null && contiguousUntil !== null && checkpoint.seq >= firstSeq && checkpoint.seq <= contiguousUntil && (signedThrough === null || checkpoint.seq > signedThrough)) {
      signedThrough = checkpoint.seq;
      signedAt = checkpoint;
    }
  }

  const valid = problems.length === 0;
  const complete = valid && contiguous && lastSeq !== null && (signedThrough === lastSeq || statement?.complete === true);
  const report: OfflineReport = {
    valid,
    complete,
    organization_id: organizationId,
    events,
    first_seq: firstSeq,
    last_seq: lastSeq,
    contiguous,
    from_log_start: fromLogStart,
    signed_through: signedThrough,
    checkpoints: { total: checkpoints.length, verified, matched },
    purged_ranges: ranges.length,
    statement:
      statement === undefined || !valid
        ? null
        : { export_id: statement.export_id, filters: statement.filters, complete: statement.complete, created_at: statement.created_at, key_id: statement.key_id },
    problems,
    notes,
    summary: '',
  };
  report.summary = summarize(report, signedAt, firstUnexplained);
  return report;
}

/**
 * A purged range line must carry the server's signature: retention's record that these seqs were purged,
 * not deleted. Unsigned lines come only from exports made before ranges were signed (--allow-unsigned).
 */
function checkRangeSignature(
  range: PurgedRangeLine,
  fields: { purgedAt: unknown; keyId: unknown; signature: unknown },
  keys: ReadonlyMap<string, KeyObject>,
  allowUnsigned: boolean,
  line: number,
): Problem | undefined {
  const { purgedAt, keyId, signature } = fields;
  const span = `seq ${range.first_seq}–${range.last_seq}`;
  if (typeof purgedAt !== 'string' || typeof keyId !== 'string' || typeof signature !== 'string') {
    if (allowUnsigned) return undefined;
    return { reason: 'purged_range_unsigned', line, seq: range.first_seq, message: `line ${line}: the purged range ${span} carries no signature: nothing shows that retention removed these events` };
  }
  const key = keys.get(keyId);
  if (key === undefined) {
    return {
      reason: 'purged_range_unknown_key',
      line,
      seq: range.first_seq,
      message: `line ${line}: the purged range ${span} is signed by key ${keyId}, which is not among the public keys given (${[...keys.keys()].join(', ') || 'none'}): give the key that signed it (a retired key, after a rotation) with another --public-key`,
    };
  }
  if (!purgedRangeSignatureValid(key, { ...rangeStatement(range.organization_id, { ...range, purged_at: purgedAt }), signature })) {
    return { reason: 'purged_range_signature_invalid', line, seq: range.first_seq, message: `line ${line}: the purged range ${span} has a signature that does not verify (forged or altered)` };
  }
  return undefined;
}

/**
 * The statement when its key is known and its signature holds, and whether the lines before it are those it
 * was signed over (`intact`).
 */
function checkStatement(
  signed: { line: number; value: SignedExportStatement; digest: string } | undefined,
  keys: ReadonlyMap<string, KeyObject>,
  problem: (p: Problem) => void,
): { value: SignedExportStatement; intact: boolean } | undefined {
  if (signed === undefined) return undefined;
  const { line, value } = signed;
  const key = keys.get(value.key_id);
  if (key === undefined) {
    problem({ reason: 'statement_unknown_key', line, message: `line ${line}: the export statement is signed by key ${value.key_id}, which is not among the public keys given (${[...keys.keys()].join(', ') || 'none'})` });
    return undefined;
  }
  if (!exportStatementValid(key, value)) {
    problem({ reason: 'statement_signature_invalid', line, message: `line ${line}: the signature of the export statement does not verify (the statement was altered or forged)` });
    return undefined;
  }
  if (value.lines_sha256 !== signed.digest) {
    problem({
      reason: 'statement_mismatch',
      line,
      message: `line ${line}: the lines before the signed export statement are not the ones it was signed over (a line was changed, added, removed or reordered)`,
    });
    return { value, intact: false };
  }
  return { value, intact: true };
}

function summarize(report: OfflineReport, signedAt: CheckpointView | undefined, gap: Gap | undefined): string {
  const span = `${report.events.toLocaleString('en-US')} event(s), seq ${report.first_seq ?? '?'}–${report.last_seq ?? '?'} of organization ${report.organization_id ?? '?'}`;
  if (!report.valid) {
    const firstProblem = report.problems[0];
    return `INVALID: ${firstProblem?.message ?? 'verification failed'}.`;
  }
  const start = report.from_log_start ? ' from the start of the log (or its retention anchor)' : '';
  const statement = report.statement;
  const signedBy =
    statement === null
      ? ''
      : ` The server's signed export statement (${statement.export_id ?? 'a CLI export'}, signed ${statement.created_at} by key ${statement.key_id}) covers every line of the file.`;
  if (report.events === 0 && statement !== null) {
    return `VALID: an empty export of organization ${report.organization_id ?? '?'}: no stored event matched its filters.${signedBy}`;
  }
  if (report.complete && signedAt !== undefined) {
    return (
      `VALID and COMPLETE: ${span}. Every event hashes to its recorded hash, every link holds${start}, and checkpoint seq ${signedAt.seq} ` +
      `(signed ${signedAt.created_at} by key ${signedAt.key_id}) matches the last event: no event in this span was changed, removed, inserted or reordered.${signedBy}`
    );
  }
  if (report.complete && statement !== null) {
    return (
      `VALID and COMPLETE: ${span}. Every event hashes to its recorded hash and every link holds${start}; the server's signed export statement ` +
      `(${statement.export_id ?? 'a CLI export'}, signed ${statement.created_at} by key ${statement.key_id}) states that the file holds every stored event of this span and covers every line of it.`
    );
  }
  if (!report.contiguous && gap !== undefined) {
    return (
      `VALID (events verified individually; completeness not provable): ${span}. Every event hashes to its recorded hash, but the file ` +
      `skips from seq ${gap.afterSeq} to seq ${gap.beforeSeq} without a purged range, as a filtered export does, so whether other events existed cannot be proven.` +
      (report.signed_through !== null ? ` The chain is contiguous and signed up to seq ${report.signed_through}.` : '') +
      (statement === null ? '' : ` The server's signed statement says the export was filtered (${JSON.stringify(statement.filters)}) and covers every line of the file.`)
    );
  }
  if (report.signed_through !== null && signedAt !== undefined) {
    return (
      `VALID: ${span}. Every event hashes and links${start}; completeness is proven up to seq ${report.signed_through} (checkpoint signed ` +
      `${signedAt.created_at} by key ${signedAt.key_id}). Events after seq ${report.signed_through} link correctly but no checkpoint in the file covers them.`
    );
  }
  if (statement !== null) {
    return `VALID: ${span}. Every event hashes and links${start}.${signedBy}`;
  }
  return (
    `VALID but UNSIGNED: ${span}. Every event hashes and links${start}, but no checkpoint in the file signs any of them, so the file ` +
    'could have been produced by anyone: completeness and origin are not provable.'
  );
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}
