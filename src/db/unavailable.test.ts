import { describe, expect, it } from 'vitest';
import { databaseError, isDatabaseUnavailable } from './unavailable.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const fromDb = (error: Error) => databaseError(error) as Error;

describe('isDatabaseUnavailable', () => {
  it('recognises refused and broken connections and PostgreSQL answers meaning "cannot take work"', () => {
    for (const error of [
      fromDb(withCode('ECONNREFUSED')),
      fromDb(withCode('3D000', 'database "gone" does not exist')),
      fromDb(withCode('57P01', 'terminating connection due to administrator command')),
      fromDb(withCode('08006')),
      fromDb(withCode('53300', 'too many connections')),
      fromDb(new Error('Connection terminated unexpectedly')),
      fromDb(new Error('timeout exceeded when trying to connect')),
      fromDb(new AggregateError([withCode('ECONNREFUSED')])),
      new Error('wrapped by a caller', { cause: fromDb(withCode('ECONNRESET')) }),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
  });

  it('does not mistake a failed statement or a bug for an outage', () => {
    for (const error of [
      fromDb(withCode('23505', 'duplicate key')),
      fromDb(withCode('42P01', 'relation does not exist')),
      fromDb(withCode('53200', 'out of memory')),
      new TypeError('x is undefined'),
      'text',
      null,
      // The same network failure from another service (an S3 bucket) is not the database's.
      withCode('ECONNREFUSED'),
      new Error('S3 request failed', { cause: withCode('ETIMEDOUT') }),
    ]) {
      expect(isDatabaseUnavailable(error)).toBe(false);
    }
  });
});
