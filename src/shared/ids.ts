import { monotonicFactory } from 'ulidx';

/** Every id prefix Verity hands out, in one place. */
export const ID_PREFIXES = {
  organization: 'org_',
  organizationDomain: 'org_domain_',
  event: 'event_',
  apiKey: 'key_',
  schema: 'als_schema_',
  logStream: 'als_',
  export: 'audit_log_export_',
  request: 'req_',
  operator: 'operator_',
  operatorSession: 'operator_session_',
  portalLink: 'portal_link_',
  portalSession: 'portal_session_',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

// Monotonic so ids minted in one millisecond still sort in creation order (cursor pagination relies on it).
const ulid = monotonicFactory();

export function newId(kind: IdKind): string {
  return ID_PREFIXES[kind] + ulid();
}
