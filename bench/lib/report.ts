import type { CpuUsage } from './proc.js';
import { fmtMiB, fmtMs, fmtRate, table } from './stats.js';

export interface Measurement {
  name: string;
  backend: string;
  rate: number;
  unit: string;
  p50?: number | undefined;
  p95?: number | undefined;
  p99?: number | undefined;
  /** e.g. "0" or "12 non-2xx" */
  errors?: string | undefined;
  memory?: { rssKiB: number; peakKiB: number } | undefined;
  cpu?: CpuUsage | undefined;
}

/**
 * "98/61/40/3": percent of one core over the measured window for the server, all postgres processes, the
 * bench process (autocannon) and everything else on the machine (other work skewing the run).
 */
export function fmtCpu(cpu: CpuUsage | undefined): string {
  if (cpu === undefined) return '—';
  const { server, postgres, bench } = cpu.processes;
  const p = (v: number | undefined): string => (v === undefined ? '—' : String(Math.round(v)));
  const other = Math.max(0, cpu.machine - (server ?? 0) - (postgres ?? 0) - (bench ?? 0));
  return `${p(server)}/${p(postgres)}/${p(bench)}/${p(other)}`;
}

export interface Check {
  label: string;
  value: string;
  target: string;
  pass: boolean;
}

/** Collects measurements and target checks; prints them as tables. */
export class Report {
  readonly measurements: Measurement[] = [];
  readonly checks: Check[] = [];
  readonly notes: string[] = [];

  add(measurement: Measurement): void {
    this.measurements.push(measurement);
    const m = measurement;
    const lat = m.p50 === undefined ? '' : `  p50 ${fmtMs(m.p50)} p95 ${fmtMs(m.p95 ?? Number.NaN)} p99 ${fmtMs(m.p99 ?? Number.NaN)}`;
    const mem = m.memory === undefined ? '' : `  rss ${fmtMiB(m.memory.rssKiB)} (peak ${fmtMiB(m.memory.peakKiB)})`;
    const cpu = m.cpu === undefined ? '' : `  cpu% srv/pg/bench/other ${fmtCpu(m.cpu)}`;
    log(`  → ${m.name} [${m.backend}]: ${fmtRate(m.rate)} ${m.unit}${lat}${mem}${cpu}${m.errors && m.errors !== '0' ? `  errors: ${m.errors}` : ''}`);
  }

  check(label: string, value: string, target: string, pass: boolean): void {
    this.checks.push({ label, value, target, pass });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  get failed(): Check[] {
    return this.checks.filter((c) => !c.pass);
  }

  render(): string {
    const rows = this.measurements.map((m) => [
      m.name,
      m.backend,
      `${fmtRate(m.rate)}`,
      m.unit,
      fmtMs(m.p50 ?? Number.NaN),
      fmtMs(m.p95 ?? Number.NaN),
      fmtMs(m.p99 ?? Number.NaN),
      m.errors ?? '—',
      fmtMiB(m.memory?.rssKiB),
      fmtMiB(m.memory?.peakKiB),
      fmtCpu(m.cpu),
    ]);
    const out = [
      table(['measurement', 'store', 'rate', 'unit', 'p50', 'p95', 'p99', 'errors', 'server RSS', 'peak RSS', 'CPU% srv/pg/bench/other'], rows),
      '',
      table(
        ['check', 'measured', 'target', 'result'],
        this.checks.map((c) => [c.label, c.value, c.target, c.pass ? 'PASS' : 'FAIL']),
      ),
    ];
    if (this.notes.length > 0) out.push('', ...this.notes.map((n) => `note: ${n}`));
    return out.join('\n');
  }
}

const started = Date.now();

/** Progress on stderr, stamped with seconds since the start, so the tables on stdout stay clean. */
export function log(message: string): void {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}
