import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../ingest/hash.js';
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

/**
 * The signed bytes: RFC 8785 canonical JSON of exactly {organization_id, seq, hash, created_at}, UTF-8.
 * Canonical JSON means anyone can rebuild the bytes from a checkpoint line with any JSON library.
 */
export function statementBytes(statement: CheckpointStatement): Buffer {
  const { organization_id, seq, hash, created_at } = statement;
  return Buffer.from(canonicalJson({ organization_id, seq, hash, created_at }), 'utf8');
}

export function signCheckpoint(key: SigningKey, statement: CheckpointStatement): CheckpointView {
  // Ed25519 takes no digest algorithm: null is the only correct value.
  const signature = sign(null, statementBytes(statement), key.privateKey).toString('base64');
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
  try {
    const signature = Buffer.from(checkpoint.signature, 'base64');
    if (signature.length !== 64) return false;
    return verify(null, statementBytes(checkpoint), publicKey, signature);
  } catch {
    return false;
  }
}
