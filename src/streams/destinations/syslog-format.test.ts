import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../ingest/event.schema.js';
import {
  cefBody,
  chooseLeefDelimiter,
  escapeCefExtension,
  escapeCefHeader,
  escapeSdValue,
  formatSyslogMessage,
  frameSyslogMessage,
  leefBody,
  MAX_SYSLOG_MESSAGE_BYTES,
  printUsAscii,
  syslogPriority,
  type SyslogMessageOptions,
} from './syslog-format.js';

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: 'evt_01J0000000000000000000000A',
    organization_id: 'org_01J0000000000000000000000B',
    action: 'user.signed_in',
    occurred_at: '2026-09-25T14:03:07.123Z',
    version: 1,
    actor: { id: 'user_1', type: 'user', name: 'Jane Doe' },
    targets: [{ id: 'team_1', type: 'team' }],
    context: { location: '203.0.113.7', user_agent: 'Mozilla/5.0' },
    metadata: { plan: 'pro' },
    ...overrides,
  };
}

const options = (format: SyslogMessageOptions['format']): SyslogMessageOptions => ({ format, appName: 'verity', facility: 13, hostname: 'verity-1' });

describe('RFC 5424 header', () => {
  it('computes PRI as facility × 8 + severity', () => {
    expect(syslogPriority(13, 5)).toBe(109);
    expect(syslogPriority(10, 5)).toBe(85);
    expect(syslogPriority(0, 0)).toBe(0);
    expect(syslogPriority(23, 7)).toBe(191);
  });

  it('writes PRI, version, timestamp, hostname, app, nil PROCID, MSGID and structured data', () => {
    const { message, truncated } = formatSyslogMessage(event(), options('rfc5424_json'));
    expect(truncated).toBe(false);
    expect(message.startsWith('<109>1 2026-09-25T14:03:07.123Z verity-1 verity - user.signed_in [verity@32473 id="evt_01J0000000000000000000000A" org="org_01J0000000000000000000000B"] {')).toBe(true);
    const body = message.slice(message.indexOf('] ') + 2);
    expect(JSON.parse(body)).toEqual(event());
  });

  it('normalises the timestamp to UTC and uses nil for an unparseable one', () => {
    expect(formatSyslogMessage(event({ occurred_at: '2026-09-25T16:03:07+02:00' }), options('rfc5424_json')).message).toContain(' 2026-09-25T14:03:07.000Z ');
    expect(formatSyslogMessage(event({ occurred_at: 'yesterday' }), options('rfc5424_json')).message.startsWith('<109>1 - ')).toBe(true);
  });

  it('sanitises MSGID to PRINTUSASCII and 32 characters', () => {
    expect(printUsAscii('user signed in', 32)).toBe('user_signed_in');
    expect(printUsAscii('créé', 32)).toBe('cr__');
    expect(printUsAscii('', 32)).toBe('-');
    const long = 'a'.repeat(40);
    const { message } = formatSyslogMessage(event({ action: `${long} é` }), options('rfc5424_json'));
    expect(message.split(' ')[5]).toBe('a'.repeat(32));
  });

  it('escapes ", \\ and ] in SD values and marks test events', () => {
    expect(escapeSdValue('a"b\\c]d[e')).toBe('a\\"b\\\\c\\]d[e');
    const { message } = formatSyslogMessage(event({ organization_id: 'org_"x]\\y' }), options('rfc5424_json'), true);
    expect(message).toContain('[verity@32473 id="evt_01J0000000000000000000000A" org="org_\\"x\\]\\\\y" test="true"]');
  });

  it('uses the configured facility and app name', () => {
    const { message } = formatSyslogMessage(event(), { ...options('cef'), facility: 10, appName: 'acme-audit' });
    expect(message.startsWith('<85>1 ')).toBe(true);
    expect(message.split(' ')[3]).toBe('acme-audit');
  });
});

describe('octet-counted framing', () => {
  it('prefixes the byte length, not the character length', () => {
    const frame = frameSyslogMessage('<109>1 - - - - - héllo ✓');
    const text = frame.toString('utf8');
    const [length, ...rest] = text.split(' ');
    expect(Number(length)).toBe(Buffer.byteLength(rest.join(' '), 'utf8'));
    expect(Number(length)).toBe(27); // 'é' is 2 bytes, '✓' 3
    expect(rest.join(' ')).toBe('<109>1 - - - - - héllo ✓');
  });
});

describe('CEF', () => {
  it('escapes | and \\ in the header and strips line breaks', () => {
    expect(escapeCefHeader('a|b\\c\nd')).toBe('a\\|b\\\\c d');
  });

  it('escapes = and \\ in extension values and writes newlines as \\n', () => {
    expect(escapeCefExtension('a=b\\c\nd\r\ne\rf|g')).toBe('a\\=b\\\\c\\nd\\ne\\rf|g');
  });

  it('renders the header and extension', () => {
    const body = cefBody(event({ action: 'billing|plan.changed' }));
    expect(body.startsWith('CEF:0|Verity|Audit Logs|1.0|billing\\|plan.changed|billing\\|plan.changed|3|rt=1790344987123 externalId=evt_01J0000000000000000000000A act=billing|plan.changed ')).toBe(true);
    expect(body).toContain(' suid=user_1 suser=Jane Doe cs1Label=organizationId cs1=org_01J0000000000000000000000B cs2Label=actorType cs2=user src=203.0.113.7 ');
    expect(body).toContain(' requestClientApplication=Mozilla/5.0 cs4Label=targets cs4=[{"id":"team_1","type":"team"}] cs5Label=metadata cs5={"plan":"pro"} cn1Label=version cn1=1');
  });

  it('puts IPv6 in c6a2 and other locations in cs3, and escapes JSON values', () => {
    expect(cefBody(event({ context: { location: '2001:db8::1' } }))).toContain('c6a2Label=Source IPv6 Address c6a2=2001:db8::1');
    const body = cefBody(event({ context: { location: 'Paris, FR' }, metadata: { note: 'a=b\nc' } }));
    expect(body).toContain('cs3Label=location cs3=Paris, FR');
    expect(body).toContain('cs5={"note":"a\\=b\\\\nc"}');
  });
});

