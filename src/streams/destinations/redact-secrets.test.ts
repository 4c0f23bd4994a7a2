import { describe, expect, it } from 'vitest';
import { redactResult, redactSecrets, secretStrings } from './redact-secrets.js';

describe('redact-secrets', () => {
  it('collects nested secret strings in every form and redacts them, longest first, ignoring short ones', () => {
    const secrets = secretStrings({ headers: { Authorization: 'Bearer a/b+c=d token', 'X-Flag': 'on' }, signing_secret: 'whsec_abcdefgh' });
    const text = `echo: Bearer a/b+c=d token | ${encodeURIComponent('Bearer a/b+c=d token')} | a/b+c=d token | whsec_abcdefgh | on`;
    expect(redactSecrets(text, secrets)).toBe('echo: [redacted] | [redacted] | [redacted] | [redacted] | on');
  });

  it('redacts error and detail, and leaves a result without secrets alone', () => {
    expect(redactResult({ outcome: 'retry', status: 500, error: 'HTTP 500: key=k3y-secret' }, ['k3y-secret'])).toEqual({ outcome: 'retry', status: 500, error: 'HTTP 500: key=[redacted]' });
    expect(redactResult({ outcome: 'delivered', detail: 'k3y-secret' }, ['k3y-secret'])).toEqual({ outcome: 'delivered', detail: '[redacted]' });
  });
});
