import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { parsePublicKey, parseSigningKey } from '../integrity/signing-key.js';

/** Verity's whole configuration, parsed once from the environment and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Directory of the embedded database, the master key file and other local state. */
  readonly dataDir: string;
  /** PostgreSQL connection string; when unset the embedded PGlite database in `dataDir` is used. */
  readonly databaseUrl: string | undefined;
  readonly dbPoolSize: number;
  /** Base URL for links Verity hands out (portal links, export downloads, docs). */
  readonly publicUrl: string;
  /**
   * Which proxies' X-Forwarded-For/-Proto/-Host to believe (fastify trustProxy): false (none), true (any:
   * only when nothing but the proxy can reach Verity), or proxy addresses/CIDRs. Behind a
   * TLS-terminating proxy this makes request.protocol https (Secure cookies) and request.ip the client's
   * (per-address sign-in limit, audit event context).
   */
  readonly trustProxy: TrustProxy;
  /** Ensures an admin key with exactly this secret exists (deployments, tests). */
  readonly bootstrapApiKey: string | undefined;
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (it names every tenant's streams). */
  readonly metricsToken: string | undefined;
  /** Master key for secrets at rest (32 bytes, hex or base64); generated into dataDir when unset. */
  readonly secretKey: Buffer | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Requests per minute per API key; 0 disables the limiter. */
  readonly rateLimitPerMinute: number;
  readonly defaultRetentionDays: number;
  readonly shutdownTimeoutMs: number;
  /** Let log streams reach private, loopback and link-local addresses (trusted networks, tests). */
  readonly allowPrivateDestinations: boolean;
  /** A stream failing without a break for this long is paused, with the reason in its state. */
  readonly streamMaxFailingHours: number;
  /** Streams one worker process delivers at the same time. */
  readonly streamConcurrency: number;
  /** How long a worker's claim on a stream lasts without renewal; a dead worker's streams move after this. */
  readonly streamLeaseSeconds: number;
  /** Timeout of one request to a destination. */
  readonly streamRequestTimeoutMs: number;
  /** First operator of the dashboard, created (or its password reset) at start; both set or neither. */
  readonly adminEmail: string | undefined;
  readonly adminPassword: string | undefined;
  /** How long a dashboard sign-in lasts. */
  readonly sessionHours: number;
  /** How long an Admin Portal session opened from a link lasts. */
  readonly portalSessionMinutes: number;
  /** The vendor's name and logo, shown in the Admin Portal. */
  readonly brandName: string;
  readonly brandLogoUrl: string | undefined;
  /** CSP frame-ancestors sources of the embeddable viewer (space-separated, e.g. "https://app.example.com"). */
  readonly portalFrameAncestors: string;
  /** Export files go to this S3-compatible bucket when set, else to `<dataDir>/exports`. */
  readonly exportS3: ExportS3Config | undefined;
  /** Export files (and their export objects) are deleted this long after the export was created. */
  readonly exportTtlHours: number;
  /** How often the retention purge runs (minutes). */
  readonly retentionIntervalMinutes: number;
  /** Price of one SIEM connection (log stream) for a whole month, in `currency`. */
  readonly priceSiemConnectionMonthly: number;
  /** Price of one million events stored (monthly average), for a month, in `currency`. */
  readonly pricePerMillionEventsMonthly: number;
  /** ISO 4217 code the prices are in; shown on bills, never converted. */
  readonly currency: string;
  /** Ed25519 key that signs integrity checkpoints (VERITY_SIGNING_KEY); generated into dataDir when unset. */
  readonly signingKey: KeyObject | undefined;
  /**
   * Public keys of signing keys used before a rotation (VERITY_RETIRED_PUBLIC_KEYS): what they signed —
   * checkpoints, purged ranges — still verifies, and nothing new is signed with them.
   */
  readonly retiredPublicKeys: readonly KeyObject[];
  /** An organization gets a checkpoint once this many events arrived since its last one… */
  readonly checkpointEveryEvents: number;
  /** …and at least this often (minutes) while its log keeps moving. */
  readonly checkpointIntervalMinutes: number;
}

/** VERITY_TRUST_PROXY parsed: see Config.trustProxy. */
export type TrustProxy = boolean | readonly string[];

