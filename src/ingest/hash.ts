import { createHash } from 'node:crypto';
import serialize from 'canonicalize';
import type { AuditEvent } from './event.schema.js';

/** The chain's anchor before an organization's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * hash = SHA-256( prev_hash as 64 lowercase hex characters ‖ RFC 8785 canonical JSON of the event ),
 * hex-encoded. Anyone holding the events can recompute the chain with nothing but this rule.
 */
export function chainHash(prevHash: string, event: AuditEvent): string {
  return chainHashOfCanonical(prevHash, canonicalJson(event));
}

/** The same hash from an event's canonical JSON computed earlier (ingest does it outside the head lock). */
export function chainHashOfCanonical(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

export function canonicalJson(value: unknown): string {
  const text = serialize(value);
  if (text === undefined) throw new Error('value cannot be canonicalised');
  return text;
}
