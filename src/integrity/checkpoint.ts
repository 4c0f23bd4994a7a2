import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../ingest/hash.js';
import { canonicalSignatureValid, signCanonical } from './canonical-signature.js';
import type { SigningKey } from './signing-key.js';

/** What a checkpoint asserts: organization O's log had hash H at seq S at time T. */
export interface CheckpointStatement {
  organization_id: string;
  seq: number;
  hash: string;
  /** ISO 8601 with milliseconds, exactly as signed. */
  created_at: string;
}

/** A signed checkpoint as the API returns it and as NDJSON exports carry it (one line each). */
export interface CheckpointView extends CheckpointStatement {
  object: 'audit_log_checkpoint';
  key_id: string;
  /** Ed25519 signature over the statement's RFC 8785 canonical JSON, base64. */
  signature: string;
}

/** The signed fields: exactly {organization_id, seq, hash, created_at}. */
function signedFields(statement: CheckpointStatement): Record<string, unknown> {
  const { organization_id, seq, hash, created_at } = statement;
  return { organization_id, seq, hash, created_at };
}

/** The signed bytes (RFC 8785 JSON of the signed fields, UTF-8), for auditors rebuilding them. */
export function statementBytes(statement: CheckpointStatement): Buffer {
  return Buffer.from(canonicalJson(signedFields(statement)), 'utf8');
}

export function signCheckpoint(key: SigningKey, statement: CheckpointStatement): CheckpointView {
  const signature = signCanonical(key.privateKey, signedFields(statement));
  return {
    object: 'audit_log_checkpoint',
    organization_id: statement.organization_id,
    seq: statement.seq,
    hash: statement.hash,
    created_at: statement.created_at,
    key_id: key.keyId,
    signature,
  };
}

/** True when `signature` is a valid Ed25519 signature of the statement by `publicKey`. Never throws. */
export function checkpointSignatureValid(publicKey: KeyObject, checkpoint: CheckpointStatement & { signature: string }): boolean {
  return canonicalSignatureValid(publicKey, signedFields(checkpoint), checkpoint.signature);
}
