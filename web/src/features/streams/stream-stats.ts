import { formatRelative } from '../../lib/format';
import type { LogStream } from '../../lib/types';

export interface StatCard {
  /** Red only while the stream is failing now: a lifetime count of old failures is history, not an alarm. */
  danger: boolean;
  sub: string;
}

/** The Failed attempts card: what comes next while failing, and otherwise that the count is all-time. */
export function failedAttemptsCard(stream: LogStream): StatCard {
  const failing = (stream.state === 'error' || stream.state === 'invalid') && !stream.paused;
  if (stream.paused) return { danger: false, sub: 'paused: not retried' };
  if (stream.state === 'invalid') return { danger: failing, sub: 'stopped: retried when the settings change or on Retry now' };
  if (failing) {
    return { danger: true, sub: stream.stats.next_attempt_at ? `next retry ${formatRelative(stream.stats.next_attempt_at)}` : 'retried automatically' };
  }
  return { danger: false, sub: stream.stats.failed > 0 ? 'since the stream was created; delivering normally now' : 'failures are retried automatically' };
}

/**
 * The Delivered card counts every event sent, so a replay sends some again and the count can pass the
 * stream's position; the position is what says how far the log has been delivered.
 */
export function deliveredSub(stream: LogStream): string {
  return `events sent, replays included · delivered up to seq #${stream.stats.cursor_seq}`;
}
