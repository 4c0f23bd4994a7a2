import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** What the holder of a data directory tells a second opener, so its refusal can say what to do. */
export interface LockHolder {
  pid: number;
  role: string;
  url?: string | undefined;
}

export class DataDirLockedError extends Error {
  readonly holder: LockHolder | undefined;
  constructor(dir: string, holder: LockHolder | undefined) {
    const who = holder ? `Verity process ${holder.pid} (${holder.role}${holder.url ? `, serving ${holder.url}` : ''})` : 'another Verity process';
    super(
      `The data directory ${dir} is in use by ${who}. PGlite must never be opened by two processes at once ` +
        '(committed rows would be lost). Stop that process first, or talk to it through its HTTP API ' +
        '(the CLI does this with --url <server> --api-key <admin key>).',
    );
    this.name = 'DataDirLockedError';
    this.holder = holder;
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on a data directory. The lock is a listening Unix socket: the kernel frees it
 * when its process dies, even by SIGKILL, so a crash never leaves the directory stuck. On Linux the socket
 * lives in the abstract namespace (nothing on disk); elsewhere it is a socket file in the directory, and
 * a file whose owner is gone (connection refused) is stale and replaced.
 */
export async function lockDataDir(dir: string, holder: LockHolder): Promise<DataDirLock> {
  mkdirSync(dir, { recursive: true });
  const real = realpathSync(dir);
  const address =
    process.platform === 'linux'
      ? `\0verity-datadir-${createHash('sha256').update(real).digest('hex').slice(0, 40)}`
      : path.join(real, '.verity.lock.sock');
  const server = net.createServer((socket) => socket.end(JSON.stringify(holder)));
  try {
    await listen(server, address);
  } catch (error) {
    if (!isAddressInUse(error)) throw error;
    const current = await askHolder(address);
    if (current === 'stale' && process.platform !== 'linux') {
      rmSync(address, { force: true });
      await listen(server, address);
    } else {
      throw new DataDirLockedError(real, current === 'stale' ? undefined : current);
    }
  }
  // The lock must not keep the event loop alive on its own.
  server.unref();
  return {
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function listen(server: net.Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

function askHolder(address: string): Promise<LockHolder | 'stale' | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    let text = '';
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(text) as LockHolder);
      } catch {
        resolve(undefined);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'stale' : undefined));
    socket.on('close', () => resolve(undefined));
  });
}
