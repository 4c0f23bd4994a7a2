import { isIPv6 } from 'node:net';
import { hashSecret } from '../../keys/keys.service.js';
import { AddressLimiter } from '../../shared/address-limiter.js';

/**
 * Unknown credentials (API keys, portal tokens, session cookies) an address may present per minute; each
 * costs a database lookup. Past it the address gets 429 for credentials it has not used successfully
 * lately, before any lookup. High enough that clients sharing an address (NAT, or a proxy without
 * VERITY_TRUST_PROXY) with a misconfigured one are rarely caught, low enough to bound a flood of guesses
 * to ten lookups a second.
 */
export const FAILED_AUTH_PER_MINUTE = 600;
const REMEMBER_VALID_MS = 60 * 60_000;
const MAX_REMEMBERED = 10_000;

/**
 * One IPv6 client usually holds a whole /64 and can rotate through it, so IPv6 addresses count by their
 * first four groups; IPv4 (and IPv4-mapped IPv6) by the whole address.
 */
export function limiterAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return mapped[1] as string;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Wraps every credential lookup: counts the failures of each address, refuses lookups past the limit, and
 * remembers (as a hash, for an hour) the credentials that succeeded, so a client whose neighbours fail keeps
 * working with a credential it used before. Remembering skips only the limit, never the lookup: a revoked
 * key or ended session is still refused at once.
 */
export class CredentialGuard {
  private readonly valid = new Map<string, number>();

  constructor(
    private readonly limiter = new AddressLimiter(FAILED_AUTH_PER_MINUTE, 'Too many requests with invalid credentials from this address. Try again later.'),
    private readonly now: () => number = Date.now,
  ) {}

  /** The lookup's answer; null/undefined (not found) counts as a failure of `ip`. Throws 429 when refused. */
  async resolve<T>(ip: string, credential: string, lookup: () => Promise<T | null | undefined>): Promise<T | undefined> {
    const address = limiterAddress(ip);
    const digest = hashSecret(credential);
    const knownUntil = this.valid.get(digest);
    if (knownUntil === undefined || knownUntil <= this.now()) this.limiter.check(address);
    const found = await lookup();
    if (found === null || found === undefined) {
      this.limiter.note(address);
      this.valid.delete(digest);
      return undefined;
    }
    this.remember(digest);
    return found;
  }

  private remember(digest: string): void {
    this.valid.delete(digest); // re-inserted at the end: the map's order is least recently used first
    if (this.valid.size >= MAX_REMEMBERED) {
      for (const oldest of this.valid.keys()) {
        this.valid.delete(oldest);
        if (this.valid.size < MAX_REMEMBERED * 0.9) break;
      }
    }
    this.valid.set(digest, this.now() + REMEMBER_VALID_MS);
  }
}
