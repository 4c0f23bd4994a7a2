import autocannon from 'autocannon';
import { cpuProbe, type CpuUsage } from './proc.js';
import { summarize, type LatencySummary } from './stats.js';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds of measured load. */
  seconds: number;
  /**
   * Seconds of unmeasured load first (JIT, pools, caches). Same run, same connections: responses are
   * counted only from the end of the warm-up, so no request is cut off at the boundary.
   */
  warmupSeconds?: number;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Called once per request: the path, and the body for POST. */
  next: () => { path: string; body?: string | Buffer };
  /** Processes whose CPU use to report over the measured window (the bench process is always added). */
  cpuPids?: Record<string, number>;
  /** Called when the measured window starts (after the warm-up). */
  onMeasureStart?: () => void;
}

export interface LoadResult extends LatencySummary {
  /** Successful (2xx) responses per second over the measured window. */
  rate: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts (30 s). */
  errors: number;
  seconds: number;
  statusCodes: Record<string, number>;
  cpu: CpuUsage;
}

/**
 * Drives a server with autocannon (closed loop: each connection waits for its answer before sending the
 * next request). Latency is client-observed, per response, in milliseconds.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const warmup = options.warmupSeconds ?? 0;
  const samples: number[] = [];
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let measuring = warmup === 0;
  let measureStart = performance.now();
  const pids = { bench: process.pid, ...options.cpuPids };
  let cpu = cpuProbe(pids);
  if (warmup === 0) options.onMeasureStart?.();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: warmup + options.seconds,
        timeout: 30,
        headers: options.headers,
        requests: [
          {
            method: options.method,
            setupRequest: (request) => {
              const { path, body } = options.next();
              return body === undefined ? { ...request, path } : { ...request, path, body };
            },
          },
        ],
      },
      (error) => {
        clearTimeout(watchdog);
        clearTimeout(warmupTimer);
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const seconds = (performance.now() - measureStart) / 1000;
        resolve({ ...summarize(samples), rate: ok / seconds, ok, non2xx, errors, seconds, statusCodes, cpu: cpu() });
      },
    );
    const warmupTimer = setTimeout(() => {
      measuring = true;
      measureStart = performance.now();
      cpu = cpuProbe(pids);
      options.onMeasureStart?.();
    }, warmup * 1000);
    // autocannon stops itself at the duration; this only guards against a hung run.
    const watchdog = setTimeout(() => instance.stop(), (warmup + options.seconds + 60) * 1000);
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (!measuring) return;
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        samples.push(responseTime);
      } else {
        non2xx++;
      }
    });
    instance.on('reqError', () => {
      if (measuring) errors++;
    });
  });
}
