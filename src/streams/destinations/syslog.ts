import { X509Certificate } from 'node:crypto';
import net, { isIP, type Socket } from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { Type, type Static } from 'typebox';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { StringEnum } from '../../shared/string-enum.js';
import { ForbiddenAddressError, guardedLookup, isForbiddenAddress } from '../net/address-guard.js';
import { CERTIFICATE_ERRORS, type DeliveryResult, type Destination, type DestinationDeps, type DestinationType } from './destination.js';
import { formatSyslogMessage, frameSyslogMessage, type SyslogBodyFormat, type SyslogMessageOptions } from './syslog-format.js';
import { errorCode } from '../../shared/error-code.js';

export const SyslogConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9._:-]+$', description: 'Receiver host name or IP address.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Usually 6514 for TLS (RFC 5425), 514 or 601 for TCP.' }),
    tls: Type.Boolean({ description: 'TLS (RFC 5425). Without it, events travel in clear text.' }),
    ca: Type.Optional(
      Type.String({
        maxLength: 65536,
        pattern: '-----BEGIN CERTIFICATE-----',
        description: "PEM of the CA that issued the receiver's certificate, when it is not publicly trusted. Replaces the system CAs.",
      }),
    ),
    format: StringEnum(['rfc5424_json', 'cef', 'leef'], {
      description: 'Message body: the event as JSON, CEF (ArcSight) or LEEF 2.0 (QRadar).',
    }),
    app_name: Type.Optional(Type.String({ pattern: '^[\\x21-\\x7e]{1,48}$', default: 'verity', description: 'RFC 5424 APP-NAME.' })),
    facility: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 23, default: 13, description: 'Syslog facility number; 13 is "log audit", 10 "authpriv", 16–23 local0–local7.' }),
    ),
  },
  { additionalProperties: false },
);
export type SyslogConfig = Static<typeof SyslogConfigSchema>;

// The schema spells the formats out (a mapped array would lose the literal types); this keeps both lists equal.
const _formatsMatch: [SyslogConfig['format']] extends [SyslogBodyFormat] ? ([SyslogBodyFormat] extends [SyslogConfig['format']] ? true : never) : never = true;

export interface SyslogTimeouts {
  /** TCP connect plus TLS handshake. */
  connectTimeoutMs: number;
  /** Until a batch has been handed to the kernel; a receiver that stops reading holds it up. */
  writeTimeoutMs: number;
  /**
   * After the first batch on a new connection, how long to watch for the receiver dropping it. A receiver
   * that refuses us (plain TCP sent to a TLS port, a TLS server demanding a client certificate, an ACL)
   * accepts the connection and resets it a few milliseconds after the first write; without this wait that
   * batch would count as delivered and be lost, again after every reconnect.
   */
  settleMs: number;
}

const DEFAULT_TIMEOUTS: SyslogTimeouts = { connectTimeoutMs: 10_000, writeTimeoutMs: 30_000, settleMs: 250 };


/** Raised by our own timers so classification can tell them from socket errors. */
class SyslogTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(message: string) {
    super(message);
    this.name = 'SyslogTimeoutError';
  }
}

