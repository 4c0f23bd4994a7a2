import type { AuditEvent } from '../../ingest/event.schema.js';

/** Why and how much of an event was left out; sent beside the summary so a SIEM can tell it apart. */
export interface TruncationNote {
  reason: string;
  original_bytes: number;
  limit_bytes: number;
  targets_total: number;
  targets_kept: number;
}

export interface OversizedEventSummary {
  event: AuditEvent;
  note: TruncationNote;
}

/** Targets kept at most; each may be ~2 KB (id, type, name), so ten stay far below any per-message limit. */
const MAX_SUMMARY_TARGETS = 10;

/**
 * An event too large for a destination's per-message limit (syslog 64 KiB, a Sentinel field 64 KB) would
 * either stall the stream forever (no batch split makes one event smaller) or arrive cut mid-JSON, which
 * SIEM parsers reject. Instead we send a summary that keeps everything needed to correlate it (id, action,
 * time, actor, context, the first targets) and drops all metadata; the full event stays in Verity under its
 * id. `fits` decides whether a candidate summary is small enough; targets are dropped until it is (a summary
 * with no targets is returned even if it still does not fit: its fields are schema-bounded).
 */
export function summarizeOversizedEvent(
  event: AuditEvent,
  originalBytes: number,
  limitBytes: number,
  fits: (summary: OversizedEventSummary) => boolean,
): OversizedEventSummary {
  const targets = event.targets.map((target) => ({ id: target.id, type: target.type, ...(target.name !== undefined ? { name: target.name } : {}) }));
  let kept = Math.min(targets.length, MAX_SUMMARY_TARGETS);
  for (;;) {
    const summary: OversizedEventSummary = {
      event: {
        id: event.id,
        organization_id: event.organization_id,
        action: event.action,
        occurred_at: event.occurred_at,
        version: event.version,
        actor: { id: event.actor.id, type: event.actor.type, ...(event.actor.name !== undefined ? { name: event.actor.name } : {}) },
        targets: targets.slice(0, kept),
        context: event.context,
        metadata: {},
      },
      note: {
        reason: `event is ${originalBytes} bytes, over the destination's ${limitBytes}-byte limit: metadata and targets beyond the first ${kept} were left out; the full event is kept in Verity`,
        original_bytes: originalBytes,
        limit_bytes: limitBytes,
        targets_total: event.targets.length,
        targets_kept: kept,
      },
    };
    if (kept === 0 || fits(summary)) return summary;
    kept -= 1;
  }
}

/** The summary as the event a destination sends: the kept fields plus `verity_truncated`, as syslog and Sentinel send it. */
export function summaryEvent(summary: OversizedEventSummary): AuditEvent {
  return Object.assign({}, summary.event, { verity_truncated: summary.note });
}

function overLimit(text: string, limitBytes: number): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: nearly every text is decided without measuring it.
  return text.length * 3 > limitBytes && Buffer.byteLength(text, 'utf8') > limitBytes;
}

/**
 * `render(event)` (the event in the destination's item or envelope), or, when that exceeds `limitBytes`,
 * the rendered summary: a destination's per-item limit is then never met by an event the receiver would
 * refuse forever or cut mid-JSON.
 */
export function renderWithinLimit(event: AuditEvent, limitBytes: number, render: (event: AuditEvent) => string): string {
  const text = render(event);
  if (!overLimit(text, limitBytes)) return text;
  const summary = summarizeOversizedEvent(event, Buffer.byteLength(text, 'utf8'), limitBytes, (s) => !overLimit(render(summaryEvent(s)), limitBytes));
  return render(summaryEvent(summary));
}
