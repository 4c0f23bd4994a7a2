/**
 * A real rsyslogd (Debian's rsyslog + rsyslog-gnutls) as a syslog receiver for tests. It runs in the
 * foreground as whatever user runs the tests, with a generated config in a temporary directory: imtcp on
 * loopback, one plain-TCP and one TLS listener (gtls, anonymous clients, a CA and server certificate made
 * with `openssl` at test time), and every received message written as one JSON line exposing PRI, HOSTNAME,
 * APP-NAME, MSGID, STRUCTURED-DATA and MSG as rsyslog parsed them. Nothing is faked on the receiving side:
 * framing, RFC 5424 parsing and TLS are rsyslog's own.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RsyslogAvailability {
  available: boolean;
  /** Why the real-rsyslog tests cannot run here; null when they can. */
  reason: string | null;
  binary: string | null;
}

/** One message as rsyslog parsed it (property names as in rsyslog's property replacer). */
export interface ReceivedSyslogMessage {
  pri: string;
  hostname: string;
  app_name: string;
  procid: string;
  msgid: string;
  structured_data: string;
  timestamp: string;
  msg: string;
  /** `plain` or `tls`: which listener received it. */
  input: string;
}

export interface TestCa {
  certFile: string;
  keyFile: string;
  pem: string;
}

export interface TestPki {
  ca: TestCa;
  certFile: string;
  keyFile: string;
}

export interface RsyslogReceiver {
  plainPort: number;
  tlsPort: number;
  /** PEM of the CA that issued the TLS listener's certificate (CN=localhost, SAN localhost, 127.0.0.1, ::1). */
  caPem: string;
  dir: string;
  /** Messages written so far. */
  messages(): ReceivedSyslogMessage[];
  /** Waits (bounded) until at least `count` messages have been written. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedSyslogMessage[]>;
  /** Stops rsyslogd; `start()` brings it back on the same ports (receiver-down-then-up tests). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops rsyslogd and removes the temporary directory. */
  close(): Promise<void>;
}

