import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface IngestMetrics {
  observeGroup(requests: number, events: number, seconds: number): void;
}

/** One registry per app instance (tests build many apps in one process). */
export class Metrics implements IngestMetrics {
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
  readonly groupCommitDuration = new Histogram({
    name: 'verity_group_commit_duration_seconds',
    help: 'Duration of group-commit transactions',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'verity_' });
  }

  observeGroup(_requests: number, events: number, seconds: number): void {
    this.eventsAppended.inc(events);
    this.groupCommitEvents.observe(events);
    this.groupCommitDuration.observe(seconds);
  }
}
