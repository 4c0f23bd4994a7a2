import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lib/types';
import { customRange, EMPTY_FILTERS, liveRows, matchesFilters, type EventFilterState } from './filters';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    object: 'audit_log_event',
    id: 'event_01',
    organization_id: 'org_1',
    action: 'document.updated',
    occurred_at: '2026-06-01T11:59:00.000Z',
    version: 1,
    actor: { id: 'user_1', type: 'user', name: 'Jane Doe', metadata: { role: 'admin' } },
    targets: [{ id: 'doc_1', type: 'document', name: 'Q3 plan', metadata: { plan: 'enterprise' } }],
    context: { location: '203.0.113.7', user_agent: 'Mozilla/5.0' },
    metadata: { reason: 'typo fixed' },
    seq: 7,
    hash: 'ab'.repeat(32),
    prev_hash: 'cd'.repeat(32),
    received_at: '2026-06-01T11:59:01.000Z',
    ...overrides,
  };
}

const filters = (overrides: Partial<EventFilterState>): EventFilterState => ({ ...EMPTY_FILTERS, organizationId: 'org_1', ...overrides });

describe('the live view matches events as the server’s search does', () => {
  it('searches values only, never JSON keys, ids or hashes (src/ingest/prepare.ts searchTextOf)', () => {
    const e = event();
    // Every key of the event, and what the server does not search: the event id, its organization, its hash.
    for (const q of ['actor', 'targets', 'metadata', 'context', 'occurred_at', 'event_01', 'org_1', 'abab', 'reason']) {
      expect(matchesFilters(e, filters({ q }), NOW), q).toBe(false);
    }
    // Values: action, actor, targets, context and every metadata value, case-insensitively and as substrings.
    for (const q of ['document.updated', 'USER_1', 'jane doe', 'Q3', 'doc_1', '203.0.113', 'mozilla', 'admin', 'enterprise', 'typo']) {
      expect(matchesFilters(e, filters({ q }), NOW), q).toBe(true);
    }
    expect(matchesFilters(e, filters({ q: '  jane   typo ' }), NOW)).toBe(true);
    expect(matchesFilters(e, filters({ q: 'jane nobody' }), NOW)).toBe(false);
  });

  it('ORs the values of one metadata key, as the server does, and ignores inherited properties', () => {
    const e = event();
    expect(matchesFilters(e, filters({ metadata: ['plan=free', 'plan=enterprise'] }), NOW)).toBe(true);
    expect(matchesFilters(e, filters({ metadata: ['plan=enterprise', 'role=member'] }), NOW)).toBe(false);
    expect(matchesFilters(e, filters({ metadata: ['constructor=function Object() { [native code] }'] }), NOW)).toBe(false);
  });

  it('splits comma-separated list values as the API does, except actor names', () => {
    expect(matchesFilters(event(), filters({ actions: ['user.signed_in, document.updated'] }), NOW)).toBe(true);
    expect(matchesFilters(event({ actor: { id: 'u', type: 'user', name: 'Doe, Jane' } }), filters({ actorNames: ['Doe, Jane'] }), NOW)).toBe(true);
  });

  it('keeps to the time range the page was fetched for', () => {
    const late = event({ occurred_at: new Date(NOW - 2 * 3_600_000).toISOString() });
    expect(matchesFilters(late, filters({ range: '1h' }), NOW)).toBe(false);
    expect(matchesFilters(event(), filters({ range: '1h' }), NOW)).toBe(true);
    const past = filters({ range: 'custom', from: '2026-05-01T00:00:00.000Z', to: '2026-05-31T00:00:00.000Z' });
    expect(matchesFilters(event(), past, NOW)).toBe(false);
  });

  it('drops live arrivals that no longer match once the filters change', () => {
    const signedIn = event({ id: 'event_02', action: 'user.signed_in', occurred_at: '2026-06-01T11:59:30.000Z', seq: 8 });
    const updated = event();
    const page = [event({ id: 'event_00', occurred_at: '2026-06-01T11:00:00.000Z', seq: 1 })];
    expect(liveRows(page, [signedIn, updated], filters({}), NOW).map((e) => e.id)).toEqual(['event_02', 'event_01', 'event_00']);
    expect(liveRows(page, [signedIn, updated], filters({ actions: ['document.updated'] }), NOW).map((e) => e.id)).toEqual(['event_01', 'event_00']);
  });
});

describe('the custom time range typed in the filter bar', () => {
  it('applies From and To as a pair, in the browser’s zone, either end open', () => {
    expect(customRange('2026-05-01T00:00', '2026-05-02T12:30')).toEqual({
      from: new Date('2026-05-01T00:00').toISOString(),
      to: new Date('2026-05-02T12:30').toISOString(),
    });
    expect(customRange('', '2026-05-02T12:30')).toEqual({ from: '', to: new Date('2026-05-02T12:30').toISOString() });
    expect(customRange('2026-05-01T00:00', '')).toEqual({ from: new Date('2026-05-01T00:00').toISOString(), to: '' });
  });

  it('refuses what the API would answer 400 for: From not before To, or a date that is not one', () => {
    expect(customRange('2026-05-02T00:00', '2026-05-01T00:00')).toEqual({ field: 'from', problem: 'From must be before To.' });
    expect(customRange('2026-05-01T00:00', '2026-05-01T00:00')).toMatchObject({ field: 'from' });
    expect(customRange('not a date', '')).toMatchObject({ field: 'from', problem: 'Enter a valid date and time.' });
    expect(customRange('', 'soon')).toMatchObject({ field: 'to' });
  });
});