/** The configured `ca` is not a usable PEM certificate: only a config change fixes that. */
class InvalidCaError extends Error {
  readonly code = 'EINVALIDCA';
  constructor(cause: unknown) {
    super(`\`ca\` is not a usable PEM certificate: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'InvalidCaError';
  }
}


/** Maps a connect or write failure to what the engine should do with the batch. */
export function classifySyslogError(error: unknown, config: Pick<SyslogConfig, 'host' | 'port'>): DeliveryResult {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = errorCode(err);
  const where = `${config.host}:${config.port}`;
  if (code === 'EFORBIDDENADDRESS' || code === 'EINVALIDCA') return { outcome: 'invalid', error: err.message };
  if (code !== undefined && CERTIFICATE_ERRORS.has(code)) {
    return {
      outcome: 'invalid',
      error:
        `TLS certificate verification failed for ${where}: ${err.message} (${code}). ` +
        "If the receiver's certificate comes from a private CA, put that CA's PEM in `ca`.",
    };
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    return { outcome: 'invalid', error: `${where} requires a TLS client certificate (mutual TLS), which Verity does not send.` };
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return { outcome: 'invalid', error: `TLS handshake with ${where} failed (${code}): is this a TLS port? Set tls to false for plain TCP.` };
  }
  return { outcome: 'retry', error: `syslog ${where}: ${err.message}${code !== undefined && !err.message.includes(code) ? ` (${code})` : ''}` };
}

/**
 * One long-lived TCP or TLS connection per destination. Syslog has no acknowledgement, so "delivered" means
 * the batch was handed to the kernel: a connection that dies after that (receiver crash, RST on the next
 * write) can lose what was still in flight. The engine's at-least-once guarantee therefore holds up to the
 * socket; a receiver that closes cleanly is noticed (its FIN drops our socket) before the next batch.
 */
class SyslogConnection {
  private socket: Socket | undefined;
  private secureContext: tls.SecureContext | undefined;

  constructor(
    private readonly config: SyslogConfig,
    private readonly allowPrivate: boolean,
    private readonly timeouts: SyslogTimeouts,
  ) {}

  async write(data: Buffer): Promise<void> {
    const fresh = this.socket === undefined || this.socket.destroyed;
    const socket = fresh ? await this.connect() : (this.socket as Socket);
    try {
      await this.flush(socket, data);
      if (fresh) await this.settle(socket);
    } catch (error) {
      // The socket's state is unknown after a failed write: start the next attempt on a fresh one.
      this.drop(socket);
      throw error;
    }
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, 2_000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }

  private drop(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }

  private connect(): Promise<Socket> {
    const { host, port } = this.config;
    // net.connect skips the lookup hook for IP literals, so the address guard is applied to them here.
    if (!this.allowPrivate && isIP(host) !== 0 && isForbiddenAddress(host)) {
      return Promise.reject(new ForbiddenAddressError(host, host));
    }
    const lookup = guardedLookup(this.allowPrivate);
    let socket: Socket;
    try {
      socket = this.config.tls
        ? tls.connect({
            host,
            port,
            lookup,
            secureContext: this.context(),
            // SNI must be a host name; for an IP literal Node checks the certificate's IP SANs instead.
            ...(isIP(host) === 0 ? { servername: host } : {}),
          })
        : net.connect({ host, port, lookup });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const readyEvent = this.config.tls ? 'secureConnect' : 'connect';
    return new Promise<Socket>((resolve, reject) => {
      let tcpConnected = false;
      socket.once('connect', () => (tcpConnected = true));
      const timer = setTimeout(() => {
        socket.destroy();
        const what = tcpConnected ? 'the TLS handshake with' : 'connecting to';
        const hint = tcpConnected ? ' (is this a TLS port? a plain syslog listener never answers the handshake)' : '';
        reject(new SyslogTimeoutError(`${what} ${host}:${port} timed out after ${this.timeouts.connectTimeoutMs} ms${hint}`));
      }, this.timeouts.connectTimeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      socket.once('error', onError);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        // Errors after connecting surface through the pending write; this listener only keeps an idle
        // socket's error (e.g. a reset while no batch is in flight) from becoming an uncaught exception.
        socket.on('error', () => this.drop(socket));
        socket.on('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        // Receivers do not talk back; discard anything they send so it is not buffered.
        socket.resume();
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  private context(): tls.SecureContext {
    // Built once: parsing the CA for every connection is wasted work, and a bad PEM fails here, clearly.
    if (this.secureContext !== undefined) return this.secureContext;
    try {
      // createSecureContext silently ignores a PEM block it cannot parse; X509Certificate does not.
      const blocks = this.config.ca?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (this.config.ca !== undefined && blocks.length === 0) throw new Error('no complete PEM certificate block');
      for (const block of blocks) new X509Certificate(block);
      this.secureContext = tls.createSecureContext(this.config.ca !== undefined ? { ca: this.config.ca } : {});
    } catch (error) {
      throw new InvalidCaError(error);
    }
    return this.secureContext;
  }

  /** Resolves if the receiver keeps the connection open for settleMs; rejects with why it dropped it. */
  private settle(socket: Socket): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onClose);
        if (error === undefined) return resolve();
        const plainHint = this.config.tls ? '' : '; if the port expects TLS, set tls to true';
        const wrapped = new Error(`${this.config.host}:${this.config.port} dropped the connection right after the first batch (${error.message})${plainHint}`, {
          cause: error,
        });
        reject(Object.assign(wrapped, { code: errorCode(error) }));
      };
      const onError = (error: Error): void => done(error);
      const onClose = (): void => done(new Error('connection closed'));
      const timer = setTimeout(() => done(), this.timeouts.settleMs);
      if (socket.destroyed) return done(new Error('connection closed'));
      socket.once('error', onError);
      socket.once('close', onClose);
    });
  }

  private flush(socket: Socket, data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('close', onClose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onClose = (): void => finish(new Error('connection closed before the batch was written'));
      const timer = setTimeout(
        () => finish(new SyslogTimeoutError(`writing to ${this.config.host}:${this.config.port} timed out after ${this.timeouts.writeTimeoutMs} ms`)),
        this.timeouts.writeTimeoutMs,
      );
      socket.once('close', onClose);
      socket.write(data, (error) => finish(error ?? undefined));
    });
  }
}

/** Builds the destination; timeouts are a parameter so tests need not wait ten seconds for a timeout. */
export function createSyslogDestination(config: SyslogConfig, deps: Pick<DestinationDeps, 'allowPrivate'>, timeouts: SyslogTimeouts = DEFAULT_TIMEOUTS): Destination {
  const options: SyslogMessageOptions = {
    format: config.format,
    appName: config.app_name ?? 'verity',
    facility: config.facility ?? 13,
    hostname: os.hostname(),
  };
  const connection = new SyslogConnection(config, deps.allowPrivate, timeouts);
  // Batches on one stream are sequential, but a test delivery may overlap: writes must not interleave frames.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    // 1,000 events / 1 MB per batch: one write of many frames; messages are ≤ 64 KiB each (syslog-format.ts).
    limits: { maxEvents: 1000, maxBytes: 1_000_000 },
    deliver(events: readonly AuditEvent[], context) {
      const frames = Buffer.concat(events.map((event) => frameSyslogMessage(formatSyslogMessage(event, options, context.test).message)));
      const attempt = queue.then(async (): Promise<DeliveryResult> => {
        try {
          await connection.write(frames);
          return { outcome: 'delivered', detail: `${events.length} message(s), ${frames.length} bytes written` };
        } catch (error) {
          return classifySyslogError(error, config);
        }
      });
      queue = attempt;
      return attempt;
    },
    close: () => connection.close(),
  };
}

export const syslog: DestinationType<SyslogConfig> = {
  type: 'Syslog',
  label: 'Syslog (TCP/TLS)',
  configSchema: SyslogConfigSchema,
  secretFields: [],
  secretsBoundTo: [],
  // VERITY_STREAM_REQUEST_TIMEOUT_MS bounds a syslog connect and a batch's write as it bounds an HTTP request.
  create: (config, deps) => createSyslogDestination(config, deps, { ...DEFAULT_TIMEOUTS, connectTimeoutMs: deps.http.timeoutMs, writeTimeoutMs: deps.http.timeoutMs }),
};
