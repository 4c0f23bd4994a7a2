import { Pool } from 'undici';

export interface OpenLoopOptions {
  /** Base URL of the server. */
  url: string;
  headers: Record<string, string>;
  /** Requests per second, kept whatever the answers' latency (open loop: a slow server does not slow it). */
  rate: number;
  seconds: number;
  /** The body of request n (0-based). */
  body: (n: number) => string;
  path: string;
  /** Upper bound on requests in flight; beyond it a request is counted as skipped instead of queued. */
  maxInFlight?: number;
}

export interface OpenLoop {
  /** Answers with 2xx so far. */
  acked(): number;
  /** Epoch ms (sub-ms) at which request n was answered with 2xx; NaN when it was not (yet). */
  readonly ackAt: Float64Array;
  /** Stops sending early (the `done` promise still waits for the requests in flight). */
  stop(): void;
  done: Promise<OpenLoopResult>;
}

export interface OpenLoopResult {
  sent: number;
  acked: number;
  failed: number;
  skipped: number;
  seconds: number;
  /** Client-observed latency of each 2xx answer, ms. */
  latencies: number[];
}

const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * Sends `rate` requests per second for `seconds` from a timer, each on its own (not waiting for the
 * previous answer), the way many independent application servers would, and records when each one was
 * acknowledged. Bounded: it stops by itself after `seconds`.
 */
export function startOpenLoop(options: OpenLoopOptions): OpenLoop {
  const total = Math.round(options.rate * options.seconds);
  const ackAt = new Float64Array(total).fill(Number.NaN);
  const pool = new Pool(options.url, { connections: 64, pipelining: 1 });
  const maxInFlight = options.maxInFlight ?? 2_000;
  const latencies: number[] = [];
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let skipped = 0;
  let inFlight = 0;
  let stopped = false;
  const started = performance.now();

  const send = (n: number): void => {
    if (inFlight >= maxInFlight) {
      skipped += 1;
      return;
    }
    inFlight += 1;
    sent += 1;
    const t0 = performance.now();
    pool
      .request({ method: 'POST', path: options.path, headers: { ...options.headers, 'content-type': 'application/json' }, body: options.body(n) })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode >= 200 && response.statusCode < 300) {
          ackAt[n] = nowMs();
          latencies.push(performance.now() - t0);
          acked += 1;
        } else {
          failed += 1;
        }
      })
      .catch(() => {
        failed += 1;
      })
      .finally(() => {
        inFlight -= 1;
      });
  };

  const done = new Promise<OpenLoopResult>((resolve) => {
    let next = 0;
    const timer = setInterval(() => {
      const due = stopped ? next : Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate));
      while (next < due) send(next++);
      if (next >= total || stopped) {
        clearInterval(timer);
        const seconds = (performance.now() - started) / 1000;
        const drain = setInterval(() => {
          if (inFlight > 0) return;
          clearInterval(drain);
          void pool.close().finally(() => resolve({ sent, acked, failed, skipped, seconds, latencies }));
        }, 5);
      }
    }, 2);
  });
  return {
    acked: () => acked,
    ackAt,
    stop: () => {
      stopped = true;
    },
    done,
  };
}
