import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, chainHash, GENESIS_HASH } from './hash.js';
import { prepareEvent, searchTextOf, tagsOf } from './prepare.js';

const input = {
  action: 'user.signed_in',
  occurred_at: '2026-01-02T03:04:05Z',
  actor: { id: 'u1', type: 'user', name: 'Ann', metadata: { role: 'admin' } },
  targets: [{ id: 't1', type: 'team', metadata: { seats: 5 } }],
  context: { location: '1.2.3.4', user_agent: 'UA' },
  metadata: { b: true },
};

describe('hash chain', () => {
  it('is SHA-256 over the previous hash and the RFC 8785 canonical JSON', () => {
    const event = prepareEvent('org_1', input, 1).event;
    const expected = createHash('sha256').update(GENESIS_HASH + canonicalJson(event)).digest('hex');
    expect(chainHash(GENESIS_HASH, event)).toBe(expected);
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 0 }] })).toBe('{"a":[2,{"c":0,"d":1}],"b":1}');
  });

  it('changes when any byte of the event or the previous hash changes', () => {
    const event = prepareEvent('org_1', input, 1).event;
    const base = chainHash(GENESIS_HASH, event);
    expect(chainHash('1'.repeat(64), event)).not.toBe(base);
    expect(chainHash(GENESIS_HASH, { ...event, action: 'user.signed_out' })).not.toBe(base);
  });
});

describe('prepareEvent', () => {
  it('normalises time and version and indexes every filterable value', () => {
    const { event, tags, searchText } = prepareEvent('org_1', input, 3);
    expect(event).toMatchObject({ organization_id: 'org_1', occurred_at: '2026-01-02T03:04:05.000Z', version: 3 });
    expect(event.id).toMatch(/^event_/);
    expect([...tags].sort()).toEqual(['an:Ann', 'm:b=true', 'm:role=admin', 'm:seats=5', 'tid:t1', 'tty:team']);
    expect(searchText).toContain('ann');
    expect(tagsOf(event)).toEqual(tags);
    expect(searchTextOf(event)).toBe(searchText);
  });
});
