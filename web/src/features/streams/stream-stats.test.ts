import { describe, expect, it } from 'vitest';
import type { LogStream } from '../../lib/types';
import { deliveredSub, failedAttemptsCard } from './stream-stats';

function stream(overrides: Partial<LogStream> = {}, stats: Partial<LogStream['stats']> = {}): LogStream {
  return {
    object: 'log_stream',
    id: 'ls_1',
    organization_id: 'org_1',
    name: null,
    type: 'GenericHttps',
    state: 'active',
    state_reason: null,
    paused: false,
    config: {},
    secrets_set: [],
    last_synced_at: null,
    created_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
    ...overrides,
    stats: { delivered: 0, failed: 0, cursor_seq: 0, lag_events: 0, next_attempt_at: null, ...stats },
  };
}

describe('stream status cards', () => {
  it('shows old failures of a stream that delivers again as history, not in red', () => {
    const recovered = failedAttemptsCard(stream({ state: 'active' }, { failed: 4 }));
    expect(recovered.danger).toBe(false);
    expect(recovered.sub).toMatch(/delivering normally now/);
  });

  it('shows failures in red while the stream is failing or stopped, with what comes next', () => {
    const retrying = failedAttemptsCard(stream({ state: 'error' }, { failed: 2, next_attempt_at: new Date(Date.now() + 60_000).toISOString() }));
    expect(retrying).toMatchObject({ danger: true });
    expect(retrying.sub).toMatch(/^next retry/);
    const stopped = failedAttemptsCard(stream({ state: 'invalid' }, { failed: 1 }));
    expect(stopped.danger).toBe(true);
    expect(stopped.sub).not.toMatch(/retried automatically/);
    expect(failedAttemptsCard(stream({ state: 'error', paused: true }, { failed: 3 }))).toEqual({ danger: false, sub: 'paused: not retried' });
  });

  it('says the delivered count includes replays, and where the stream is in the log', () => {
    const sub = deliveredSub(stream({}, { delivered: 150, cursor_seq: 100 }));
    expect(sub).toMatch(/replays included/);
    expect(sub).toMatch(/seq #100/);
  });
});
