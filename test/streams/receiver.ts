import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingMessage['headers'];
  body: string;
  events: { id: string; seq?: number; actor: { id: string } }[];
}

export interface ScriptedAnswer {
  status: number;
  retryAfter?: string;
  delayMs?: number;
  /** Request headers (lower-case names) quoted back in the error body. */
  echoHeaders?: string[];
}

/**
 * A loopback HTTP receiver for GenericHttps streams (JSON array of {event, …} items) whose answers a test
 * scripts: queue statuses (with optional Retry-After) before the default 200.
 */
export class ScriptedReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Every request answered, whatever its status (requests holds only the accepted ones). */
  answered = 0;
  private readonly script: ScriptedAnswer[] = [];
  private server: Server | undefined;
  url = '';
  /** Delay every answer by this long (a slow SIEM). */
  delayAllMs = 0;
  /** While set, answers wait for it: a test holds the first batch in flight until its events are all sent. */
  private gate: { opened: Promise<void>; open: () => void } | undefined;
  private inFlight = 0;
  /** Most requests ever open at once: a stream must never be delivered by two workers at a time. */
  maxInFlight = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const next = this.script.shift();
        const answer = (): void => {
          this.inFlight -= 1;
          this.answered += 1;
          const status = next?.status ?? 200;
          if (status >= 200 && status < 300) {
            const body = Buffer.concat(chunks).toString('utf8');
            const items = JSON.parse(body) as { event: ReceivedRequest['events'][number] }[];
            this.requests.push({ headers: request.headers, body, events: items.map((item) => item.event) });
          }
          response.writeHead(status, next?.retryAfter === undefined ? {} : { 'retry-after': next.retryAfter });
          // Like a WAF or a debugging proxy that quotes the request it refused, credentials included.
          const echoed = Object.fromEntries((next?.echoHeaders ?? []).map((name) => [name, request.headers[name]]));
          response.end(status >= 400 ? JSON.stringify({ error: `scripted ${status}`, ...(next?.echoHeaders ? { request_headers: echoed } : {}) }) : '{}');
        };
        const delay = (next?.delayMs ?? 0) + this.delayAllMs;
        const gate = this.gate?.opened;
        const answerAfterGate = (): void => void (gate ?? Promise.resolve()).then(answer);
        if (delay > 0) setTimeout(answerAfterGate, delay);
        else answerAfterGate();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves once a request has arrived and is not answered yet (the batch is in flight). */
  async waitForOpenRequest(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight === 0) {
      if (Date.now() > deadline) throw new Error(`no request arrived within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Holds every answer until releaseAnswers(). A delay alone races a slow machine: the first batch can be
   * answered, and a second one be in flight, before the test has finished sending its events.
   */
  holdAnswers(): this {
    let open = (): void => undefined;
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gate = { opened, open };
    return this;
  }

  releaseAnswers(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  /** Resolves once no request is open. */
  async waitUntilIdle(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0) {
      if (Date.now() > deadline) throw new Error(`a request stayed open for ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  respond(...answers: ScriptedAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  /** Event ids in first-arrival order: must equal the log order for an ordered at-least-once stream. */
  firstArrivals(): string[] {
    return [...new Set(this.eventIds())];
  }

  /** Every event id received, in arrival order (duplicates included). */
  eventIds(): string[] {
    return this.requests.flatMap((r) => r.events.map((e) => e.id));
  }

  async waitFor(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (new Set(this.eventIds()).size < count) {
      if (Date.now() > deadline) throw new Error(`received ${new Set(this.eventIds()).size} of ${count} events in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.releaseAnswers();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
