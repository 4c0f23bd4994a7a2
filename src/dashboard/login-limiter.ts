import { AppError } from '../errors/app-error.js';

/**
 * Sign-in attempts per client address in a fixed one-minute window. Counted before the password is
 * checked, so it bounds both guessing and the CPU an anonymous client can make scrypt burn. Kept in
 * memory: with several API processes each allows this many, which still caps guessing to a crawl.
 */
export class LoginLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 with Retry-After once the address has used up its attempts for this minute. */
  take(address: string): void {
    const now = this.now();
    let window = this.windows.get(address);
    if (window === undefined || window.resetAt <= now) {
      if (this.windows.size >= 100_000) this.prune(now);
      window = { count: 0, resetAt: now + 60_000 };
      this.windows.set(address, window);
    }
    window.count += 1;
    if (window.count > this.perMinute) {
      throw new AppError('rate_limit_exceeded', 'Too many sign-in attempts. Try again later.', {
        retryAfter: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
      });
    }
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
    // Still full: an address flood. Forgetting everyone is safer for memory than growing without bound.
    if (this.windows.size >= 100_000) this.windows.clear();
  }
}
