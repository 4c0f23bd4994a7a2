import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import type { AuditEvent } from '../ingest/event.schema.js';
import type { AppendSignal } from '../query/append-signal.js';
import type { SecretBox } from '../shared/secret-box.js';
import { ThrottledWarning } from '../shared/throttled-warning.js';
import type { StreamMetrics } from '../metrics/metrics.js';
import type { Destination, DeliveryResult, DestinationDeps, DestinationLimits } from './destinations/destination.js';
import { eventJson } from './destinations/event-json.js';
import { claimStreams, releaseAllLeases, releaseEveryOwnersLeases, releaseLease, saveProgress, selectLiveStreamIds, selectPending, selectStreamOrganizations, type ClaimedStream, type PendingEvent, type Progress } from './dispatcher.sql.js';
import { buildDestination } from './stream-config.js';
import { insertDelivery } from './streams.sql.js';

export interface DispatcherOptions {
  concurrency: number;
  maxFailingHours: number;
  leaseSeconds?: number;
  pollMs?: number;
  /** How long a woken stream waits for more events before reading, so low volume still batches. */
  lingerMs?: number;
}

/** Rows read for a stream's first batch, before its events' typical size is known. */
const INITIAL_READ = 1_000;
const BACKOFF_BASE_MS = 1_000;
/**
 * Retries wait at most this long: a stream whose destination comes back after an outage of any length
 * resumes within half a minute (a backlog is then delivered at full speed), and one request per stream every
 * 30 s is no load on a destination that is down.
 */
const BACKOFF_CAP_MS = 30_000;
const RETRY_AFTER_CAP_MS = 60 * 60_000;
/** How often a worker looks for deleted streams whose state it still keeps. */
const PRUNE_INTERVAL_MS = 60_000;

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of many streams spread out. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempts, 20));
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * The stream delivery engine. Per stream: read the organization's log after the cursor, batch within the
 * destination's limits, deliver, then record the attempt and move the cursor in one transaction — only
 * while holding the stream's lease. At-least-once: a crash between delivery and commit re-sends at most
 * that one batch. Several workers (processes) share streams through leases in the database.
 */
export class StreamDispatcher {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly leaseSeconds: number;
  private readonly running = new Map<string, Promise<void>>();
  private readonly destinations = new Map<string, { version: string; destination: Destination }>();
  /** After a 413, the stream's batches stay smaller until a success. */
  private readonly sizeHints = new Map<string, number>();
  /** How many of the stream's events filled a batch's byte budget lately: what to read next time. */
  private readonly fitEstimates = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopping = false;
  private ticking: Promise<void> | undefined;
  private wakeAgain = false;
  /** Organizations with live streams as last read; undefined: unknown, so every append wakes the worker. */
  private streamOrganizations: Set<string> | undefined;
  private streamsGeneration = 0;
  // The polls below fail on every pass while the database is down: one line a minute each, not three a second.
  private readonly readOrganizationsFailed: ThrottledWarning;
  private readonly claimFailed: ThrottledWarning;
  private readonly forgetFailed: ThrottledWarning;

  constructor(
    private readonly db: Db,
    private readonly signal: AppendSignal,
    private readonly box: SecretBox,
    private readonly deps: DestinationDeps,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
    private readonly metrics?: StreamMetrics,
  ) {
    this.leaseSeconds = options.leaseSeconds ?? 60;
    this.readOrganizationsFailed = new ThrottledWarning(logger, 'reading which organizations have log streams failed');
    this.claimFailed = new ThrottledWarning(logger, 'claiming log streams failed');
    this.forgetFailed = new ThrottledWarning(logger, 'checking for deleted log streams failed');
  }

  async start(): Promise<void> {
    if (this.db.kind === 'pglite') {
      // PGlite's data directory is locked by one process, this one: a lease found now was left by a process
      // that died (kill -9, a crash), and waiting for it to expire would hold its streams up for a minute.
      await releaseEveryOwnersLeases(this.db).catch((error: unknown) => this.logger.warn({ err: error }, 'releasing log stream leases left by a previous process failed; they expire on their own'));
    }
    // An append to an organization without streams wakes nothing: claiming is a database round trip, and
    // appends can commit dozens of times a second.
    this.unsubscribe = await this.signal.subscribeAll((organizationId) => {
      if (this.streamOrganizations === undefined || this.streamOrganizations.has(organizationId)) this.wake();
    });
    let lastPrune = performance.now();
    const poll = (): void => {
      this.timer = setTimeout(() => {
        void this.refreshStreamOrganizations();
        this.wake();
        if (performance.now() - lastPrune >= PRUNE_INTERVAL_MS) {
          lastPrune = performance.now();
          void this.forgetDeleted();
        }
        if (!this.stopping) poll();
      }, this.options.pollMs ?? 1_000);
      this.timer.unref();
    };
    poll();
    await this.refreshStreamOrganizations();
    this.wake();
  }

