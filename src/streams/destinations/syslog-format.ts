import { isIP } from 'node:net';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { summarizeOversizedEvent, type TruncationNote } from './oversized-event.js';

export type SyslogBodyFormat = 'rfc5424_json' | 'cef' | 'leef';

export interface SyslogMessageOptions {
  format: SyslogBodyFormat;
  /** RFC 5424 APP-NAME (PRINTUSASCII, ≤ 48). */
  appName: string;
  /** 0–23; 13 is "log audit". */
  facility: number;
  /** RFC 5424 HOSTNAME: this Verity host (PRINTUSASCII, ≤ 255). */
  hostname: string;
}

/**
 * Every audit event is "normal but significant": notice (5). Audit logs carry no severity of their own, so a
 * per-event severity would be invented; a fixed one lets SIEM rules filter on PRI predictably.
 */
export const SYSLOG_SEVERITY_NOTICE = 5;
/** CEF/LEEF severity scale is 0–10; 3 is "Low", the counterpart of syslog notice. */
export const CEF_SEVERITY = 3;
/**
 * SD-ID for Verity's structured data. 32473 is the IANA Private Enterprise Number reserved for
 * documentation (RFC 5612); Verity has no PEN of its own yet, and one constant makes the switch trivial.
 */
export const SD_ID = 'verity@32473';
/**
 * Largest SYSLOG-MSG we send (the frame adds only its length prefix). RFC 5425 receivers must accept 2 KB
 * and should accept 8 KB; rsyslog's default maxMessageSize is 8 KB and syslog-ng's 64 KB. Audit events are
 * typically 1–2 KB; a larger limit would only move the problem to receivers that silently cut messages.
 */
export const MAX_SYSLOG_MESSAGE_BYTES = 64 * 1024;

const VENDOR = 'Verity';
const PRODUCT = 'Audit Logs';
const PRODUCT_VERSION = '1.0';

/** PRI = facility × 8 + severity (RFC 5424 §6.2.1). */
export function syslogPriority(facility: number, severity: number): number {
  return facility * 8 + severity;
}

/**
 * RFC 5424 header fields (HOSTNAME, APP-NAME, MSGID) are PRINTUSASCII (33–126) with a length limit; other
 * characters become `_` so a receiver's header parser never sees a space or a non-ASCII byte there.
 */
export function printUsAscii(value: string, maxLength: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return cleaned === '' ? '-' : cleaned;
}

