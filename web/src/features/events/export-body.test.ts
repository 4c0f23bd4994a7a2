import { describe, expect, it } from 'vitest';
import { ALL_TIME_END, ALL_TIME_START, exportBody, exportRangeProblem } from './export-body';
import type { EventFilterState } from './filters';

const none: EventFilterState = {
  organizationId: 'org_1',
  range: 'all',
  from: '',
  to: '',
  q: '',
  actions: [],
  actorIds: [],
  actorNames: [],
  targetTypes: [],
  targetIds: [],
  metadata: [],
};

describe('the export of what the events screen lists', () => {
  it('"All time" covers every date the API accepts, the future and the distant past included', () => {
    const body = exportBody('org_1', none, 'csv', Date.UTC(2026, 10, 27));
    expect(body).toMatchObject({ range_start: ALL_TIME_START, range_end: ALL_TIME_END });
    expect(Date.parse(body.range_start)).toBeLessThanOrEqual(Date.parse('0001-01-01T00:00:00Z'));
    expect(Date.parse(body.range_end)).toBeGreaterThan(Date.parse('9999-12-31T23:59:59.998Z'));
  });

  it('a recent span starts where the screen does and stays open at the end', () => {
    const now = Date.UTC(2026, 10, 27, 12);
    const body = exportBody('org_1', { ...none, range: '24h' }, 'ndjson', now);
    expect(body).toMatchObject({ range_start: new Date(now - 86_400_000).toISOString(), range_end: ALL_TIME_END, format: 'ndjson' });
  });

  it('a custom range with one end open is checked against the widest ends', () => {
    expect(exportRangeProblem('2026-11-01T00:00', '')).toBeUndefined();
    expect(exportRangeProblem('', '2026-11-01T00:00')).toBeUndefined();
    expect(exportRangeProblem('2026-11-02T00:00', '2026-11-01T00:00')).toMatchObject({ field: 'from' });
  });
});
