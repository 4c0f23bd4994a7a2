/** What the warning needs of a logger: pino's, or fastify's request logger. */
interface WarnLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

const DEFAULT_INTERVAL_MS = 60_000;

/**
 * A warning for a background loop that fails the same way on every pass (the database is down, say):
 * the first failure is logged in full, repeats of the same error within the next interval only counted,
 * and the count goes out with the next line. A different error is logged at once. One line a minute
 * instead of three a second, and no kind of failure is hidden.
 */
export class ThrottledWarning {
  private suppressed = 0;
  private quietUntil = 0;
  private lastMessage: string | undefined;

  constructor(
    private readonly logger: WarnLogger,
    private readonly message: string,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  warn(error: unknown): void {
    const now = this.now();
    const message = error instanceof Error ? error.message : String(error);
    if (now < this.quietUntil && message === this.lastMessage) {
      this.suppressed += 1;
      return;
    }
    const repeats = this.suppressed > 0 ? { repeatedSinceLastLine: this.suppressed } : {};
    this.logger.warn({ err: error, ...repeats }, this.message);
    this.suppressed = 0;
    this.quietUntil = now + this.intervalMs;
    this.lastMessage = message;
  }

  /** The loop worked again: the next failure is logged at once, and a run of silenced ones is closed. */
  succeeded(): void {
    if (this.quietUntil === 0) return;
    if (this.suppressed > 0) this.logger.info({ failedTimes: this.suppressed + 1 }, `${this.message}; working again`);
    this.suppressed = 0;
    this.quietUntil = 0;
  }
}
