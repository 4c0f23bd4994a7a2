import { chainHashOfCanonical } from '../../src/ingest/hash.js';
import { prepareEvent } from '../../src/ingest/prepare.js';
import type { EventInput } from '../../src/ingest/event.schema.js';

/** The columns the bench COPYs into `events`, in order. */
export const COPY_COLUMNS = [
  'organization_id', 'seq', 'id', 'occurred_at', 'received_at', 'action', 'actor_id', 'actor_name',
  'tags', 'search_text', 'data', 'prev_hash', 'hash',
] as const;

export function copyStatement(table = 'events'): string {
  return `copy ${table} (${COPY_COLUMNS.join(', ')}) from stdin`;
}

/** COPY text format: backslash, newline, carriage return and tab are escaped. */
function text(value: string): string {
  return /[\\\n\r\t]/.test(value)
    ? value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'))
    : value;
}

function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/**
 * Appends events to one organization's chain exactly as the server does (prepareEvent, then chainHash over
 * the previous hash), and renders each as a COPY text line. `head` is the chain's state afterwards.
 */
export class ChainWriter {
  seq: number;
  hash: string;

  constructor(
    private readonly organizationId: string,
    head: { seq: number; hash: string },
  ) {
    this.seq = head.seq;
    this.hash = head.hash;
  }

  line(input: EventInput, receivedAt?: Date): string {
    const prepared = prepareEvent(this.organizationId, input, 1);
    const prevHash = this.hash;
    // The canonical JSON prepareEvent already made, as ingest uses it (canonicalising twice doubled the cost).
    const hash = chainHashOfCanonical(prevHash, prepared.canonical);
    this.seq += 1;
    this.hash = hash;
    const { event } = prepared;
    return [
      text(event.organization_id),
      String(this.seq),
      event.id,
      event.occurred_at,
      (receivedAt ?? new Date()).toISOString(),
      text(event.action),
      text(event.actor.id),
      event.actor.name == null ? '\\N' : text(event.actor.name),
      text(arrayLiteral(prepared.tags)),
      text(prepared.searchText),
      text(JSON.stringify(event)),
      prevHash,
      hash,
    ].join('\t') + '\n';
  }
}
