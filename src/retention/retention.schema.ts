import { Type, type Static } from 'typebox';

export const LegalHoldBodySchema = Type.Object(
  {
    enabled: Type.Boolean(),
    /** Why the hold exists (case number, matter); cleared when omitted. */
    reason: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type LegalHoldBody = Static<typeof LegalHoldBodySchema>;

export interface RetentionRunView {
  object: 'retention_run';
  /** Organizations that had expired events, with how many were deleted. */
  organizations: { organization_id: string; purged: number }[];
  purged_total: number;
  /** Organizations left untouched because they are on legal hold. */
  skipped_legal_hold: string[];
}