  /** Stops claiming, lets in-flight batches finish and frees this worker's leases. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.ticking;
    await Promise.allSettled(this.running.values());
    await releaseAllLeases(this.db, this.owner).catch(() => undefined);
    await Promise.allSettled([...this.destinations.values()].map(async (entry) => entry.destination.close?.()));
    this.destinations.clear();
  }

  /** Streams were created or changed in this process: claim now, and let appends wake it until the next poll. */
  streamsChanged(): void {
    this.streamOrganizations = undefined;
    this.streamsGeneration += 1;
    this.wake();
  }

  /**
   * Which organizations have streams, re-read every poll (so streams made by another process count from
   * the next poll on; the poll itself also claims, so nothing waits longer than that).
   */
  private async refreshStreamOrganizations(): Promise<void> {
    const generation = this.streamsGeneration;
    try {
      const organizations = new Set(await selectStreamOrganizations(this.db));
      // A change made while the read ran may not be in it: stay unknown until the next poll.
      if (generation === this.streamsGeneration) this.streamOrganizations = organizations;
      this.readOrganizationsFailed.succeeded();
    } catch (error) {
      this.streamOrganizations = undefined;
      this.readOrganizationsFailed.warn(error);
    }
  }

  /** Claims due streams now (coalescing wake-ups that arrive while a claim is running). */
  wake(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.wakeAgain = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  private async tick(): Promise<void> {
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return;
    let claimed: ClaimedStream[];
    try {
      claimed = await claimStreams(this.db, this.owner, this.leaseSeconds, free);
      this.claimFailed.succeeded();
    } catch (error) {
      this.claimFailed.warn(error);
      return;
    }
    for (const stream of claimed) {
      const run = this.runStream(stream).finally(() => {
        this.running.delete(stream.id);
        // The stream may have more work, or others may be waiting for a free slot.
        this.wake();
      });
      this.running.set(stream.id, run);
    }
  }

  /** Delivers batches until the stream is caught up, fails, or the worker stops. Never throws. */
  private async runStream(claimed: ClaimedStream): Promise<void> {
    let stream = claimed;
    try {
      const destination = this.destinationFor(stream);
      await sleep(this.options.lingerMs ?? 25);
      let prefetched: PendingRead | undefined;
      for (;;) {
        const outcome = await this.deliverOnce(stream, destination, prefetched);
        if (outcome === 'stop' || this.stopping) break;
        stream = { ...stream, cursor_seq: outcome.cursorSeq, attempts: 0, failing_since: null };
        prefetched = outcome.next;
      }
    } catch (error) {
      this.logger.error({ err: error, streamId: stream.id }, 'log stream run failed');
    } finally {
      await releaseLease(this.db, stream.id, this.owner).catch(() => undefined);
    }
  }

  /**
   * One batch. Resolves to the new cursor when more may be waiting (with the read of the batch after it,
   * when one was started), or 'stop'. `prefetched` is the read of the events after the cursor, begun while
   * the previous batch was in flight.
   */
  private async deliverOnce(
    stream: ClaimedStream,
    destination: Destination,
    prefetched: PendingRead | undefined,
  ): Promise<{ cursorSeq: number; next: PendingRead | undefined } | 'stop'> {
    const read = prefetched ?? this.readAfter(stream, stream.cursor_seq, this.readLimit(stream, destination));
    const pending = await read.rows;
    const batch = cutToBytes(pending, destination.limits);
    if (batch.events.length === 0) return 'stop';
    const cut = pending.length > batch.events.length;
    const full = pending.length >= read.limit;
    if (cut) this.fitEstimates.set(stream.id, batch.events.length);
    else if (full) this.fitEstimates.set(stream.id, read.limit * 2);
    // A backlog: read the next batch while this one travels, so the database and the destination work at
    // the same time. Used only if this batch is delivered whole; otherwise dropped (it is only a read).
    const next = cut || full ? this.readFollowing(stream, pending.slice(batch.events.length), pending, this.readLimit(stream, destination)) : undefined;
    const started = performance.now();
    let result: DeliveryResult;
    try {
      result = await destination.deliver(batch.events.map((p) => p.data), { test: false });
    } catch (error) {
      // A destination should classify its own failures; anything that escapes is treated as transient.
      result = { outcome: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
    const latencyMs = performance.now() - started;
    const progress = this.progressAfter(stream, batch.events, result);
    const saved = await this.db.transaction(async (tx) => {
      const first = batch.events[0] as PendingEvent;
      const last = batch.events[batch.events.length - 1] as PendingEvent;
      await insertDelivery(tx, {
        streamId: stream.id,
        kind: 'batch',
        firstSeq: first.seq,
        lastSeq: last.seq,
        eventCount: batch.events.length,
        bytes: batch.bytes,
        outcome: result.outcome,
        httpStatus: result.status ?? null,
        latencyMs,
        error: result.outcome === 'delivered' ? null : result.error,
      });
      const claim = { id: stream.id, owner: this.owner, version: stream.version, replays: stream.replays };
      const state = await saveProgress(tx, claim, this.leaseSeconds, progress);
      if (state === undefined) throw new LeaseLostError();
      return state;
    }).catch((error: unknown) => {
      if (error instanceof LeaseLostError) return undefined;
      throw error;
    });
    this.metrics?.observeDelivery(stream.id, stream.type, result.outcome, progress.delivered, latencyMs / 1000);
    if (saved === undefined) {
      this.logger.warn({ streamId: stream.id }, 'a log stream was deleted, or taken over by another worker, while a batch was in flight; this worker stops delivering it');
      return 'stop';
    }
    if (result.outcome !== 'delivered' && result.outcome !== 'too_large' && !saved.changed) {
      this.logger.warn({ streamId: stream.id, outcome: result.outcome, status: result.status, error: result.error }, 'log stream delivery failed');
    }
    if (result.outcome === 'delivered') this.sizeHints.delete(stream.id);
    // Paused, edited or replayed meanwhile: stop here. Released, the stream is claimed again at once (unless
    // paused) with its new config and cursor; the read made ahead belongs to the old cursor and is dropped.
    if (saved.changed || saved.paused) return 'stop';
    if (result.outcome === 'delivered') return { cursorSeq: progress.cursorSeq, next };
    return result.outcome === 'too_large' && progress.state !== 'invalid' ? { cursorSeq: progress.cursorSeq, next: undefined } : 'stop';
  }

  /** Starts reading up to `limit` events after `afterSeq`; a failed read that is never awaited is not an unhandled rejection. */
  private readAfter(stream: ClaimedStream, afterSeq: number, limit: number): PendingRead {
    const rows = selectPending(this.db, stream.organization_id, afterSeq, limit);
    rows.catch(() => undefined);
    return { rows, limit };
  }

  /**
   * The read of the batch after a delivered one: the rows this read left past the byte cut (read with a
   * margin so that bytes, not the count, end a batch — about one in seven rows), then as many rows after
   * the last one read as the limit leaves. Reading the left-over rows again cost the database their JSON
   * text a second time.
   */
  private readFollowing(stream: ClaimedStream, leftover: PendingEvent[], read: PendingEvent[], limit: number): PendingRead {
    if (leftover.length >= limit) return { rows: Promise.resolve(leftover.slice(0, limit)), limit };
    const more = this.readAfter(stream, (read[read.length - 1] as PendingEvent).seq, limit - leftover.length).rows;
    const rows = leftover.length === 0 ? more : more.then((rest) => leftover.concat(rest));
    rows.catch(() => undefined);
    return { rows, limit };
  }

  /**
   * Rows to read for the next batch: the destination's count limit (or the smaller size after a 413), but
   * no more than about what fit the byte budget last time — rows beyond the budget wait in memory for the
   * batch after (a 900 kB Splunk request holds ~1,500 typical events, its count limit is 10,000).
   */
  private readLimit(stream: ClaimedStream, destination: Destination): number {
    const cap = Math.min(destination.limits.maxEvents, this.sizeHints.get(stream.id) ?? Number.MAX_SAFE_INTEGER);
    const fit = this.fitEstimates.get(stream.id);
    return Math.max(1, Math.min(cap, fit === undefined ? INITIAL_READ : Math.ceil(fit * 1.15) + 5));
  }

  private progressAfter(stream: ClaimedStream, events: PendingEvent[], result: DeliveryResult): Progress {
    const lastSeq = (events[events.length - 1] as PendingEvent).seq;
    const base: Progress = {
      cursorSeq: stream.cursor_seq,
      state: 'active',
      stateReason: null,
      attempts: 0,
      failingSince: null,
      nextAttemptAt: null,
      paused: false,
      delivered: 0,
      failed: 0,
      synced: false,
    };
    switch (result.outcome) {
      case 'delivered':
        return { ...base, cursorSeq: lastSeq, delivered: events.length, synced: true };
      case 'invalid':
        return { ...base, state: 'invalid', stateReason: result.error, failed: 1, failingSince: stream.failing_since ?? new Date() };
      case 'too_large': {
        if (events.length === 1) {
          return { ...base, state: 'invalid', stateReason: `Event seq ${lastSeq} alone exceeds the destination's size limit (${result.error}).`, failed: 1 };
        }
        this.sizeHints.set(stream.id, Math.max(1, Math.floor(events.length / 2)));
        return { ...base, attempts: stream.attempts, failingSince: stream.failing_since };
      }
      case 'partial': {
        const accepted = Math.max(0, Math.min(result.accepted, events.length));
        const cursorSeq = accepted === 0 ? stream.cursor_seq : (events[accepted - 1] as PendingEvent).seq;
        return { ...this.failure(stream, result.error, undefined), cursorSeq, delivered: accepted, synced: accepted > 0 };
      }
      case 'retry':
        return this.failure(stream, result.error, result.retryAfterMs);
    }
  }

  private failure(stream: ClaimedStream, error: string, retryAfterMs: number | undefined): Progress {
    const failingSince = stream.failing_since ?? new Date();
    const attempts = stream.attempts + 1;
    // Retry-After may lengthen the wait, never shorten it: "Retry-After: 0" would otherwise retry in a tight loop.
    const backoff = backoffMs(attempts);
    const delay = retryAfterMs !== undefined ? Math.max(Math.min(retryAfterMs, RETRY_AFTER_CAP_MS), backoff) : backoff;
    const tooLong = Date.now() - failingSince.getTime() > this.options.maxFailingHours * 3_600_000;
    return {
      cursorSeq: stream.cursor_seq,
      state: tooLong ? 'inactive' : 'error',
      stateReason: tooLong ? `Paused after failing for more than ${this.options.maxFailingHours} hours. Last error: ${error}` : error,
      attempts,
      failingSince,
      nextAttemptAt: new Date(Date.now() + delay),
      paused: tooLong,
      delivered: 0,
      failed: 1,
      synced: false,
    };
  }

  /** Destinations are kept per stream (connections, token caches) until the stream's config changes. */
  /**
   * Drops what this worker keeps per stream (its destination with open connections, size estimates) for
   * streams deleted since, so a long-running worker does not accumulate them.
   */
  async forgetDeleted(): Promise<void> {
    const known = [...this.rememberedIds()];
    if (known.length === 0) return;
    let live: Set<string>;
    try {
      live = new Set(await selectLiveStreamIds(this.db, known));
      this.forgetFailed.succeeded();
    } catch (error) {
      this.forgetFailed.warn(error);
      return;
    }
    for (const id of known) {
      if (live.has(id) || this.running.has(id)) continue;
      const cached = this.destinations.get(id);
      this.destinations.delete(id);
      this.fitEstimates.delete(id);
      this.sizeHints.delete(id);
      void Promise.resolve(cached?.destination.close?.()).catch(() => undefined);
    }
  }

  /** Whether this worker keeps any state for the stream (tests: deleted streams are forgotten). */
  remembers(streamId: string): boolean {
    return this.rememberedIds().has(streamId);
  }

  private rememberedIds(): Set<string> {
    return new Set([...this.destinations.keys(), ...this.fitEstimates.keys(), ...this.sizeHints.keys()]);
  }

  private destinationFor(stream: ClaimedStream): Destination {
    // The exact version (microseconds): two edits within one millisecond are still two configs.
    const version = stream.version;
    const cached = this.destinations.get(stream.id);
    if (cached !== undefined && cached.version === version) return cached.destination;
    void cached?.destination.close?.();
    const destination = buildDestination(this.box, stream, this.deps);
    this.destinations.set(stream.id, { version, destination });
    return destination;
  }
}

class LeaseLostError extends Error {}

/** A read of a stream's pending events and the limit it asked for (a short answer means caught up). */
interface PendingRead {
  rows: Promise<PendingEvent[]>;
  limit: number;
}

/** Keeps a prefix of events whose JSON (plus the payload's overhead per event) fits the byte budget (always at least one event). */
function cutToBytes(events: PendingEvent[], limits: DestinationLimits): { events: PendingEvent[]; bytes: number } {
  const maxBytes = limits.maxBytes;
  const overhead = limits.eventOverheadBytes ?? 0;
  let bytes = 0;
  let count = 0;
  for (const event of events) {
    const size = Buffer.byteLength(eventJson(event.data)) + overhead;
    if (count > 0 && bytes + size > maxBytes) break;
    bytes += size;
    count += 1;
  }
  return { events: events.slice(0, count), bytes };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type { AuditEvent };
