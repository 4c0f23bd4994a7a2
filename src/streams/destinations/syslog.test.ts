import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createServer as tlsServer } from 'node:tls';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, rsyslogAvailability, startRsyslog, type ReceivedSyslogMessage, type RsyslogReceiver } from '../../../test/fakes/rsyslog.js';
import type { AuditEvent } from '../../ingest/event.schema.js';
import type { DeliveryResult, Destination } from './destination.js';
import { createSyslogDestination, syslog, SyslogConfigSchema, type SyslogConfig, type SyslogTimeouts } from './syslog.js';
import { printUsAscii } from './syslog-format.js';

let counter = 0;
function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  counter += 1;
  return {
    id: `evt_${process.pid}_${String(counter).padStart(5, '0')}`,
    organization_id: 'org_01J0000000000000000000000B',
    action: 'user.signed_in',
    occurred_at: new Date(Date.UTC(2026, 8, 25, 14, 3, 7, counter)).toISOString(),
    version: 1,
    actor: { id: 'user_1', type: 'user', name: 'Jane Doe' },
    targets: [{ id: 'team_1', type: 'team', name: 'Blue' }],
    context: { location: '203.0.113.7', user_agent: 'Mozilla/5.0' },
    metadata: { plan: 'pro' },
    ...overrides,
  };
}

const ctx = { test: false };
const FAST: SyslogTimeouts = { connectTimeoutMs: 1_500, writeTimeoutMs: 5_000, settleMs: 250 };
const open: Destination[] = [];

function destination(config: SyslogConfig, allowPrivate = true, timeouts: SyslogTimeouts = FAST): Destination {
  const created = createSyslogDestination(config, { allowPrivate }, timeouts);
  open.push(created);
  return created;
}

afterEach(async () => {
  for (const sink of open.splice(0)) await sink.close?.();
});