/** Inside an SD-PARAM value, `"`, `\` and `]` must be escaped with a backslash (RFC 5424 §6.3.3). */
export function escapeSdValue(value: string): string {
  return value.replace(/["\\\]]/g, (char) => `\\${char}`);
}

/** One SD-ELEMENT; parameter names are ours and already valid SD-NAMEs. */
export function structuredDataElement(id: string, params: readonly (readonly [string, string])[]): string {
  return `[${id}${params.map(([name, value]) => ` ${name}="${escapeSdValue(value)}"`).join('')}]`;
}

/** RFC 5424 TIMESTAMP: UTC with at most 6 fraction digits; the event's own time, nil when unparseable. */
export function syslogTimestamp(occurredAt: string): string {
  const time = Date.parse(occurredAt);
  return Number.isNaN(time) ? '-' : new Date(time).toISOString();
}

/** RFC 5425 / RFC 6587 octet-counted framing: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN in bytes, not characters. */
export function frameSyslogMessage(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/** CEF header fields: `\` and `|` are escaped; a header cannot span lines, so line breaks become spaces. */
export function escapeCefHeader(value: string): string {
  return value.replace(/[\\|]/g, (char) => `\\${char}`).replace(/\r\n|[\r\n]/g, ' ');
}

/** CEF extension values: `\` and `=` are escaped, line breaks written as `\n` / `\r` (CEF spec, "Character Encoding"). */
export function escapeCefExtension(value: string): string {
  return value
    .replace(/[\\=]/g, (char) => `\\${char}`)
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

/** LEEF headers are pipe-separated like CEF's; we escape them the same way. */
export const escapeLeefHeader = escapeCefHeader;

/**
 * LEEF defines no escaping inside values, so a value must never contain the delimiter. Control characters
 * are written as `\t`, `\n`, `\r` (tab is the delimiter of last resort, and receivers such as rsyslog mangle
 * raw control characters anyway); the delimiter is then chosen so that no value contains it.
 */
export function sanitizeLeefValue(value: string): string {
  return value.replace(/\t/g, '\\t').replace(/\r\n|\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Printable delimiters tried in order; tab (`x09`) cannot occur in a sanitized value, so it always works. */
const LEEF_DELIMITERS = ['^', '~', '`'] as const;

/** Picks the LEEF 2.0 delimiter: its header spelling and the character itself. */
export function chooseLeefDelimiter(values: readonly string[]): { header: string; char: string } {
  for (const char of LEEF_DELIMITERS) {
    if (!values.some((value) => value.includes(char))) return { header: char, char };
  }
  return { header: 'x09', char: '\t' };
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function hasMetadata(metadata: Record<string, unknown> | undefined): metadata is Record<string, unknown> {
  return metadata !== undefined && Object.keys(metadata).length > 0;
}

/** The event as WorkOS streams it, plus `verity_truncated` when it had to be summarized. */
export function jsonBody(event: AuditEvent, note?: TruncationNote): string {
  return json(note === undefined ? event : { ...event, verity_truncated: note });
}

/**
 * CEF 0: standard keys where one fits (rt, externalId, act, suid, suser, src, requestClientApplication) and
 * labelled custom fields for the rest, so the whole event survives (targets and metadata as JSON).
 */
export function cefBody(event: AuditEvent, note?: TruncationNote): string {
  const pairs: [string, string][] = [];
  const time = Date.parse(event.occurred_at);
  if (!Number.isNaN(time)) pairs.push(['rt', String(time)]);
  pairs.push(['externalId', event.id], ['act', event.action], ['suid', event.actor.id]);
  if (event.actor.name !== undefined && event.actor.name !== null) pairs.push(['suser', event.actor.name]);
  pairs.push(['cs1Label', 'organizationId'], ['cs1', event.organization_id], ['cs2Label', 'actorType'], ['cs2', event.actor.type]);
  const location = event.context.location;
  // CEF's src is an IPv4 address; ArcSight's convention for IPv6 is c6a2, and anything else is free text.
  if (isIP(location) === 4) pairs.push(['src', location]);
  else if (isIP(location) === 6) pairs.push(['c6a2Label', 'Source IPv6 Address'], ['c6a2', location]);
  else pairs.push(['cs3Label', 'location'], ['cs3', location]);
  if (event.context.user_agent !== undefined && event.context.user_agent !== null) pairs.push(['requestClientApplication', event.context.user_agent]);
  if (event.targets.length > 0) pairs.push(['cs4Label', 'targets'], ['cs4', json(event.targets)]);
  if (hasMetadata(event.metadata)) pairs.push(['cs5Label', 'metadata'], ['cs5', json(event.metadata)]);
  if (hasMetadata(event.actor.metadata)) pairs.push(['cs6Label', 'actorMetadata'], ['cs6', json(event.actor.metadata)]);
  pairs.push(['cn1Label', 'version'], ['cn1', String(event.version)]);
  if (note !== undefined) pairs.push(['cn2Label', 'verityTruncatedOriginalBytes'], ['cn2', String(note.original_bytes)]);
  const action = escapeCefHeader(event.action);
  const header = ['CEF:0', VENDOR, PRODUCT, PRODUCT_VERSION, action, action, String(CEF_SEVERITY)].join('|');
  return `${header}|${pairs.map(([key, value]) => `${key}=${escapeCefExtension(value)}`).join(' ')}`;
}

/**
 * LEEF 2.0 with IBM's predefined keys where they fit (devTime, usrName, src, cat) and Verity keys for the
 * rest. devTime is ISO 8601 UTC, declared through devTimeFormat (Java SimpleDateFormat) so QRadar parses it.
 */
export function leefBody(event: AuditEvent, note?: TruncationNote): string {
  const pairs: [string, string][] = [];
  const time = Date.parse(event.occurred_at);
  if (!Number.isNaN(time)) pairs.push(['devTime', new Date(time).toISOString()], ['devTimeFormat', "yyyy-MM-dd'T'HH:mm:ss.SSSX"]);
  pairs.push(['cat', event.action], ['usrName', event.actor.name ?? event.actor.id]);
  const location = event.context.location;
  pairs.push(isIP(location) === 0 ? ['location', location] : ['src', location]);
  pairs.push(['eventId', event.id], ['organizationId', event.organization_id], ['actorId', event.actor.id], ['actorType', event.actor.type]);
  if (event.context.user_agent !== undefined && event.context.user_agent !== null) pairs.push(['userAgent', event.context.user_agent]);
  pairs.push(['version', String(event.version)]);
  if (event.targets.length > 0) pairs.push(['targets', json(event.targets)]);
  if (hasMetadata(event.metadata)) pairs.push(['metadata', json(event.metadata)]);
  if (hasMetadata(event.actor.metadata)) pairs.push(['actorMetadata', json(event.actor.metadata)]);
  if (note !== undefined) pairs.push(['verityTruncatedOriginalBytes', String(note.original_bytes)]);
  const values = pairs.map(([key, value]) => [key, sanitizeLeefValue(value)] as const);
  const delimiter = chooseLeefDelimiter(values.map(([, value]) => value));
  const header = ['LEEF:2.0', VENDOR, PRODUCT, PRODUCT_VERSION, escapeLeefHeader(event.action), delimiter.header].join('|');
  return `${header}|${values.map(([key, value]) => `${key}=${value}`).join(delimiter.char)}`;
}

function body(format: SyslogBodyFormat, event: AuditEvent, note?: TruncationNote): string {
  if (format === 'cef') return cefBody(event, note);
  if (format === 'leef') return leefBody(event, note);
  return jsonBody(event, note);
}

function render(event: AuditEvent, options: SyslogMessageOptions, test: boolean, note?: TruncationNote): string {
  const params: [string, string][] = [
    ['id', event.id],
    ['org', event.organization_id],
  ];
  if (test) params.push(['test', 'true']);
  if (note !== undefined) params.push(['truncated', 'true']);
  const header = [
    `<${syslogPriority(options.facility, SYSLOG_SEVERITY_NOTICE)}>1`,
    syslogTimestamp(event.occurred_at),
    printUsAscii(options.hostname, 255),
    printUsAscii(options.appName, 48),
    '-',
    printUsAscii(event.action, 32),
  ].join(' ');
  // MSG is written without the UTF-8 BOM RFC 5424 allows: CEF and LEEF parsers expect "CEF:"/"LEEF:" first.
  return `${header} ${structuredDataElement(SD_ID, params)} ${body(options.format, event, note)}`;
}

/**
 * One RFC 5424 message for an event: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [verity@32473 id org] MSG`.
 * An event whose message would exceed MAX_SYSLOG_MESSAGE_BYTES is sent as a summary, marked both in the
 * structured data (`truncated="true"`) and in the body, rather than cut mid-body or refused (which would
 * stall the stream on that event forever).
 */
export function formatSyslogMessage(event: AuditEvent, options: SyslogMessageOptions, test = false): { message: string; truncated: boolean } {
  const message = render(event, options, test);
  const size = Buffer.byteLength(message, 'utf8');
  if (size <= MAX_SYSLOG_MESSAGE_BYTES) return { message, truncated: false };
  const fitting = (candidate: string): boolean => Buffer.byteLength(candidate, 'utf8') <= MAX_SYSLOG_MESSAGE_BYTES;
  const summary = summarizeOversizedEvent(event, size, MAX_SYSLOG_MESSAGE_BYTES, (s) => fitting(render(s.event, options, test, s.note)));
  return { message: render(summary.event, options, test, summary.note), truncated: true };
}
