import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';

/**
 * A Splunk HEC receiver for the streams bench, run in its own process (`node --import tsx
 * bench/receivers/hec.ts`) so that its CPU is not the bench's or the server's. It checks the token, parses
 * every envelope (newline-separated JSON, as HEC accepts), answers `{"text":"Success","code":0}` and counts
 * events per organization. A second port takes control requests from the bench:
 *
 *   GET  /stats                 → { organizations: { [org]: { received, unique } }, requests, bytes }
 *   POST /record                → from now on keep the arrival time of each event (for latency runs)
 *   GET  /arrivals?organization_id=… → [[key, epochMs], …] (key: metadata.bench_n, else the event id)
 *   POST /down, POST /up        → close the HEC port (connections refused, as in an outage) / reopen it
 *
 * Settings: HEC_PORT, CONTROL_PORT, HEC_TOKEN (all required), HOST (default 127.0.0.1).
 */

interface Envelope {
  event?: { id?: unknown; organization_id?: unknown; metadata?: Record<string, unknown> | null };
}

interface OrgCounts {
  received: number;
  ids: Set<string>;
  arrivals: [string, number][];
}

const host = process.env.HOST ?? '127.0.0.1';
const hecPort = Number(process.env.HEC_PORT);
const controlPort = Number(process.env.CONTROL_PORT);
const token = process.env.HEC_TOKEN ?? '';
if (!Number.isInteger(hecPort) || !Number.isInteger(controlPort) || token === '') {
  process.stderr.write('HEC_PORT, CONTROL_PORT and HEC_TOKEN are required\n');
  process.exit(2);
}

const organizations = new Map<string, OrgCounts>();
let requests = 0;
let bytes = 0;
let recording = false;

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const nowMs = (): number => performance.timeOrigin + performance.now();

function countsFor(org: string): OrgCounts {
  let counts = organizations.get(org);
  if (counts === undefined) {
    counts = { received: 0, ids: new Set(), arrivals: [] };
    organizations.set(org, counts);
  }
  return counts;
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function handleHec(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'POST' || !(request.url ?? '').startsWith('/services/collector')) {
    reply(response, 404, { text: 'The requested URL was not found on this server.', code: 404 });
    return;
  }
  if (request.headers.authorization !== `Splunk ${token}`) {
    reply(response, 403, { text: 'Invalid token', code: 4 });
    return;
  }
  let raw = await buffer(request);
  bytes += raw.length;
  requests += 1;
  if (request.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
  const at = nowMs();
  const lines = raw.toString('utf8').split('\n');
  const parsed: Envelope[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      parsed.push(JSON.parse(line) as Envelope);
    } catch {
      reply(response, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': index });
      return;
    }
  }
  if (parsed.length === 0) {
    reply(response, 400, { text: 'No data', code: 5 });
    return;
  }
  // Counted only once the whole request parsed: HEC indexes all or (from the bad event on) nothing.
  for (const envelope of parsed) {
    const event = envelope.event;
    const id = typeof event?.id === 'string' ? event.id : '';
    const counts = countsFor(typeof event?.organization_id === 'string' ? event.organization_id : '?');
    counts.received += 1;
    counts.ids.add(id);
    if (recording) {
      const mark = event?.metadata?.bench_n;
      counts.arrivals.push([typeof mark === 'string' ? mark : id, at]);
    }
  }
  reply(response, 200, { text: 'Success', code: 0 });
}

const sockets = new Set<Socket>();
let hec: Server | undefined;

function openHec(): Promise<void> {
  const server = createServer((request, response) => {
    handleHec(request, response).catch((error: unknown) => reply(response, 500, { text: String(error), code: 8 }));
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  hec = server;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(hecPort, host, () => resolve());
  });
}

/** Closes the port and cuts open connections: the sender sees refused or reset connections. */
function closeHec(): Promise<void> {
  const server = hec;
  hec = undefined;
  if (server === undefined) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  return closed;
}

const control = createServer((request, response) => {
  const url = new URL(request.url ?? '/', `http://${host}`);
  const route = `${request.method ?? 'GET'} ${url.pathname}`;
  const run = async (): Promise<void> => {
    switch (route) {
      case 'GET /stats':
        reply(response, 200, {
          organizations: Object.fromEntries([...organizations].map(([org, c]) => [org, { received: c.received, unique: c.ids.size }])),
          requests,
          bytes,
          up: hec !== undefined,
        });
        return;
      case 'POST /record':
        recording = true;
        reply(response, 200, { recording });
        return;
      case 'GET /arrivals':
        reply(response, 200, organizations.get(url.searchParams.get('organization_id') ?? '')?.arrivals ?? []);
        return;
      case 'POST /down':
        await closeHec();
        reply(response, 200, { up: false });
        return;
      case 'POST /up':
        if (hec === undefined) await openHec();
        reply(response, 200, { up: true });
        return;
      default:
        reply(response, 404, { error: `no route ${route}` });
    }
  };
  run().catch((error: unknown) => reply(response, 500, { error: String(error) }));
});

await openHec();
control.listen(controlPort, host);
process.once('SIGTERM', () => {
  void closeHec().finally(() => control.close(() => process.exit(0)));
});