/** Messages of these events, in the order rsyslog wrote them. */
function of(messages: ReceivedSyslogMessage[], events: readonly AuditEvent[]): ReceivedSyslogMessage[] {
  const ids = new Set(events.map((e) => e.id));
  return messages.filter((m) => ids.has(/ id="([^"]+)"/.exec(m.structured_data)?.[1] ?? ''));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const rsyslog = rsyslogAvailability();
if (!rsyslog.available) process.stderr.write(`Skipping the real-rsyslog syslog tests: ${rsyslog.reason} (set VERITY_REQUIRE_RSYSLOG=1 to make this a failure)\n`);

describe.skipIf(!rsyslog.available)('Syslog destination → real rsyslog', () => {
  let receiver: RsyslogReceiver;
  let scratch: string;

  beforeAll(async () => {
    receiver = await startRsyslog();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'verity-syslog-test-'));
  });

  afterAll(async () => {
    await receiver.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function received(events: readonly AuditEvent[]): Promise<ReceivedSyslogMessage[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const mine = of(receiver.messages(), events);
      if (mine.length >= events.length || Date.now() > deadline) return mine;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  const tcp = (format: SyslogConfig['format'], extra: Partial<SyslogConfig> = {}): SyslogConfig => ({ host: '127.0.0.1', port: receiver.plainPort, tls: false, format, ...extra });
  const tls = (format: SyslogConfig['format'], extra: Partial<SyslogConfig> = {}): SyslogConfig => ({
    host: '127.0.0.1',
    port: receiver.tlsPort,
    tls: true,
    ca: receiver.caPem,
    format,
    ...extra,
  });

  it('plain TCP: RFC 5424 JSON messages parse with PRI, APP-NAME, MSGID, SD and the event as MSG', async () => {
    const events = [event(), event({ action: 'user.password_changed' }), event({ metadata: { note: 'line1\nline2 "quoted" ]' } })];
    expect(await destination(tcp('rfc5424_json')).deliver(events, ctx)).toMatchObject({ outcome: 'delivered' });
    const messages = await received(events);
    expect(messages).toHaveLength(3);
    messages.forEach((message, i) => {
      const e = events[i] as AuditEvent;
      expect(message).toMatchObject({ pri: '109', app_name: 'verity', procid: '-', msgid: e.action, input: 'plain', hostname: printUsAscii(os.hostname(), 255) });
      expect(message.structured_data).toBe(`[verity@32473 id="${e.id}" org="${e.organization_id}"]`);
      expect(message.timestamp).toBe(e.occurred_at);
      expect(JSON.parse(message.msg)).toEqual(e);
    });
  });

  it('TLS with a private CA: escaped SD values, custom facility and app name, test marker', async () => {
    const events = [event({ organization_id: 'org_"weird]\\name' })];
    const result = await destination(tls('rfc5424_json', { facility: 10, app_name: 'acme-audit' })).deliver(events, { test: true });
    expect(result).toMatchObject({ outcome: 'delivered' });
    const [message] = await received(events);
    expect(message).toMatchObject({ pri: '85', app_name: 'acme-audit', input: 'tls' });
    expect(message?.structured_data).toBe(`[verity@32473 id="${events[0]?.id}" org="org_\\"weird\\]\\\\name" test="true"]`);
    expect(JSON.parse(message?.msg ?? '')).toEqual(events[0]);
  });

  it('TLS: CEF bodies arrive intact and parse back to the event', async () => {
    const events = [event({ action: 'billing|plan.changed', metadata: { formula: 'a=b\\c' } }), event()];
    expect(await destination(tls('cef')).deliver(events, ctx)).toMatchObject({ outcome: 'delivered' });
    const messages = await received(events);
    expect(messages).toHaveLength(2);
    const cef = messages[0]?.msg ?? '';
    expect(cef.startsWith('CEF:0|Verity|Audit Logs|1.0|billing\\|plan.changed|billing\\|plan.changed|3|rt=')).toBe(true);
    const extension = cef.slice(cef.indexOf('|3|') + 3);
    // Split on spaces that start a new key=value (a value may itself contain spaces), then unescape.
    const pairs = Object.fromEntries(
      extension.split(/ (?=[A-Za-z0-9]+=)/).map((pair) => {
        const at = pair.search(/(?<!\\)=/);
        return [pair.slice(0, at), pair.slice(at + 1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))];
      }),
    );
    expect(pairs).toMatchObject({
      externalId: events[0]?.id,
      act: 'billing|plan.changed',
      suid: 'user_1',
      suser: 'Jane Doe',
      src: '203.0.113.7',
      cs1: 'org_01J0000000000000000000000B',
      requestClientApplication: 'Mozilla/5.0',
      cn1: '1',
      rt: String(Date.parse(events[0]?.occurred_at ?? '')),
    });
    expect(JSON.parse(pairs.cs5 ?? '')).toEqual({ formula: 'a=b\\c' });
    expect(JSON.parse(pairs.cs4 ?? '')).toEqual(events[0]?.targets);
    expect(messages[0]?.msgid).toBe('billing|plan.changed');
  });

  it('TLS: LEEF 2.0 bodies arrive intact with devTime, usrName, src and cat', async () => {
    const events = [event(), event({ metadata: { expr: 'x^2' } })];
    expect(await destination(tls('leef')).deliver(events, ctx)).toMatchObject({ outcome: 'delivered' });
    const messages = await received(events);
    expect(messages).toHaveLength(2);
    for (const [i, message] of messages.entries()) {
      const leef = message.msg;
      const header = /^LEEF:2\.0\|Verity\|Audit Logs\|1\.0\|user\.signed_in\|(.)\|/.exec(leef);
      expect(header, leef).not.toBeNull();
      const delimiter = header?.[1] ?? '';
      expect(delimiter).toBe(i === 0 ? '^' : '~');
      const pairs = Object.fromEntries(leef.slice(header?.[0].length).split(delimiter).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
      const e = events[i] as AuditEvent;
      expect(pairs).toMatchObject({ devTime: e.occurred_at, usrName: 'Jane Doe', src: '203.0.113.7', cat: 'user.signed_in', eventId: e.id, organizationId: e.organization_id });
      expect(JSON.parse(pairs.metadata ?? '')).toEqual(e.metadata);
    }
  });

  it('a batch of 1,000 events arrives complete and in order over one connection', async () => {
    const events = Array.from({ length: 1000 }, () => event());
    const sink = destination(tls('rfc5424_json'));
    expect(await sink.deliver(events.slice(0, 500), ctx)).toMatchObject({ outcome: 'delivered' });
    expect(await sink.deliver(events.slice(500), ctx)).toMatchObject({ outcome: 'delivered' });
    const messages = await received(events);
    expect(messages.map((m) => (JSON.parse(m.msg) as AuditEvent).id)).toEqual(events.map((e) => e.id));
  });

  it('an event over 64 KiB arrives as a marked, parseable summary', async () => {
    const metadata: Record<string, string> = {};
    for (let i = 0; i < 50; i++) metadata[`k${i}`] = 'v'.repeat(500);
    const events = [event({ metadata, targets: Array.from({ length: 20 }, (_, i) => ({ id: `t${i}`, type: 'doc', metadata })) })];
    expect(await destination(tcp('rfc5424_json')).deliver(events, ctx)).toMatchObject({ outcome: 'delivered' });
    const [message] = await received(events);
    expect(message?.structured_data).toContain('truncated="true"');
    const body = JSON.parse(message?.msg ?? '') as AuditEvent & { verity_truncated: { targets_total: number } };
    expect(body.id).toBe(events[0]?.id);
    expect(body.verity_truncated.targets_total).toBe(20);
  });

  it('receiver down then up: retry while it is down, then deliver on a new connection', async () => {
    const sink = destination(tcp('rfc5424_json'));
    const before = [event()];
    expect(await sink.deliver(before, ctx)).toMatchObject({ outcome: 'delivered' });
    await received(before);
    await receiver.stop();
    // The receiver's FIN reaches our idle socket before the next batch, so it reconnects instead of writing into it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const during = [event()];
    const refused = await sink.deliver(during, ctx);
    expect(refused.outcome).toBe('retry');
    expect(refused.outcome === 'retry' && refused.error).toContain('ECONNREFUSED');
    await receiver.start();
    expect(await sink.deliver(during, ctx)).toMatchObject({ outcome: 'delivered' });
    expect(await received(during)).toHaveLength(1);
  });

  it('a certificate from another CA is invalid, with a clear message', async () => {
    const other = createTestCa(scratch, 'other');
    const result = await destination(tls('rfc5424_json', { ca: other.pem })).deliver([event()], ctx);
    expect(result.outcome).toBe('invalid');
    expect(result.outcome === 'invalid' && result.error).toMatch(/^TLS certificate verification failed for 127\.0\.0\.1:\d+: .* \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)\. If the receiver's certificate comes from a private CA, put that CA's PEM in `ca`\.$/);
  });

  it('without `ca`, a privately issued certificate is invalid (system CAs only)', async () => {
    const { ca: _ca, ...config } = tls('cef');
    expect((await destination(config).deliver([event()], ctx)).outcome).toBe('invalid');
  });

  it('a host name the certificate does not name is invalid', async () => {
    // Host name checks are the client's job, so a Node TLS server with rsyslog's certificate stands in:
    // it listens on 127.0.0.2 (loopback on Linux), an address the certificate does not name.
    const server = tlsServer({ cert: readFileSync(path.join(receiver.dir, 'server.pem')), key: readFileSync(path.join(receiver.dir, 'server.key')) }, (socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const result = await destination(tls('cef', { host: '127.0.0.2', port })).deliver([event()], ctx);
      expect(result.outcome).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      server.close();
    }
  });

  it('plain TCP sent to the TLS port is not reported as delivered', async () => {
    const events = [event()];
    const result = await destination({ host: '127.0.0.1', port: receiver.tlsPort, tls: false, format: 'rfc5424_json' }).deliver(events, ctx);
    expect(result.outcome).toBe('retry');
    expect(result.outcome === 'retry' && result.error).toContain('if the port expects TLS, set tls to true');
  });

  it('TLS to the plain port times out in the handshake and is retried with a hint', async () => {
    const result = await destination({ ...tls('rfc5424_json'), port: receiver.plainPort }).deliver([event()], ctx);
    expect(result.outcome).toBe('retry');
    expect(result.outcome === 'retry' && result.error).toContain('is this a TLS port?');
  });

  it('the address guard refuses loopback unless private destinations are allowed', async () => {
    const events = [event()];
    for (const host of ['127.0.0.1', 'localhost']) {
      const result = await destination({ ...tls('rfc5424_json'), host }, false).deliver(events, ctx);
      expect(result.outcome, host).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toContain('VERITY_ALLOW_PRIVATE_DESTINATIONS');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(of(receiver.messages(), events)).toHaveLength(0);
  });
});

describe('Syslog destination: network failures (no receiver needed)', () => {
  it('connection refused is retried', async () => {
    const port = await freePort();
    const result = await destination({ host: '127.0.0.1', port, tls: false, format: 'cef' }).deliver([event()], ctx);
    expect(result).toMatchObject({ outcome: 'retry' });
    expect(result.outcome === 'retry' && result.error).toMatch(/^syslog 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('a receiver that accepts but never completes the TLS handshake times out and is retried', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      const result = await destination({ host: '127.0.0.1', port, tls: true, format: 'leef' }, true, { ...FAST, connectTimeoutMs: 300 }).deliver([event()], ctx);
      expect(result.outcome).toBe('retry');
      expect(result.outcome === 'retry' && result.error).toContain('timed out after 300 ms');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      silent.close();
    }
  });

  it('loopback and private IP literals are refused without connecting when private destinations are not allowed', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      for (const host of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1']) {
        const result = await destination({ host, port, tls: false, format: 'rfc5424_json' }, false).deliver([event()], ctx);
        expect(result.outcome, host).toBe('invalid');
      }
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('a `ca` that is not a certificate is invalid', async () => {
    const port = await freePort();
    const ca = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    const result: DeliveryResult = await destination({ host: '127.0.0.1', port, tls: true, ca, format: 'cef' }).deliver([event()], ctx);
    expect(result.outcome).toBe('invalid');
    expect(result.outcome === 'invalid' && result.error).toContain('`ca` is not a usable PEM certificate');
  });
});

describe('Syslog config schema', () => {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
  addFormats.default(ajv);
  const validate = ajv.compile(SyslogConfigSchema);

  it('accepts the documented fields and fills defaults', () => {
    const config: Record<string, unknown> = { host: 'siem.example.com', port: 6514, tls: true, format: 'leef' };
    expect(validate(config)).toBe(true);
    expect(config).toMatchObject({ app_name: 'verity', facility: 13 });
    expect(syslog.secretFields).toEqual([]);
    expect(syslog.type).toBe('Syslog');
  });

  it('rejects bad hosts, ports, facilities, formats, app names and unknown fields', () => {
    const valid = { host: 'siem.example.com', port: 6514, tls: true, format: 'cef' };
    for (const bad of [{ host: 'a b' }, { port: 0 }, { port: 70000 }, { facility: 24 }, { format: 'gelf' }, { app_name: 'has space' }, { ca: 'nope' }, { extra: true }]) {
      expect(validate({ ...valid, ...bad }), JSON.stringify(bad)).toBe(false);
    }
  });
});
