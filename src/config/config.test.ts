import { describe, expect, it } from 'vitest';
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
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', VERITY_PUBLIC_URL: 'ftp://x', VERITY_BOOTSTRAP_API_KEY: 'hunter2-secret', VERITY_SECRET_KEY: 'short', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(6);
    expect((error as ConfigError).message).not.toContain('hunter2-secret');
  });

  it('accepts a 32-byte secret key as hex or base64', () => {
    expect(loadConfig({ VERITY_SECRET_KEY: 'ab'.repeat(32) }).secretKey?.length).toBe(32);
    expect(loadConfig({ VERITY_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }).secretKey?.length).toBe(32);
  });
});
