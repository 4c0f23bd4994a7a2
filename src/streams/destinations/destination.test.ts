import { describe, expect, it } from 'vitest';
import { classifyHttpStatus, classifyNetworkError } from './destination.js';

/** fetch reports "fetch failed" with the socket's error as its cause, as undici does. */
function fetchFailure(code: string, message: string): Error {
  const cause = Object.assign(new Error(message), { code });
  return new TypeError('fetch failed', { cause });
}

describe('classifyNetworkError', () => {
  it('a certificate that does not verify is a configuration problem, not an outage', () => {
    for (const [code, message] of [
      ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: IP: 203.0.114.10 is not in the cert's list: "],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
      ['CERT_HAS_EXPIRED', 'certificate has expired'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ]) {
      const result = classifyNetworkError(fetchFailure(code as string, message as string));
      expect(result, code).toMatchObject({ outcome: 'invalid' });
      if (result.outcome === 'invalid') expect(result.error).toBe(`TLS certificate verification failed: ${message} (${code}); check the URL's host name and the destination's certificate`);
    }
  });

  it('refused, reset and timed-out connections are retried', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'UND_ERR_SOCKET']) {
      expect(classifyNetworkError(fetchFailure(code, `${code} happened`)), code).toMatchObject({ outcome: 'retry' });
    }
  });
});

describe('classifyHttpStatus', () => {
  it('a redirect stops the stream with a reason that says redirects are not followed', () => {
    for (const status of [301, 302, 307, 308]) {
      const result = classifyHttpStatus(status, '<html>moved</html>', null);
      expect(result).toMatchObject({ outcome: 'invalid', status });
      expect(result.outcome === 'delivered' ? '' : result.error).toContain('do not follow redirects');
    }
  });

  it('sorts the rest as before: 2xx delivered, 401/403/404 invalid, 429/5xx retried, 413 too large', () => {
    expect(classifyHttpStatus(204, '', null).outcome).toBe('delivered');
    expect(classifyHttpStatus(403, 'no', null).outcome).toBe('invalid');
    expect(classifyHttpStatus(429, '', '3')).toMatchObject({ outcome: 'retry', retryAfterMs: 3000 });
    expect(classifyHttpStatus(503, '', null).outcome).toBe('retry');
    expect(classifyHttpStatus(413, '', null).outcome).toBe('too_large');
  });
});