/** VERITY_EXPORT_S3_*: where export files are kept when not in the data directory. */
export interface ExportS3Config {
  readonly bucket: string;
  readonly region: string;
  /** S3 API base URL for MinIO, R2 and other S3-compatible stores; unset for AWS. */
  readonly endpoint: string | undefined;
  /** Both unset: the AWS SDK's default credential chain (environment, instance role, …). */
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  readonly forcePathStyle: boolean;
  /** Key prefix for export objects, e.g. "verity/exports/". */
  readonly prefix: string;
}

/** The sslmode values node-postgres understands (libpq's, plus no-verify). */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Parses the environment; throws one ConfigError that lists every problem found. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };

  const port = int('PORT', 8080, 0, 65535);
  const host = read('HOST') ?? '0.0.0.0';
  const dataDir = path.resolve(cwd, read('VERITY_DATA_DIR') ?? './data');

  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// connection string');
  } else if (databaseUrl !== undefined && !URL.canParse(databaseUrl)) {
    // Never echo it: it may hold a password.
    problems.push('DATABASE_URL is not a valid URL: check the port, and that special characters in the user name or password are percent-encoded (@ as %40, # as %23, / as %2F)');
  } else if (databaseUrl !== undefined) {
    const sslmode = new URL(databaseUrl).searchParams.get('sslmode');
    if (sslmode !== null && !SSL_MODES.includes(sslmode)) problems.push(`DATABASE_URL's sslmode must be one of ${SSL_MODES.join(', ')}`);
  }

  let publicUrl = read('VERITY_PUBLIC_URL') ?? `http://localhost:${port}`;
  try {
    const url = new URL(publicUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    publicUrl = url.toString().replace(/\/$/, '');
  } catch {
    problems.push(`VERITY_PUBLIC_URL must be an absolute http(s) URL (got "${publicUrl}")`);
  }

  const trustProxy = parseTrustProxy(read('VERITY_TRUST_PROXY'), problems);

  const bootstrapApiKey = read('VERITY_BOOTSTRAP_API_KEY');
  if (bootstrapApiKey !== undefined && !/^sk_[A-Za-z0-9_-]{16,200}$/.test(bootstrapApiKey)) {
    // Never echo the value: it is a secret.
    problems.push('VERITY_BOOTSTRAP_API_KEY must look like sk_ followed by at least 16 letters, digits, _ or -');
  }

  const metricsToken = read('VERITY_METRICS_TOKEN');
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,200}$/.test(metricsToken)) {
    problems.push('VERITY_METRICS_TOKEN must be 16 to 200 printable characters without spaces');
  }

  let secretKey: Buffer | undefined;
  const rawSecret = read('VERITY_SECRET_KEY');
  if (rawSecret !== undefined) {
    secretKey = parseKey(rawSecret);
    if (secretKey === undefined) problems.push('VERITY_SECRET_KEY must be 32 bytes, as 64 hex characters or base64');
  }

  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };

  // Prices are money: at most two decimals, so bills computed in whole cents are exact.
  const money = (name: string, fallback: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d{1,9}(\.\d{1,2})?$/.test(raw)) {
      problems.push(`${name} must be a non-negative amount with at most two decimals (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  };

  const currency = read('VERITY_CURRENCY') ?? 'USD';
  if (!/^[A-Z]{3}$/.test(currency)) problems.push(`VERITY_CURRENCY must be a three-letter ISO 4217 code such as USD (got "${currency}")`);

  let exportS3: ExportS3Config | undefined;
  const exportBucket = read('VERITY_EXPORT_S3_BUCKET');
  if (exportBucket !== undefined) {
    const endpoint = read('VERITY_EXPORT_S3_ENDPOINT');
    if (endpoint !== undefined && !/^https?:\/\/[^\s/?#@]+(\/[^\s?#@]*)?$/.test(endpoint)) {
      problems.push(`VERITY_EXPORT_S3_ENDPOINT must be an http(s) base URL without query or credentials (got "${endpoint}")`);
    }
    const accessKeyId = read('VERITY_EXPORT_S3_ACCESS_KEY_ID');
    const secretAccessKey = read('VERITY_EXPORT_S3_SECRET_ACCESS_KEY');
    // Half a key pair would silently fall back to the default credential chain.
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      problems.push('VERITY_EXPORT_S3_ACCESS_KEY_ID and VERITY_EXPORT_S3_SECRET_ACCESS_KEY must be set together (or neither, for the default AWS credential chain)');
    }
    const prefix = read('VERITY_EXPORT_S3_PREFIX') ?? 'exports/';
    if (prefix.startsWith('/')) problems.push(`VERITY_EXPORT_S3_PREFIX must not start with "/" (got "${prefix}")`);
    exportS3 = {
      bucket: exportBucket,
      region: read('VERITY_EXPORT_S3_REGION') ?? 'us-east-1',
      endpoint,
      accessKeyId,
      secretAccessKey,
      forcePathStyle: bool('VERITY_EXPORT_S3_FORCE_PATH_STYLE', false),
      prefix,
    };
  }

  const adminEmail = read('VERITY_ADMIN_EMAIL')?.toLowerCase();
  const adminPassword = env.VERITY_ADMIN_PASSWORD === '' ? undefined : env.VERITY_ADMIN_PASSWORD;
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    problems.push('VERITY_ADMIN_EMAIL and VERITY_ADMIN_PASSWORD must be set together (or neither, to get a one-time setup link)');
  }
  if (adminEmail !== undefined && !EMAIL.test(adminEmail)) problems.push(`VERITY_ADMIN_EMAIL must be an email address (got "${adminEmail}")`);
  // Never echo the value: it is a secret.
  if (adminPassword !== undefined && (adminPassword.length < 12 || adminPassword.length > 1024)) {
    problems.push('VERITY_ADMIN_PASSWORD must be 12 to 1024 characters long');
  }

  const brandName = read('VERITY_BRAND_NAME') ?? 'Verity';
  if (brandName.length > 100) problems.push('VERITY_BRAND_NAME must be at most 100 characters');
  const brandLogoUrl = read('VERITY_BRAND_LOGO_URL');
  if (brandLogoUrl !== undefined && logoOrigin(brandLogoUrl) === undefined) {
    problems.push(`VERITY_BRAND_LOGO_URL must be an absolute http(s) URL or a path starting with / (got "${brandLogoUrl}")`);
  }
  const portalFrameAncestors = (read('VERITY_PORTAL_FRAME_ANCESTORS') ?? '*').split(/\s+/).join(' ');
  // Each source is checked so the value cannot smuggle another CSP directive (;) or header text in.
  const badSource = portalFrameAncestors.split(' ').find((source) => !FRAME_SOURCE.test(source));
  if (badSource !== undefined) {
    problems.push(`VERITY_PORTAL_FRAME_ANCESTORS must be CSP sources separated by spaces, such as https://app.example.com or 'self' (got "${badSource}")`);
  }

  let signingKey: KeyObject | undefined;
  const rawSigningKey = read('VERITY_SIGNING_KEY');
  if (rawSigningKey !== undefined) {
    signingKey = parseSigningKey(rawSigningKey);
    // Never echo the value: it is a secret.
    if (signingKey === undefined) problems.push('VERITY_SIGNING_KEY must be an Ed25519 private key: PKCS#8 PEM, or the 32-byte seed as base64 or 64 hex characters');
  }
  const retiredPublicKeys: KeyObject[] = [];
  // Base64 keys separated by commas or white space; a PEM block counts as one item.
  const retiredItems = (read('VERITY_RETIRED_PUBLIC_KEYS') ?? '').match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----|[^\s,]+/g) ?? [];
  retiredItems.forEach((item, i) => {
    const key = parsePublicKey(item);
    if (key === undefined) {
      problems.push(`VERITY_RETIRED_PUBLIC_KEYS item ${i + 1} is not an Ed25519 public key: give each as the public_key_base64 (or PEM) that GET /audit_logs/integrity/public_key published, separated by commas or spaces`);
    } else retiredPublicKeys.push(key);
  });

  const rawLevel = read('LOG_LEVEL') ?? 'info';
  const logLevel = LOG_LEVELS.find((level) => level === rawLevel);
  if (logLevel === undefined) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const config: Config = {
    port,
    host,
    dataDir,
    databaseUrl,
    dbPoolSize: int('VERITY_DB_POOL_SIZE', 20, 2, 500),
    publicUrl,
    trustProxy,
    bootstrapApiKey,
    metricsToken,
    secretKey,
    logLevel: logLevel ?? 'info',
    rateLimitPerMinute: int('VERITY_RATE_LIMIT_PER_MINUTE', 100_000, 0, 100_000_000),
    defaultRetentionDays: int('VERITY_DEFAULT_RETENTION_DAYS', 365, 1, 3650),
    shutdownTimeoutMs: int('VERITY_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    allowPrivateDestinations: bool('VERITY_ALLOW_PRIVATE_DESTINATIONS', false),
    streamMaxFailingHours: int('VERITY_STREAM_MAX_FAILING_HOURS', 72, 1, 24 * 365),
    streamConcurrency: int('VERITY_STREAM_CONCURRENCY', 16, 1, 1000),
    streamLeaseSeconds: int('VERITY_STREAM_LEASE_SECONDS', 60, 2, 3600),
    streamRequestTimeoutMs: int('VERITY_STREAM_REQUEST_TIMEOUT_MS', 15_000, 100, 300_000),
    adminEmail,
    adminPassword,
    sessionHours: int('VERITY_SESSION_HOURS', 12, 1, 24 * 30),
    portalSessionMinutes: int('VERITY_PORTAL_SESSION_MINUTES', 60, 1, 24 * 60),
    brandName,
    brandLogoUrl,
    portalFrameAncestors,
    exportS3,
    exportTtlHours: int('VERITY_EXPORT_TTL_HOURS', 24, 1, 24 * 365),
    retentionIntervalMinutes: int('VERITY_RETENTION_INTERVAL_MINUTES', 60, 1, 7 * 24 * 60),
    priceSiemConnectionMonthly: money('VERITY_PRICE_SIEM_CONNECTION_MONTHLY', 125),
    pricePerMillionEventsMonthly: money('VERITY_PRICE_PER_MILLION_EVENTS_MONTHLY', 99),
    currency,
    signingKey,
    retiredPublicKeys,
    checkpointEveryEvents: int('VERITY_CHECKPOINT_EVERY_EVENTS', 1000, 1, 100_000_000),
    checkpointIntervalMinutes: int('VERITY_CHECKPOINT_INTERVAL_MINUTES', 10, 1, 7 * 24 * 60),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}$/;

// Names proxy-addr (fastify's trustProxy) knows for address ranges.
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * VERITY_TRUST_PROXY: unset or "false" → false; "true" → true; otherwise comma-separated proxy addresses,
 * CIDRs or the range names loopback, linklocal and uniquelocal. No hop counts: fastify 5 ignores them
 * (a hop count cannot tell the proxy from a client that adds forwarding headers itself).
 */
function parseTrustProxy(raw: string | undefined, problems: string[]): TrustProxy {
  if (raw === undefined || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() === 'true') return true;
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !PROXY_RANGES.has(entry) && !isAddressOrCidr(entry));
  if (bad !== undefined) {
    problems.push(`VERITY_TRUST_PROXY must be true, false, or comma-separated proxy addresses/CIDRs such as 10.0.0.0/8,loopback (got "${bad}")`);
    return false;
  }
  return Object.freeze(entries);
}

function isAddressOrCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

// A CSP source expression: a keyword, a scheme, or a host with optional scheme, wildcard, port and path.
const FRAME_SOURCE = /^(?:'self'|'none'|\*|https?:|(?:https?:\/\/)?(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(?:\d{1,5}|\*))?(?:\/[A-Za-z0-9._~!$&()*+=:@/%-]*)?)$/;

/**
 * The origin a brand logo loads from, for the CSP's img-src: '' for a same-origin path, undefined when the
 * value is not an acceptable logo address.
 */
export function logoOrigin(value: string): string | undefined {
  if (value.startsWith('/') && !value.startsWith('//')) return '';
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export function parseKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  const decoded = Buffer.from(raw, 'base64');
  return decoded.length === 32 ? decoded : undefined;
}
