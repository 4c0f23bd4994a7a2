import { describe, expect, it } from 'vitest';
import { retentionDays } from './organizations.service.js';

describe('retentionDays', () => {
  it.each([
    [{ retention_period_in_days: 45 }, 45],
    [{ retention_period: '1_MONTH' }, 30],
    [{ retention_period: '11_MONTHS' }, 330],
    [{ retention_period: '1_YEAR' }, 365],
    [{ retention_period: '10_YEARS' }, 3650],
  ])('%j → %i days', (body, days) => {
    expect(retentionDays(body)).toBe(days);
  });

  it('asks for a value when neither form is given', () => {
    expect(() => retentionDays({})).toThrow('Validation failed.');
  });
});
