import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { eventJson, jsonWithEvent, StreamedEvent } from './event-json.js';

const event: AuditEvent = {
  id: 'evt_01',
  organization_id: 'org_01',
  action: 'user.signed_in',
  occurred_at: '2026-11-26T10:00:00.123Z',
  version: 1,
  actor: { id: 'u1', type: 'user', name: 'Ada' },
  targets: [{ id: 't1', type: 'team' }],
  context: { location: '203.0.113.7' },
  metadata: { plan: 'pro' },
};
// PostgreSQL's jsonb text has spaces and its own key order: it must travel as stored, not re-serialised.
const stored = '{"id": "evt_01", "actor": {"id": "u1", "name": "Ada", "type": "user"}, "action": "user.signed_in", "context": {"location": "203.0.113.7"}, "targets": [{"id": "t1", "type": "team"}], "version": 1, "metadata": {"plan": "pro"}, "occurred_at": "2026-11-26T10:00:00.123Z", "organization_id": "org_01"}';

describe('StreamedEvent', () => {
  it('hands destinations the stored text as is', () => {
    const streamed = new StreamedEvent('evt_01', event.occurred_at, stored);
    expect(eventJson(streamed)).toBe(stored);
    expect(jsonWithEvent({ source: 'verity' }, 'event', streamed, 'last')).toBe(`{"source":"verity","event":${stored}}`);
    expect(jsonWithEvent({ ddsource: 'verity' }, 'message', streamed, 'first')).toBe(`{"message":${stored},"ddsource":"verity"}`);
    expect(jsonWithEvent({}, 'event', streamed, 'first')).toBe(`{"event":${stored}}`);
  });

  it('reads every field of the event, parsed from the text on first use', () => {
    const streamed: AuditEvent = new StreamedEvent('evt_01', event.occurred_at, stored);
    expect({ id: streamed.id, organization_id: streamed.organization_id, action: streamed.action, occurred_at: streamed.occurred_at, version: streamed.version, actor: streamed.actor, targets: streamed.targets, context: streamed.context, metadata: streamed.metadata }).toEqual(event);
    expect(JSON.parse(JSON.stringify(streamed))).toEqual(event);
  });

  it('serialises plain events (test sends, other callers) the ordinary way', () => {
    expect(eventJson(event)).toBe(JSON.stringify(event));
    expect(JSON.parse(jsonWithEvent({ time: 1 }, 'event', event, 'last'))).toEqual({ time: 1, event });
  });
});
