import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const LOOPBACK = '127.0.0.1';

/** A free TCP port on the loopback interface (asks the kernel, then releases it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resident and peak resident memory of a process, in KiB, from /proc/<pid>/status. */
export function memoryOf(pid: number | undefined): { rssKiB: number; peakKiB: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
  } catch {
    return undefined;
  }
}

export interface Child {
  process: ChildProcess;
  pid: number;
  /** The last lines the child wrote to stdout and stderr (for error reports). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` (TypeScript through tsx's loader, so the pid is the server itself, not a wrapper)
 * and keeps the tail of its output.
 */
export function spawnNode(args: readonly string[], env: Record<string, string>, cwd: string): Child {
  const child = spawn(process.execPath, [...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer): void => {
    tail.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (child.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    pid,
    output: () => tail.join('\n'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Polls a URL until it answers 200, the child exits, or the time runs out. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`process exited (${child.process.exitCode}) before answering ${url}:\n${child.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms:\n${child.output()}`);
}

/** CPU time (user + system, seconds) of a process, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine (all cores), seconds, from /proc/stat. */
function machineSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

export interface CpuUsage {
  /** Per named process: percent of one core over the window. */
  processes: Record<string, number>;
  /** Whole machine: percent of one core (200 % = both cores of a 2-core box busy). */
  machine: number;
}

/** CPU seconds per pid of every process whose command name is `comm` (e.g. all PostgreSQL processes). */
function groupSeconds(comm: string): Map<number, number> {
  const result = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
    } catch {
      continue;
    }
    const seconds = cpuSeconds(Number(entry));
    if (seconds !== undefined) result.set(Number(entry), seconds);
  }
  return result;
}

/**
 * Starts measuring CPU use of some processes, of all `postgres` processes together, and of the machine;
 * call the result to read it.
 */
export function cpuProbe(pids: Record<string, number>): () => CpuUsage {
  const wall = performance.now();
  const machine = machineSeconds();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const postgresBefore = groupSeconds('postgres');
  return () => {
    const seconds = (performance.now() - wall) / 1000;
    const now = machineSeconds();
    const processes: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      const start = before[name];
      const end = cpuSeconds(pid);
      if (start !== undefined && end !== undefined) processes[name] = (100 * (end - start)) / seconds;
    }
    let postgres = 0;
    // A backend that started during the window counts from zero.
    for (const [pid, end] of groupSeconds('postgres')) postgres += end - (postgresBefore.get(pid) ?? 0);
    processes.postgres = (100 * postgres) / seconds;
    return { processes, machine: (100 * (now.busy - machine.busy)) / seconds };
  };
}

export interface RssWatch {
  /** Stops sampling; RSS (KiB) when the watch started and the highest sample since. */
  stop(): { beforeKiB: number; peakKiB: number };
}

/**
 * Samples a process's VmRSS every `everyMs`. Unlike VmHWM (the peak since the process started) this is the
 * peak of one window, so growth during a run can be told apart from what the process held before.
 */
export function watchRss(pid: number, everyMs = 100): RssWatch {
  const read = (): number => memoryOf(pid)?.rssKiB ?? Number.NaN;
  const beforeKiB = read();
  let peakKiB = beforeKiB;
  const timer = setInterval(() => {
    const now = read();
    if (now > peakKiB) peakKiB = now;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      peakKiB = Math.max(peakKiB, read());
      return { beforeKiB, peakKiB };
    },
  };
}
