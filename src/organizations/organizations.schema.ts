import { Type, type Static } from 'typebox';
import { MetadataSchema } from '../ingest/event.schema.js';
import { StringEnum } from '../shared/string-enum.js';

/** Up to 256 characters, not all of them blank (a blank name shows as an empty row everywhere). */
const OrganizationName = Type.String({ minLength: 1, maxLength: 256, pattern: '\\S' });

/**
 * A DNS name: dot-separated labels of letters, digits and inner hyphens (IDNs in their xn-- form). The
 * hostname format rather than a pattern, so a refusal reads 'must match format "hostname"', not a regex.
 */
const DomainName = Type.String({ minLength: 1, maxLength: 253, format: 'hostname', description: 'A domain name such as example.com' });

const DomainData = Type.Array(
  Type.Object(
    {
      domain: DomainName,
      state: StringEnum(['pending', 'verified']),
    },
    { additionalProperties: false },
  ),
  { maxItems: 100 },
);

export const CreateOrganizationBodySchema = Type.Object(
  {
    name: OrganizationName,
    external_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
    domain_data: Type.Optional(DomainData),
    /** Deprecated WorkOS form: plain domain names, created as verified. */
    domains: Type.Optional(Type.Array(DomainName, { maxItems: 100 })),
    metadata: Type.Optional(Type.Union([MetadataSchema, Type.Null()])),
    allow_profiles_outside_organization: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateOrganizationBody = Static<typeof CreateOrganizationBodySchema>;

export const UpdateOrganizationBodySchema = Type.Object(
  {
    name: Type.Optional(OrganizationName),
    external_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
    domain_data: Type.Optional(DomainData),
    domains: Type.Optional(Type.Array(DomainName, { maxItems: 100 })),
    metadata: Type.Optional(Type.Union([MetadataSchema, Type.Null()])),
    allow_profiles_outside_organization: Type.Optional(Type.Boolean()),
    /** Sent by the WorkOS SDK; Verity has no billing link and ignores it. */
    stripe_customer_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false },
);
export type UpdateOrganizationBody = Static<typeof UpdateOrganizationBodySchema>;

export const OrganizationParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

export const RetentionBodySchema = Type.Object(
  {
    retention_period_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    retention_period: Type.Optional(Type.String({ pattern: '^([1-9]|1[01])_MONTHS?$|^([1-9]|10)_YEARS?$' })),
  },
  { additionalProperties: false },
);
export type RetentionBody = Static<typeof RetentionBodySchema>;

export interface OrganizationDomainView {
  object: 'organization_domain';
  id: string;
  organization_id: string;
  domain: string;
  state: string;
  /** Domains given through the API are taken as the caller says: Verity runs no DNS verification. */
  verification_strategy: 'manual';
  created_at: string;
  updated_at: string;
}

export interface OrganizationView {
  object: 'organization';
  id: string;
  name: string;
  allow_profiles_outside_organization: boolean;
  domains: OrganizationDomainView[];
  external_id: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** Verity extension: while enabled, the retention purge leaves this organization's events alone. */
  legal_hold: { enabled: boolean; reason: string | null; updated_at: string | null };
  /**
   * Verity extension: true only for Verity's own system organization, which holds administrative audit
   * events (sign-ins, portal links, export downloads). It is not a customer: lists leave it out unless
   * asked (`include_system=true`) and usage never bills it.
   */
  system: boolean;
}
