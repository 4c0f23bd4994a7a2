import type { Logger } from 'pino';
import type { Db } from './db.js';
import { loadMigrations, unknownMigrations, type Migration } from './migrate.js';

/** Often enough that a rolling upgrade leaves old processes working on the new schema for seconds, not minutes. */
export const SCHEMA_WATCH_INTERVAL_MS = 10_000;

/**
 * Watches, in a running server, for migrations it does not know: during a rolling upgrade the first new
 * process migrates the shared database while old ones still serve. An old process would then write as
 * if the schema were its own (a replay counter it does not bump, a legal-hold check it does not make, an
 * export it does not sign), so it stops instead — `onNewer` shuts it down — and its replacement, running the
 * new version, takes over. A failed check (the database unreachable) is not a reason to stop.
 */
export class SchemaWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly known: readonly Migration[];

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly onNewer: (unknown: readonly string[]) => void,
    known?: readonly Migration[],
  ) {
    this.known = known ?? loadMigrations();
  }

  start(intervalMs = SCHEMA_WATCH_INTERVAL_MS): void {
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Answers the unknown migrations found (and reports them), or an empty list. */
  async check(): Promise<readonly string[]> {
    let unknown: string[];
    try {
      unknown = await unknownMigrations(this.db, this.known);
    } catch {
      return [];
    }
    if (unknown.length > 0) {
      this.stop();
      this.logger.error({ unknown }, 'a newer Verity migrated the database: this process stops, so it does not write with an outdated schema; run the new version');
      this.onNewer(unknown);
    }
    return unknown;
  }
}
