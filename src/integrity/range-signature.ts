import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../ingest/hash.js';
import type { SigningKey } from './signing-key.js';

/** What a signed purged range asserts: retention deleted seqs first..last of O's log, the last of hash H, at T. */
export interface PurgedRangeStatement {
  organization_id: string;
  first_seq: number;
  last_seq: number;
  last_hash: string;
  /** ISO 8601 with milliseconds, exactly as signed. */
  purged_at: string;
}

export interface RangeSignature {
  key_id: string;
  /** Ed25519 over the RFC 8785 JSON of the statement with `object: "audit_log_purged_range"`, base64. */
  signature: string;
}

/** `object` is part of the signed bytes, so no other signed statement can pass for a range's. */
function statementBytes(statement: PurgedRangeStatement): Buffer {
  const { organization_id, first_seq, last_seq, last_hash, purged_at } = statement;
  return Buffer.from(canonicalJson({ object: 'audit_log_purged_range', organization_id, first_seq, last_seq, last_hash, purged_at }), 'utf8');
}

export function signPurgedRange(key: SigningKey, statement: PurgedRangeStatement): RangeSignature {
  // Ed25519 takes no digest algorithm: null is the only correct value.
  return { key_id: key.keyId, signature: sign(null, statementBytes(statement), key.privateKey).toString('base64') };
}

/** True when `signature` is a valid Ed25519 signature of the statement by `publicKey`. Never throws. */
export function purgedRangeSignatureValid(publicKey: KeyObject, statement: PurgedRangeStatement & { signature: string }): boolean {
  try {
    const signature = Buffer.from(statement.signature, 'base64');
    if (signature.length !== 64) return false;
    return verify(null, statementBytes(statement), publicKey, signature);
  } catch {
    return false;
  }
}
