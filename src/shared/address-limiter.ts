import { AppError } from '../errors/app-error.js';

/**
 * Attempts per client address in a fixed one-minute window, kept in memory: with several API processes
 * each allows this many, which still caps guessing to a crawl. Used for dashboard sign-ins (counted before
 * the password is checked, bounding both guessing and the scrypt CPU an anonymous client can burn) and for
 * failed API-key authentication (each unknown key costs a database lookup).
 */
const MAX_ADDRESSES = 100_000;

export class AddressLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly message: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts an attempt; throws 429 with Retry-After once the address has used up its attempts for this minute. */
  take(address: string): void {
    this.check(address);
    this.note(address);
  }

  /** Counts an attempt without refusing it (the caller answers it some other way). */
  note(address: string): void {
    const now = this.now();
    let window = this.windows.get(address);
    if (window === undefined || window.resetAt <= now) {
      if (this.windows.size >= MAX_ADDRESSES) this.prune(now);
      window = { count: 0, resetAt: now + 60_000 };
      this.windows.set(address, window);
    }
    window.count += 1;
  }

  /** Throws 429 with Retry-After when the address has used up its attempts for this minute; counts nothing. */
  check(address: string): void {
    const now = this.now();
    const window = this.windows.get(address);
    if (window !== undefined && window.resetAt > now && window.count >= this.perMinute) {
      throw new AppError('rate_limit_exceeded', this.message, { retryAfter: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) });
    }
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
    // Still full: an address flood. Forget the oldest windows (the map keeps insertion order), not everyone's:
    // clearing all would hand every blocked address a fresh minute.
    if (this.windows.size < MAX_ADDRESSES) return;
    for (const address of this.windows.keys()) {
      this.windows.delete(address);
      if (this.windows.size < MAX_ADDRESSES * 0.9) break;
    }
  }
}
