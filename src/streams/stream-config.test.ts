import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.js';
import { validateConfig } from './stream-config.js';

/** The 422 errors validateConfig answers for a config. */
function errorsOf(type: string, config: Record<string, unknown>): readonly unknown[] {
  try {
    validateConfig(type, config);
  } catch (error) {
    if (error instanceof AppError) return error.errors ?? [];
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('validateConfig messages', () => {
  it('says what form a value must take, not which regular expression it failed', () => {
    const errors = errorsOf('GenericHttps', { url: 'https://siem.example/in', signing_secret: 'short' });
    expect(errors).toEqual([
      { code: 'invalid', field: 'config.signing_secret', message: 'is not in the expected form: Standard Webhooks secret (whsec_…, base64 of 24–64 bytes)' },
    ]);
    expect(JSON.stringify(errors)).not.toContain('^');
    expect(errorsOf('Splunk', { hec_url: 'ftp://splunk.example:8088', hec_token: 'token' })).toContainEqual({
      code: 'invalid',
      field: 'config.hec_url',
      message: 'must be an http:// or https:// URL',
    });
  });

  it('never quotes the value, which may be a secret', () => {
    const errors = errorsOf('GenericHttps', { url: 'https://siem.example/in', signing_secret: 'whsec_!!not-base64-but-secret!!' });
    expect(JSON.stringify(errors)).not.toContain('not-base64-but-secret');
  });

  it('does not quote an invalid custom header name, which may hold pasted secret text', () => {
    const errors = errorsOf('GenericHttps', { url: 'https://siem.example/in', headers: { 'X-Team': 'a', 'Bad Name: sk_live_SECRET': 'v' } });
    expect(errors).toEqual([{ code: 'invalid', field: 'config.headers', message: 'header 2 of 2 does not have a valid name (letters, digits and hyphens)' }]);
  });
});
