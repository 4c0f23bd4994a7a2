import type { KeyObject } from 'node:crypto';
import { canonicalSignatureValid, signCanonical } from './canonical-signature.js';
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

/** The statement of a stored range (purged_at as the database returns it), as signed and verified everywhere. */
export function rangeStatement(organizationId: string, range: { first_seq: number; last_seq: number; last_hash: string; purged_at: Date | string }): PurgedRangeStatement {
  const purgedAt = typeof range.purged_at === 'string' ? range.purged_at : range.purged_at.toISOString();
  return { organization_id: organizationId, first_seq: range.first_seq, last_seq: range.last_seq, last_hash: range.last_hash, purged_at: purgedAt };
}

/** `object` is part of the signed fields, so no other signed statement can pass for a range's. */
function signedFields(statement: PurgedRangeStatement): Record<string, unknown> {
  const { organization_id, first_seq, last_seq, last_hash, purged_at } = statement;
  return { object: 'audit_log_purged_range', organization_id, first_seq, last_seq, last_hash, purged_at };
}

export function signPurgedRange(key: SigningKey, statement: PurgedRangeStatement): RangeSignature {
  return { key_id: key.keyId, signature: signCanonical(key.privateKey, signedFields(statement)) };
}

/** True when `signature` is a valid Ed25519 signature of the statement by `publicKey`. Never throws. */
export function purgedRangeSignatureValid(publicKey: KeyObject, statement: PurgedRangeStatement & { signature: string }): boolean {
  return canonicalSignatureValid(publicKey, signedFields(statement), statement.signature);
}
