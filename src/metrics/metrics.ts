import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface StreamMetrics {
  observeDelivery(streamId: string, type: string, outcome: string, events: number, seconds: number): void;
}

export interface IngestMetrics {
  observeGroup(requests: number, events: number, seconds: number): void;
  /** A one-statement append found its heads moved (or a key taken) and was redone under row locks. */
  countLockedRetry(): void;
}

export interface GinMergeMetrics {
  /** A background merge of the events' GIN pending lists ended: `pages` merged, or it failed. */
  countGinMerge(outcome: 'merged' | 'failed', pages: number): void;
}

/** One registry per app instance (tests build many apps in one process). */
export class Metrics implements IngestMetrics, GinMergeMetrics, StreamMetrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'verity_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'verity_events_appended_total',
    help: 'Events committed to organization logs',
    registers: [this.registry],
  });
  readonly groupCommitEvents = new Histogram({
    name: 'verity_group_commit_events',
    help: 'Events per group-commit transaction',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  readonly ginMerges = new Counter({
    name: 'verity_gin_pending_merges_total',
    help: 'Background merges of the events GIN indexes\' pending lists, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly ginMergedPages = new Counter({
    name: 'verity_gin_pending_pages_merged_total',
    help: 'Pending-list pages merged into the events GIN indexes in the background',
    registers: [this.registry],
  });

  readonly appendRetries = new Counter({
    name: 'verity_append_locked_retries_total',
    help: 'One-statement appends redone under row locks because a head had moved or an idempotency key was taken',
    registers: [this.registry],
  });
  readonly groupCommitDuration = new Histogram({
    name: 'verity_group_commit_duration_seconds',
    help: 'Duration of group-commit transactions',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly streamDelivered = new Counter({
    name: 'verity_stream_events_delivered_total',
    help: 'Events delivered per log stream',
    labelNames: ['stream_id', 'type'] as const,
    registers: [this.registry],
  });
  readonly streamAttempts = new Counter({
    name: 'verity_stream_delivery_attempts_total',
    help: 'Delivery attempts per log stream and outcome',
    labelNames: ['stream_id', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly streamBatchSize = new Histogram({
    name: 'verity_stream_batch_events',
    help: 'Events per delivered batch',
    labelNames: ['type'] as const,
    buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 5000],
    registers: [this.registry],
  });
  readonly streamLatency = new Histogram({
    name: 'verity_stream_delivery_duration_seconds',
    help: 'Destination request latency per log stream',
    labelNames: ['stream_id', 'type'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private lagSource: (() => Promise<{ id: string; type: string; lag_events: number; lag_seconds: number | null }[]>) | undefined;
  private lagRead: Promise<{ id: string; type: string; lag_events: number; lag_seconds: number | null }[]> | undefined;

  /** Lag is read from the database when Prometheus scrapes, so it is exact and costs nothing between scrapes. */
  setStreamLagSource(source: () => Promise<{ id: string; type: string; lag_events: number; lag_seconds: number | null }[]>): void {
    this.lagSource = source;
    const readOnce = async (): Promise<{ id: string; type: string; lag_events: number; lag_seconds: number | null }[]> => {
      // Both gauges collect in one scrape: share one query between them.
      this.lagRead ??= (this.lagSource?.() ?? Promise.resolve([])).finally(() => setImmediate(() => (this.lagRead = undefined)));
      return this.lagRead.catch(() => []);
    };
    new Gauge({
      name: 'verity_stream_lag_events',
      help: 'Events appended but not yet delivered, per log stream',
      labelNames: ['stream_id', 'type'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await readOnce()) this.set({ stream_id: row.id, type: row.type }, row.lag_events);
      },
    });
    new Gauge({
      name: 'verity_stream_lag_seconds',
      help: 'Age of the oldest undelivered event, per log stream (0 when caught up)',
      labelNames: ['stream_id', 'type'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await readOnce()) this.set({ stream_id: row.id, type: row.type }, row.lag_seconds ?? 0);
      },
    });
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'verity_' });
  }

  observeDelivery(streamId: string, type: string, outcome: string, events: number, seconds: number): void {
    this.streamAttempts.inc({ stream_id: streamId, type, outcome });
    this.streamLatency.observe({ stream_id: streamId, type }, seconds);
    if (events > 0) {
      this.streamDelivered.inc({ stream_id: streamId, type }, events);
      this.streamBatchSize.observe({ type }, events);
    }
  }

  observeGroup(_requests: number, events: number, seconds: number): void {
    this.eventsAppended.inc(events);
    this.groupCommitEvents.observe(events);
    this.groupCommitDuration.observe(seconds);
  }

  countLockedRetry(): void {
    this.appendRetries.inc();
  }

  countGinMerge(outcome: 'merged' | 'failed', pages: number): void {
    this.ginMerges.inc({ outcome });
    if (pages > 0) this.ginMergedPages.inc(pages);
  }
}
