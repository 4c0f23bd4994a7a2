import { newId } from '../shared/ids.js';
import { canonicalJson } from './hash.js';
import type { AuditEvent, EventInput } from './event.schema.js';

/** An accepted event ready to be appended: the stored document plus its index columns. */
export interface PreparedEvent {
  event: AuditEvent;
  /** RFC 8785 form of `event`, computed before the append so the locked section only hashes. */
  canonical: string;
  occurredAt: Date;
  tags: string[];
  searchText: string;
}

type Metadata = Record<string, string | number | boolean> | undefined;

/** Normalises a validated input into the stored shape (ISO time, version, metadata always an object). */
export function prepareEvent(organizationId: string, input: EventInput, version: number): PreparedEvent {
  const occurredAt = new Date(input.occurred_at);
  const event: AuditEvent = {
    id: newId('event'),
    organization_id: organizationId,
    action: input.action,
    occurred_at: occurredAt.toISOString(),
    version,
    actor: input.actor,
    targets: input.targets,
    context: input.context,
    metadata: input.metadata ?? {},
  };
  return { event, canonical: canonicalJson(event), occurredAt, tags: tagsOf(event), searchText: searchTextOf(event) };
}

/**
 * Tags feed one GIN index that answers every "contains" filter: target ids (tid:), target types (tty:),
 * actor names (an:) and metadata pairs from the event, the actor and every target (m:key=value).
 * Values are compared as text, which is how they arrive in a query string.
 */
export function tagsOf(event: AuditEvent): string[] {
  const tags = new Set<string>();
  if (event.actor.name) tags.add(`an:${event.actor.name}`);
  const addMetadata = (metadata: Metadata): void => {
    if (metadata) for (const [key, value] of Object.entries(metadata)) tags.add(metadataTag(key, value));
  };
  addMetadata(event.metadata);
  addMetadata(event.actor.metadata);
  for (const target of event.targets) {
    tags.add(`tid:${target.id}`);
    tags.add(`tty:${target.type}`);
    addMetadata(target.metadata);
  }
  return [...tags];
}

export function metadataTag(key: string, value: string | number | boolean): string {
  return `m:${key}=${String(value)}`;
}

/** Lower-cased text of everything a person might type into the search box. */
export function searchTextOf(event: AuditEvent): string {
  const parts: (string | number | boolean | null | undefined)[] = [
    event.action,
    event.actor.id,
    event.actor.type,
    event.actor.name,
    event.context.location,
    event.context.user_agent,
  ];
  const addMetadata = (metadata: Metadata): void => {
    if (metadata) for (const value of Object.values(metadata)) parts.push(value);
  };
  addMetadata(event.metadata);
  addMetadata(event.actor.metadata);
  for (const target of event.targets) {
    parts.push(target.id, target.type, target.name);
    addMetadata(target.metadata);
  }
  return parts
    .filter((part) => part !== undefined && part !== null && part !== '')
    .join('\n')
    .toLowerCase();
}
