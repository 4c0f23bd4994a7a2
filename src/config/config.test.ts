import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verificationKeyFrom } from '../integrity/signing-key.js';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({}, '/srv/verity');
    expect(config).toMatchObject({ port: 8080, dataDir: '/srv/verity/data', databaseUrl: undefined, publicUrl: 'http://localhost:8080', rateLimitPerMinute: 100_000, defaultRetentionDays: 365 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every problem at once and never echoes a secret', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', VERITY_PUBLIC_URL: 'ftp://x', VERITY_BOOTSTRAP_API_KEY: 'hunter2-secret', VERITY_SECRET_KEY: 'short', LOG_LEVEL: 'loud', VERITY_METRICS_TOKEN: 'metrics pw' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(7);
    expect((error as ConfigError).message).not.toContain('hunter2-secret');
    expect((error as ConfigError).message).not.toContain('metrics pw');
  });

  it('reports a DATABASE_URL that is not a URL with the other problems, without echoing it', () => {
    for (const url of ['postgres://u:S3cretPW@127.0.0.1:notaport/db', 'postgres://u:S3cretPW@[::1:5432/db']) {
      let error: unknown;
      try {
        loadConfig({ DATABASE_URL: url, PORT: 'eighty' });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([expect.stringContaining('PORT'), expect.stringMatching(/^DATABASE_URL is not a valid URL/)]);
      expect((error as ConfigError).message).not.toContain('S3cretPW');
    }
    expect(loadConfig({ DATABASE_URL: 'postgresql:///verity?host=/var/run/postgresql' }).databaseUrl).toBe('postgresql:///verity?host=/var/run/postgresql');
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:pw@127.0.0.1:5432/db?sslmode=bogus' })).toThrow(/sslmode must be one of disable, prefer, require/);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:pw@db.example:5432/db?sslmode=verify-full' }).databaseUrl).toContain('verify-full');
  });

  it('takes retired public keys as published, separated by commas or spaces, and names a bad one by position', () => {
    const published = (): string => verificationKeyFrom(createPublicKey(generateKeyPairSync('ed25519').privateKey)).publicKeyBase64;
    const [first, second] = [published(), published()];
    expect(loadConfig({ VERITY_RETIRED_PUBLIC_KEYS: ` ${first}, ${second}\n` }).retiredPublicKeys.map((key) => verificationKeyFrom(key).publicKeyBase64)).toEqual([first, second]);
    expect(loadConfig({}).retiredPublicKeys).toEqual([]);
    expect(() => loadConfig({ VERITY_RETIRED_PUBLIC_KEYS: `${first},not-a-key` })).toThrow(/VERITY_RETIRED_PUBLIC_KEYS item 2 is not an Ed25519 public key/);
    // Another separator is not taken for the end of the first key (base64 decoding would stop at its '=').
    expect(() => loadConfig({ VERITY_RETIRED_PUBLIC_KEYS: `${first};${second}` })).toThrow(/item 1 is not an Ed25519 public key/);
    // A PEM block is one item, spaces and line breaks included.
    const pem = createPublicKey(generateKeyPairSync('ed25519').privateKey).export({ type: 'spki', format: 'pem' }).toString();
    expect(loadConfig({ VERITY_RETIRED_PUBLIC_KEYS: `${first}\n${pem}` }).retiredPublicKeys).toHaveLength(2);
  });

  it('accepts a 32-byte secret key as hex or base64', () => {
    expect(loadConfig({ VERITY_SECRET_KEY: 'ab'.repeat(32) }).secretKey?.length).toBe(32);
    expect(loadConfig({ VERITY_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }).secretKey?.length).toBe(32);
  });
});

describe('loadConfig: dashboard and Admin Portal', () => {
  it('defaults: 12 h operator sessions, 60 min portal sessions, brand Verity, embeddable anywhere', () => {
    expect(loadConfig({})).toMatchObject({
      adminEmail: undefined,
      adminPassword: undefined,
      sessionHours: 12,
      portalSessionMinutes: 60,
      brandName: 'Verity',
      brandLogoUrl: undefined,
      portalFrameAncestors: '*',
    });
  });

  it('reads the first operator, lower-casing the email', () => {
    const config = loadConfig({ VERITY_ADMIN_EMAIL: 'Ops@Vendor.example', VERITY_ADMIN_PASSWORD: 'a long enough password' });
    expect(config.adminEmail).toBe('ops@vendor.example');
    expect(config.adminPassword).toBe('a long enough password');
  });

  it('refuses half an operator, a short password (without echoing it), a bad logo URL and CSP injection', () => {
    const problemsOf = (env: Record<string, string>): readonly string[] => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(problemsOf({ VERITY_ADMIN_EMAIL: 'ops@vendor.example' })).toHaveLength(1);
    const short = problemsOf({ VERITY_ADMIN_EMAIL: 'ops@vendor.example', VERITY_ADMIN_PASSWORD: 'hunter2' });
    expect(short).toHaveLength(1);
    expect(short.join()).not.toContain('hunter2');
    expect(problemsOf({ VERITY_BRAND_LOGO_URL: 'javascript:alert(1)' })).toHaveLength(1);
    expect(problemsOf({ VERITY_PORTAL_FRAME_ANCESTORS: "https://a.example; script-src 'unsafe-inline'" })).toHaveLength(1);
    expect(problemsOf({ VERITY_PORTAL_FRAME_ANCESTORS: "'self' https://app.vendor.example https://*.vendor.example:8443" })).toEqual([]);
    expect(problemsOf({ VERITY_BRAND_LOGO_URL: '/assets/logo.svg' })).toEqual([]);
  });
});

describe('loadConfig: VERITY_TRUST_PROXY', () => {
  const problemsOf = (value: string): readonly string[] => {
    try {
      loadConfig({ VERITY_TRUST_PROXY: value });
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('trusts no proxy by default, so forwarding headers from clients are ignored', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ VERITY_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ VERITY_TRUST_PROXY: 'TRUE' }).trustProxy).toBe(true);
  });

  it('reads proxy addresses, CIDRs and range names', () => {
    expect(loadConfig({ VERITY_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback,uniquelocal' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
      'loopback',
      'uniquelocal',
    ]);
  });

  it('refuses hop counts (fastify 5 ignores them), host names and bad prefixes', () => {
    for (const value of ['1', 'proxy.internal', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', 'yes']) {
      expect(problemsOf(value), value).toHaveLength(1);
    }
  });
});
