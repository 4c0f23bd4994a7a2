import type { KeyObject } from 'node:crypto';
import { canonicalSignatureValid, signCanonical } from './canonical-signature.js';
import type { SigningKey } from './signing-key.js';

/**
 * The last line of an NDJSON export, signed by the server: which export this is, what it selected, what it
 * holds, and a SHA-256 over every line before it. The digest is what makes the file tamper-evident as a
 * whole: event hashes and checkpoints prove each event and the chain, but not that an unsigned line (a
 * purged-range claim bridging deleted events, the completeness claim, a field outside the hashed document
 * such as received_at) is the server's; with the digest signed, a changed, added, removed or reordered line
 * anywhere breaks the statement.
 */
export interface ExportStatement {
  object: 'audit_log_export_statement';
  organization_id: string;
  /** Null for an export the CLI wrote straight from the database. */
  export_id: string | null;
  /** The export's filters as normalised at creation (time range, actions, actors, …). */
  filters: Record<string, unknown>;
  /** Event lines in the file. */
  events: number;
  first_seq: number | null;
  last_seq: number | null;
  /** The file holds every stored event with a seq in first_seq..last_seq (no filter left one out). */
  complete: boolean;
  /** SHA-256 (hex) of the file's bytes before this line: every line, each with its "\n". */
  lines_sha256: string;
  /** ISO 8601 with milliseconds, exactly as signed. */
  created_at: string;
}

export interface SignedExportStatement extends ExportStatement {
  key_id: string;
  /** Ed25519 over the RFC 8785 JSON of the statement (every field above, `object` included), base64. */
  signature: string;
}

const FIELDS = ['object', 'organization_id', 'export_id', 'filters', 'events', 'first_seq', 'last_seq', 'complete', 'lines_sha256', 'created_at'] as const;

/** The signed fields: every field above, `object` included, so a checkpoint's signature can never pass for a statement's. */
function signedFields(statement: ExportStatement): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const field of FIELDS) fields[field] = statement[field];
  return fields;
}

export function signExportStatement(key: SigningKey, statement: ExportStatement): SignedExportStatement {
  return { ...statement, key_id: key.keyId, signature: signCanonical(key.privateKey, signedFields(statement)) };
}

/** True when `signature` is a valid Ed25519 signature of the statement by `publicKey`. Never throws. */
export function exportStatementValid(publicKey: KeyObject, statement: SignedExportStatement): boolean {
  return canonicalSignatureValid(publicKey, signedFields(statement), statement.signature);
}

/** A statement line read from a file, shape-checked (fields of the wrong type: undefined). */
export function parseExportStatement(record: Record<string, unknown>): SignedExportStatement | undefined {
  const { organization_id, export_id, filters, events, first_seq, last_seq, complete, lines_sha256, created_at, key_id, signature } = record;
  const seqOrNull = (value: unknown): value is number | null => value === null || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1);
  if (
    typeof organization_id !== 'string' ||
    (export_id !== null && typeof export_id !== 'string') ||
    typeof filters !== 'object' ||
    filters === null ||
    Array.isArray(filters) ||
    typeof events !== 'number' ||
    !Number.isSafeInteger(events) ||
    events < 0 ||
    !seqOrNull(first_seq) ||
    !seqOrNull(last_seq) ||
    typeof complete !== 'boolean' ||
    typeof lines_sha256 !== 'string' ||
    typeof created_at !== 'string' ||
    typeof key_id !== 'string' ||
    typeof signature !== 'string'
  ) {
    return undefined;
  }
  return {
    object: 'audit_log_export_statement',
    organization_id,
    export_id,
    filters: filters as Record<string, unknown>,
    events,
    first_seq,
    last_seq,
    complete,
    lines_sha256,
    created_at,
    key_id,
    signature,
  };
}
