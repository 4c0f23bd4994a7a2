import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../ingest/hash.js';

/**
 * Every signed statement (checkpoints, purged ranges, export statements) is Ed25519 over the RFC 8785 JSON
 * of exactly its fields, so anyone can rebuild the bytes from the line with any JSON library. Base64.
 */
export function signCanonical(privateKey: KeyObject, fields: Record<string, unknown>): string {
  // Ed25519 takes no digest algorithm: null is the only correct value.
  return sign(null, Buffer.from(canonicalJson(fields), 'utf8'), privateKey).toString('base64');
}

/** True when `signature` (base64) is a valid Ed25519 signature of the fields' canonical JSON. Never throws. */
export function canonicalSignatureValid(publicKey: KeyObject, fields: Record<string, unknown>, signature: string): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length !== 64) return false;
    return verify(null, Buffer.from(canonicalJson(fields), 'utf8'), publicKey, bytes);
  } catch {
    return false;
  }
}
