import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A bearer secret: a readable prefix and 256 random bits. Only its hash (tokenHash) is ever stored. */
export function mintToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 is enough for 256-bit random secrets: there is nothing to brute-force, so no slow hash. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Compares two secrets in time independent of where they differ. Hashing first gives equal lengths, so
 * not even the length of the expected value leaks.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
