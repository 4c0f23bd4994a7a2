import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import { LOG_CHANNEL } from '../ingest/ingest.sql.js';

// A symbol, so no organization id can collide with the catch-all channel.
const ANY = Symbol('any organization');

/**
 * Tells this process when any organization's log grows, whichever process appended: one LISTEN per
 * process (NOTIFY is sent by the append transaction and delivered on commit), fanned out in memory.
 */
export class AppendSignal {
  private readonly emitter = new EventEmitter();
  private unlisten: Promise<() => Promise<void>> | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** Calls onAppend(seq) whenever the organization's head moves; resolves to an unsubscribe function. */
  async subscribe(organizationId: string, onAppend: (seq: number) => void): Promise<() => void> {
    this.unlisten ??= this.db.listen(LOG_CHANNEL, (payload) => this.dispatch(payload));
    await this.unlisten;
    this.emitter.on(organizationId, onAppend);
    return () => this.emitter.off(organizationId, onAppend);
  }

  /** Calls onAppend(organizationId, seq) for every organization (the stream dispatcher's wake-up). */
  async subscribeAll(onAppend: (organizationId: string, seq: number) => void): Promise<() => void> {
    this.unlisten ??= this.db.listen(LOG_CHANNEL, (payload) => this.dispatch(payload));
    await this.unlisten;
    this.emitter.on(ANY, onAppend);
    return () => this.emitter.off(ANY, onAppend);
  }

  private dispatch(payload: string): void {
    const split = payload.lastIndexOf(':');
    const seq = Number(payload.slice(split + 1));
    if (split <= 0 || !Number.isInteger(seq)) {
      this.logger.warn({ payload }, 'ignoring malformed log notification');
      return;
    }
    const organizationId = payload.slice(0, split);
    this.emitter.emit(organizationId, seq);
    this.emitter.emit(ANY, organizationId, seq);
  }

  async close(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    this.emitter.removeAllListeners();
    if (unlisten) await (await unlisten)();
  }
}
