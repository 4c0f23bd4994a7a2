import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppendSignal } from './append-signal.js';
import type { QueryService } from './query.service.js';
import { ThrottledWarning } from '../shared/throttled-warning.js';

const HEARTBEAT_MS = 15_000;
/**
 * How often an open tail re-checks its credential without new events to send (it also checks before each
 * batch it sends, so a key revoked by this process gets no event after that). Key lookups are cached for
 * 5 s, so a tail of a key revoked by another process ends within about 10 s; by this process, within 5 s.
 */
const REAUTH_MS = 5_000;
const FETCH_LIMIT = 500;

/**
 * Streams an organization's new events as Server-Sent Events. Each message's id is the event's sequence
 * number, so a client that reconnects with Last-Event-ID resumes exactly where it left off.
 */
export async function serveLiveTail(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: { query: QueryService; signal: AppendSignal; open: Set<ServerResponse> },
  organizationId: string,
): Promise<void> {
  const principal = request.principal();
  const head = await deps.query.headSeq(principal, organizationId);
  const resumeFrom = Number(request.headers['last-event-id']);
  let cursor = Number.isInteger(resumeFrom) && resumeFrom >= 0 && resumeFrom <= head ? resumeFrom : head;

  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  raw.write(`retry: 2000\n: following ${organizationId} from seq ${cursor}\n\n`);

  let closed = false;
  let pumping = false;
  let again = false;
  // The credential is checked again while the response stays open: a revoked key or an ended session
  // stops receiving events. The client is told why; an EventSource then reconnects and gets the 401.
  const authorized = async (): Promise<boolean> => {
    if (closed) return false;
    const still = await request.stillAuthenticated();
    if (closed) return false;
    if (still) return true;
    raw.end(`event: error\ndata: ${JSON.stringify({ message: 'Unauthorized: the credential that opened this stream was revoked or has expired.', code: 'unauthorized' })}\n\n`);
    closed = true;
    return false;
  };
  // One fetch at a time; notifications that arrive meanwhile collapse into one more pass.
  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const events = await deps.query.after(organizationId, cursor, FETCH_LIMIT);
          if (closed || events.length === 0 || !(await authorized())) break;
          for (const event of events) raw.write(`id: ${event.seq}\nevent: audit_log_event\ndata: ${JSON.stringify(event)}\n\n`);
          cursor = events[events.length - 1]?.seq ?? cursor;
          if (events.length < FETCH_LIMIT) break;
        }
      } while (again && !closed);
    } catch (error) {
      request.log.warn({ err: error, organizationId }, 'live tail fetch failed');
    } finally {
      pumping = false;
    }
  };

  // Everything below is undone on close, which may come while the subscription is still being set up (a
  // client that leaves at once): the listener goes on first, and the subscription checks `closed` after.
  const running: { heartbeat?: NodeJS.Timeout; recheck?: NodeJS.Timeout; unsubscribe?: () => void } = {};
  deps.open.add(raw);
  raw.on('close', () => {
    deps.open.delete(raw);
    closed = true;
    clearInterval(running.heartbeat);
    clearInterval(running.recheck);
    running.unsubscribe?.();
  });
  const subscribed = await deps.signal.subscribe(organizationId, (seq) => {
    if (seq > cursor) void pump();
  });
  if (closed) {
    subscribed();
    return;
  }
  running.unsubscribe = subscribed;
  running.heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const checkFailed = new ThrottledWarning(request.log, 'live tail credential check failed');
  running.recheck = setInterval(() => {
    authorized().then(
      () => checkFailed.succeeded(),
      (error: unknown) => checkFailed.warn(error),
    );
  }, REAUTH_MS);
  // Catch up on anything appended between reading the head and subscribing.
  void pump();
}