describe('LEEF 2.0', () => {
  it('renders the header, the ^ delimiter and the predefined keys', () => {
    const body = leefBody(event());
    expect(body.startsWith('LEEF:2.0|Verity|Audit Logs|1.0|user.signed_in|^|devTime=2026-09-25T14:03:07.123Z^devTimeFormat=yyyy-MM-dd\'T\'HH:mm:ss.SSSX^cat=user.signed_in^usrName=Jane Doe^src=203.0.113.7^eventId=evt_01J0000000000000000000000A^')).toBe(true);
    const pairs = Object.fromEntries(body.split('|^|')[1]?.split('^').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]) ?? []);
    expect(pairs).toMatchObject({ organizationId: 'org_01J0000000000000000000000B', actorId: 'user_1', actorType: 'user', userAgent: 'Mozilla/5.0', version: '1', targets: '[{"id":"team_1","type":"team"}]', metadata: '{"plan":"pro"}' });
  });

  it('falls back to the actor id for usrName and to `location` for a non-IP location', () => {
    const body = leefBody(event({ actor: { id: 'user_9', type: 'user' }, context: { location: 'Paris' } }));
    expect(body).toContain('^usrName=user_9^location=Paris^');
  });

  it('chooses a delimiter no value contains, with tab as the last resort', () => {
    expect(chooseLeefDelimiter(['a', 'b'])).toEqual({ header: '^', char: '^' });
    expect(chooseLeefDelimiter(['a^', 'b'])).toEqual({ header: '~', char: '~' });
    expect(chooseLeefDelimiter(['a^~`'])).toEqual({ header: 'x09', char: '\t' });
    const body = leefBody(event({ metadata: { note: 'x^y' } }));
    expect(body.startsWith('LEEF:2.0|Verity|Audit Logs|1.0|user.signed_in|~|devTime=')).toBe(true);
    expect(body).toContain('~metadata={"note":"x^y"}');
  });

  it('writes control characters as escapes so the delimiter never appears inside a value', () => {
    const body = leefBody(event({ actor: { id: 'u', type: 'user', name: 'a\tb\nc^d~e`f' } }));
    expect(body).toContain('|x09|');
    expect(body).toContain('\tusrName=a\\tb\\nc^d~e`f\t');
    expect(body.split('\t').every((pair) => pair.includes('='))).toBe(true);
  });

  it('escapes | in the header', () => {
    expect(leefBody(event({ action: 'a|b' })).startsWith('LEEF:2.0|Verity|Audit Logs|1.0|a\\|b|^|')).toBe(true);
  });
});

describe('oversized events', () => {
  const huge = (): AuditEvent => {
    const metadata: Record<string, string> = {};
    for (let i = 0; i < 50; i++) metadata[`key_${i}`] = 'x'.repeat(500);
    return event({ targets: Array.from({ length: 100 }, (_, i) => ({ id: `t_${i}`, type: 'doc', name: 'n'.repeat(1000), metadata })), metadata });
  };

  for (const format of ['rfc5424_json', 'cef', 'leef'] as const) {
    it(`sends a marked summary that fits in ${MAX_SYSLOG_MESSAGE_BYTES} bytes (${format})`, () => {
      const { message, truncated } = formatSyslogMessage(huge(), options(format));
      expect(truncated).toBe(true);
      expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_SYSLOG_MESSAGE_BYTES);
      expect(message).toContain('truncated="true"]');
      expect(message).toContain('evt_01J0000000000000000000000A');
      if (format === 'rfc5424_json') {
        const body = JSON.parse(message.slice(message.indexOf('] ') + 2)) as { verity_truncated: { targets_total: number; targets_kept: number; original_bytes: number }; metadata: object };
        expect(body.verity_truncated.targets_total).toBe(100);
        expect(body.verity_truncated.targets_kept).toBe(10);
        expect(body.verity_truncated.original_bytes).toBeGreaterThan(MAX_SYSLOG_MESSAGE_BYTES);
        expect(body.metadata).toEqual({});
      } else if (format === 'cef') {
        expect(message).toMatch(/ cn2Label=verityTruncatedOriginalBytes cn2=\d+$/);
      } else {
        expect(message).toMatch(/\^verityTruncatedOriginalBytes=\d+$/);
      }
    });
  }

  it('leaves events under the limit untouched', () => {
    expect(formatSyslogMessage(event(), options('leef')).truncated).toBe(false);
  });
});
