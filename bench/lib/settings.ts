function num(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max} (got "${raw}")`);
  return value;
}

/** Every knob of the bench, from the environment (see bench/README.md). */
export const settings = {
  /** Concurrent connections for the HTTP ceiling and single-event ingest. */
  connections: num('BENCH_CONNECTIONS', 64, 1, 1024),
  /** Measured seconds per load run. */
  seconds: num('BENCH_SECONDS', 10, 1, 120),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 2, 0, 30),
  /** Rows in the raw COPY ceiling run. */
  copyRows: num('BENCH_COPY_ROWS', 200_000, 1_000, 5_000_000),
  /** Events per batch request and concurrent batch clients. */
  batchSize: num('BENCH_BATCH_SIZE', 1_000, 1, 1_000),
  batchConnections: num('BENCH_BATCH_CONNECTIONS', 8, 1, 256),
  /** Events loaded into the search organization. */
  searchEvents: num('BENCH_SEARCH_EVENTS', 1_000_000, 1_000, 20_000_000),
  /** Measured seconds per search query kind (one connection: a user waiting on a page). */
  searchSeconds: num('BENCH_SEARCH_SECONDS', 4, 1, 60),
  /** Connections for the search throughput run (first page). */
  searchConnections: num('BENCH_SEARCH_CONNECTIONS', 16, 1, 256),
  /** Streams suite: events/s of the live load (latency and outage runs) and the latency run's seconds. */
  streamRate: num('BENCH_STREAM_RATE', 1_000, 10, 20_000),
  streamSeconds: num('BENCH_STREAM_SECONDS', 30, 5, 600),
  /** Streams suite: how long the receiver is down in the outage run. */
  outageSeconds: num('BENCH_OUTAGE_SECONDS', 60, 1, 600),
  /** Streams suite: backlog delivered by one stream, and by each of the ten parallel streams. */
  oneStreamEvents: num('BENCH_ONE_STREAM_EVENTS', 200_000, 1_000, 5_000_000),
  tenStreamEvents: num('BENCH_TEN_STREAM_EVENTS', 50_000, 1_000, 1_000_000),
  /** Comma-separated subset of steps to run (default: all of the suite). */
  only: (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
};
