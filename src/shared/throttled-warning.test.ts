import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ThrottledWarning } from './throttled-warning.js';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('ThrottledWarning', () => {
  it('logs the first failure, counts repeats within the interval, and reports the count with the next line', () => {
    const { logger, lines } = capture();
    let now = 0;
    const warning = new ThrottledWarning(logger, 'claiming jobs failed', 60_000, () => now);
    for (let i = 0; i < 5; i++) {
      warning.warn(new Error('database "x" does not exist'));
      now += 1_000;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'claiming jobs failed', err: { message: 'database "x" does not exist' } });
    now = 61_000;
    warning.warn(new Error('still down'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ repeatedSinceLastLine: 4 });
  });

  it('logs a different error at once, even within the quiet interval', () => {
    const { logger, lines } = capture();
    const warning = new ThrottledWarning(logger, 'claiming jobs failed', 60_000, () => 0);
    warning.warn(new Error('database "x" does not exist'));
    warning.warn(new Error('database "x" does not exist'));
    warning.warn(new Error('permission denied for table jobs'));
    expect(lines.map((line) => (line.err as { message: string }).message)).toEqual(['database "x" does not exist', 'permission denied for table jobs']);
    expect(lines[1]).toMatchObject({ repeatedSinceLastLine: 1 });
  });

  it('after a success, logs the next failure at once and says how long the run was', () => {
    const { logger, lines } = capture();
    let now = 0;
    const warning = new ThrottledWarning(logger, 'claiming jobs failed', 60_000, () => now);
    warning.warn(new Error('a'));
    warning.warn(new Error('a'));
    warning.succeeded();
    expect(lines[1]).toMatchObject({ level: 30, failedTimes: 2, msg: 'claiming jobs failed; working again' });
    now = 1;
    warning.warn(new Error('a'));
    expect(lines).toHaveLength(3);
  });
});
