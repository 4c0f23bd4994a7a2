import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { pricesOf } from './metering.service.js';

describe('prices and the retention interval from the environment', () => {
  it('defaults to the reference pricing, in USD, purging hourly', () => {
    const config = loadConfig({});
    expect(pricesOf(config)).toEqual({ siem_connection_monthly: 125, per_million_events_monthly: 99, currency: 'USD' });
    expect(config.retentionIntervalMinutes).toBe(60);
  });

  it('takes amounts with up to two decimals and an ISO currency code', () => {
    const config = loadConfig({
      VERITY_PRICE_SIEM_CONNECTION_MONTHLY: '150.5',
      VERITY_PRICE_PER_MILLION_EVENTS_MONTHLY: '0',
      VERITY_CURRENCY: 'EUR',
      VERITY_RETENTION_INTERVAL_MINUTES: '5',
    });
    expect(pricesOf(config)).toEqual({ siem_connection_monthly: 150.5, per_million_events_monthly: 0, currency: 'EUR' });
    expect(config.retentionIntervalMinutes).toBe(5);
  });

  it('refuses fractions of a cent, negative prices, odd currencies and a zero interval, all at once', () => {
    let error: unknown;
    try {
      loadConfig({ VERITY_PRICE_SIEM_CONNECTION_MONTHLY: '1.005', VERITY_PRICE_PER_MILLION_EVENTS_MONTHLY: '-1', VERITY_CURRENCY: 'usd', VERITY_RETENTION_INTERVAL_MINUTES: '0' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(4);
  });
});