function findExecutable(name: string, extraDirs: readonly string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter((dir) => dir !== '');
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** rsyslog-gnutls ships lmnsd_gtls.so beside the other modules, under a multiarch directory on Debian. */
function hasGtlsModule(): boolean {
  const roots = ['/usr/lib', '/usr/lib64', '/lib'];
  for (const root of roots) {
    if (existsSync(path.join(root, 'rsyslog', 'lmnsd_gtls.so'))) return true;
    let entries: string[] = [];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    if (entries.some((entry) => existsSync(path.join(root, entry, 'rsyslog', 'lmnsd_gtls.so')))) return true;
  }
  return false;
}

function probe(): RsyslogAvailability {
  const binary = findExecutable('rsyslogd', ['/usr/sbin', '/sbin']);
  if (binary === null) return { available: false, reason: 'rsyslogd not found (apt-get install -y rsyslog rsyslog-gnutls)', binary };
  const version = spawnSync(binary, ['-v'], { encoding: 'utf8', timeout: 5_000 });
  if (version.status !== 0) return { available: false, reason: `${binary} -v failed: ${version.stderr || String(version.error)}`, binary };
  if (!hasGtlsModule()) return { available: false, reason: 'rsyslog TLS driver lmnsd_gtls.so not found (apt-get install -y rsyslog-gnutls)', binary };
  if (findExecutable('openssl', []) === null) return { available: false, reason: 'openssl not found (needed to make test certificates)', binary };
  return { available: true, reason: null, binary };
}

/**
 * Whether real-rsyslog tests can run. Missing rsyslog skips them with the printed reason, except under
 * VERITY_REQUIRE_RSYSLOG=1 (CI), where it throws so the run fails instead of silently skipping.
 */
export function rsyslogAvailability(): RsyslogAvailability {
  const result = probe();
  if (!result.available && process.env.VERITY_REQUIRE_RSYSLOG === '1') {
    throw new Error(`VERITY_REQUIRE_RSYSLOG=1 but ${result.reason ?? 'rsyslog is unavailable'}`);
  }
  return result;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA (EC P-256: fast to generate, and GnuTLS and Node both accept it). */
export function createTestCa(dir: string, name: string): TestCa {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=Verity test CA ${name}`]);
  return { certFile, keyFile, pem: readFileSync(certFile, 'utf8') };
}

/** A CA and a server certificate it issued for localhost, 127.0.0.1 and ::1. */
export function createTestPki(dir: string): TestPki {
  const ca = createTestCa(dir, 'ca');
  const keyFile = path.join(dir, 'server.key');
  const csrFile = path.join(dir, 'server.csr');
  const certFile = path.join(dir, 'server.pem');
  const extFile = path.join(dir, 'server.ext');
  writeFileSync(
    extFile,
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=localhost']);
  openssl(['x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', extFile]);
  return { ca, certFile, keyFile };
}

function config(dir: string, pki: TestPki, ports: { plain: number; tls: number }): string {
  const file = (name: string): string => JSON.stringify(path.join(dir, name));
  return `
global(
  workDirectory=${JSON.stringify(dir)}
  maxMessageSize="128k"
  defaultNetstreamDriverCAFile=${JSON.stringify(pki.ca.certFile)}
  defaultNetstreamDriverCertFile=${JSON.stringify(pki.certFile)}
  defaultNetstreamDriverKeyFile=${JSON.stringify(pki.keyFile)}
)
module(load="imtcp")
template(name="verityReceived" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app_name" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="structured_data" name="structured-data" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="input" name="inputname" format="jsonf")
}
ruleset(name="received") {
  action(type="omfile" file=${file('received.jsonl')} template="verityReceived")
}
input(type="imtcp" name="plain" address="127.0.0.1" port="${ports.plain}" listenPortFileName=${file('plain.port')} ruleset="received")
input(type="imtcp" name="tls" address="127.0.0.1" port="${ports.tls}" listenPortFileName=${file('tls.port')} ruleset="received"
  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
# rsyslogd's own messages (start-up, framing errors) go elsewhere, for diagnosis only.
*.* action(type="omfile" file=${file('internal.log')})
`;
}

function readPort(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const port = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The listening ports: rsyslog writes listenPortFileName only for port 0, so fixed ports are probed instead. */
async function listening(dir: string, ports: { plain: number; tls: number }): Promise<{ plain: number; tls: number } | undefined> {
  if (ports.plain === 0) {
    const plain = readPort(path.join(dir, 'plain.port'));
    const tls = readPort(path.join(dir, 'tls.port'));
    return plain !== undefined && tls !== undefined ? { plain, tls } : undefined;
  }
  return (await accepts(ports.plain)) && (await accepts(ports.tls)) ? ports : undefined;
}

/** Starts rsyslogd on free loopback ports and waits until both listeners are up. */
export async function startRsyslog(): Promise<RsyslogReceiver> {
  const { binary, reason } = probe();
  if (binary === null || reason !== null) throw new Error(`rsyslog is unavailable: ${reason ?? 'unknown'}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'verity-rsyslog-'));
  const pki = createTestPki(dir);
  const outputFile = path.join(dir, 'received.jsonl');
  let ports = { plain: 0, tls: 0 };
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const confFile = path.join(dir, 'rsyslog.conf');
    writeFileSync(confFile, config(dir, pki, ports));
    for (const name of ['plain.port', 'tls.port']) if (existsSync(path.join(dir, name))) unlinkSync(path.join(dir, name));
    let output = '';
    const proc = spawn(binary as string, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = proc;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const up = await listening(dir, ports);
      if (up !== undefined) {
        ports = up;
        return;
      }
      const internal = existsSync(path.join(dir, 'internal.log')) ? readFileSync(path.join(dir, 'internal.log'), 'utf8') : '';
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`rsyslogd exited (${proc.exitCode ?? proc.signalCode}) before listening:\n${output}\n${internal}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`rsyslogd did not open its listeners within 15 s:\n${output}\n${internal}`);
      }
      await sleep(50);
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }

  function messages(): ReceivedSyslogMessage[] {
    if (!existsSync(outputFile)) return [];
    const text = readFileSync(outputFile, 'utf8');
    // rsyslog may be midway through writing a line: only lines it has finished (ended by \n) are read.
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ReceivedSyslogMessage);
  }

  await start();
  return {
    get plainPort() {
      return ports.plain;
    },
    get tlsPort() {
      return ports.tls;
    },
    caPem: pki.ca.pem,
    dir,
    messages,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const received = messages();
        if (received.length >= count) return received;
        if (Date.now() > deadline) {
          const internal = existsSync(path.join(dir, 'internal.log')) ? readFileSync(path.join(dir, 'internal.log'), 'utf8') : '';
          throw new Error(`rsyslog received ${received.length} of ${count} messages within ${timeoutMs} ms; its log:\n${internal}`);
        }
        await sleep(25);
      }
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
