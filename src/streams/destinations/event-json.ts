import type { AuditEvent } from '../../ingest/event.schema.js';

/**
 * Every destination embeds the event's JSON in its payload, and the engine measures it first to cut batches
 * to a byte budget. Parsing the stored JSON and serialising it again (twice) was most of a stream's CPU per
 * event, so the engine reads the stored text and hands destinations StreamedEvents: `id` and `occurred_at`
 * (which every destination uses) are plain fields, the rest is parsed from the text the first time one is
 * read (Sentinel, syslog), and eventJson() returns the stored text.
 *
 * The other fields are getters on the prototype, so an object spread (`{ ...event }`) copies only id and
 * occurred_at: build new objects field by field (see oversized-event.ts), or from JSON.parse(eventJson(e)).
 */
export class StreamedEvent implements AuditEvent {
  private parsed: AuditEvent | undefined;

  constructor(
    readonly id: string,
    readonly occurred_at: string,
    readonly json: string,
  ) {}

  private full(): AuditEvent {
    return (this.parsed ??= JSON.parse(this.json) as AuditEvent);
  }

  get organization_id(): string {
    return this.full().organization_id;
  }
  get action(): string {
    return this.full().action;
  }
  get version(): number {
    return this.full().version;
  }
  get actor(): AuditEvent['actor'] {
    return this.full().actor;
  }
  get targets(): AuditEvent['targets'] {
    return this.full().targets;
  }
  get context(): AuditEvent['context'] {
    return this.full().context;
  }
  get metadata(): AuditEvent['metadata'] {
    return this.full().metadata;
  }

  /** JSON.stringify(event) gives the whole event. */
  toJSON(): AuditEvent {
    return this.full();
  }
}

/** The event's JSON: the stored text for events the engine read, else serialised now. */
export function eventJson(event: AuditEvent): string {
  return event instanceof StreamedEvent ? event.json : JSON.stringify(event);
}

/**
 * JSON of `wrapper` with the event's JSON added as property `key`, first or last — where the payload shape
 * a destination documents puts it.
 */
export function jsonWithEvent(wrapper: Record<string, unknown>, key: string, event: AuditEvent, at: 'first' | 'last'): string {
  const rest = JSON.stringify(wrapper);
  const property = `${JSON.stringify(key)}:${eventJson(event)}`;
  if (rest === '{}') return `{${property}}`;
  return at === 'first' ? `{${property},${rest.slice(1)}` : `${rest.slice(0, -1)},${property}}`;
}
