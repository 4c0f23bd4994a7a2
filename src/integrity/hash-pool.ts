import { Worker } from 'node:worker_threads';
import { chainHashOfJsonText } from './canonical-text.js';

/**
 * Rows whose hashes to recompute: hash i must equal SHA-256(prev i ‖ canonical JSON of document i). Sent
 * as three strings rather than arrays of them: copying a few large strings to a worker is much cheaper
 * than copying thousands of small ones.
 */
export interface HashBatch {
  id: number;
  count: number;
  /** The prev_hash of every row, 64 hex characters each, back to back. */
  prevs: string;
  /** The stored hash of every row, likewise. */
  hashes: string;
  /** The jsonb text of every row, one per line (jsonb text never holds a raw newline). */
  documents: string;
}

export interface HashReply {
  id: number;
  /** Index of the first row whose hash does not recompute, or -1. */
  bad: number;
}

/** One stored event: its hash must be SHA-256(prev_hash ‖ canonical JSON of data), data being jsonb text. */
export interface HashedRow {
  prev_hash: string;
  hash: string;
  data: string;
}

/** Recomputes event hashes; `check` answers the index of the first row that fails, or -1. */
export interface HashChecker {
  check(rows: readonly HashedRow[]): Promise<number>;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
// Rows between yields of the inline checker, so PostgreSQL's next chunk keeps arriving meanwhile.
const INLINE_SLICE = 256;

/** Hashes on the calling thread (small logs, and wherever worker threads cannot start). */
export class InlineHashChecker implements HashChecker {
  async check(rows: readonly HashedRow[]): Promise<number> {
    for (let i = 0; i < rows.length; i++) {
      if (i % INLINE_SLICE === INLINE_SLICE - 1) await new Promise<void>((resolve) => setImmediate(resolve));
      const row = rows[i] as HashedRow;
      if (!hashMatches(row.prev_hash, row.data, row.hash)) return i;
    }
    return -1;
  }

  async close(): Promise<void> {}
}

export function hashMatches(prev: string, data: string, hash: string): boolean {
  try {
    return chainHashOfJsonText(prev, data) === hash;
  } catch {
    // A document that cannot be canonicalised cannot hash to anything stored.
    return false;
  }
}

/**
 * Worker threads that recompute hashes, so canonicalising and hashing (most of a chain walk's cost) run
 * beside the thread that reads from the database, on as many cores as the machine has to spare.
 */
export class HashPool implements HashChecker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(bad: number): void; reject(error: Error): void }>();
  private failure: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (reply: HashReply) => {
        const waiting = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        waiting?.resolve(reply.bad);
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`hash worker exited with code ${code}`));
      });
    }
  }

  /** `size` workers, or undefined when worker threads cannot start here. */
  static async start(size: number): Promise<HashPool | undefined> {
    const entry = workerEntry();
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const worker = entry.typescript ? new Worker(entry.bootstrap, { eval: true }) : new Worker(entry.url);
        workers.push(worker);
        await new Promise<void>((resolve, reject) => {
          worker.once('online', resolve);
          worker.once('error', reject);
        });
      }
      const pool = new HashPool(workers);
      // A trivial batch proves the workers loaded their modules (a TypeScript entry needs tsx).
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('hash workers did not answer')), START_TIMEOUT_MS);
      });
      try {
        if ((await Promise.race([pool.check([{ prev_hash: '0'.repeat(64), hash: '', data: '{}' }]), timeout])) !== 0) throw new Error('hash worker answered wrongly');
      } finally {
        clearTimeout(timer);
      }
      return pool;
    } catch {
      await Promise.allSettled(workers.map((worker) => worker.terminate()));
      return undefined;
    }
  }

  /** Splits the rows among the workers; the first failing index over all of them. */
  async check(rows: readonly HashedRow[]): Promise<number> {
    if (this.failure !== undefined) throw this.failure;
    const parts = this.workers.length;
    const size = Math.ceil(rows.length / parts);
    const answers: Promise<number>[] = [];
    for (let part = 0; part < parts && part * size < rows.length; part++) {
      const from = part * size;
      const to = Math.min(rows.length, from + size);
      const slice = rows.slice(from, to);
      const worker = this.workers[part] as Worker;
      const id = this.nextId++;
      answers.push(
        new Promise<number>((resolve, reject) => {
          this.pending.set(id, { resolve: (bad) => resolve(bad === -1 ? -1 : from + bad), reject });
          const batch: HashBatch = {
            id,
            count: slice.length,
            prevs: slice.map((row) => row.prev_hash).join(''),
            hashes: slice.map((row) => row.hash).join(''),
            documents: slice.map((row) => row.data).join('\n'),
          };
          worker.postMessage(batch);
        }),
      );
    }
    const bad = (await Promise.all(answers)).filter((index) => index !== -1);
    return bad.length === 0 ? -1 : Math.min(...bad);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((worker) => worker.terminate()));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

/**
 * The worker's entry: the compiled JavaScript beside this file, or — running from TypeScript sources (dev,
 * tests) — a bootstrap that registers tsx in the worker first (a worker does not inherit the loader hooks
 * of its parent, nor takes --import in its execArgv on Node 20).
 */
function workerEntry(): { url: URL; typescript: boolean; bootstrap: string } {
  const typescript = import.meta.url.endsWith('.ts');
  const url = new URL(typescript ? './hash-worker.ts' : './hash-worker.js', import.meta.url);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return { url, typescript, bootstrap };
}
