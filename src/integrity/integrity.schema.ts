import { Type, type Static } from 'typebox';

const Hash = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, 64 lowercase hex characters' });

export const IntegrityQuerySchema = Type.Object(
  {
    organization_id: Type.String({ minLength: 1, maxLength: 128 }),
    verify: Type.Optional(
      Type.Boolean({
        description: 'Re-walk the whole stored chain and check every stored checkpoint (cost grows with the log: about 5 s per million events).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IntegrityQuery = Static<typeof IntegrityQuerySchema>;

export const PublicKeyResponseSchema = Type.Object({
  object: Type.Literal('integrity_public_key'),
  key_id: Type.String({ description: 'First 16 hex characters of SHA-256 over the raw 32-byte public key' }),
  algorithm: Type.Literal('Ed25519'),
  public_key_pem: Type.String({ description: 'SubjectPublicKeyInfo, PEM' }),
  public_key_base64: Type.String({ description: 'The raw 32-byte public key, base64' }),
  retired_keys: Type.Array(
    Type.Object({
      key_id: Type.String(),
      public_key_pem: Type.String({ description: 'SubjectPublicKeyInfo, PEM' }),
      public_key_base64: Type.String({ description: 'The raw 32-byte public key, base64' }),
    }),
    {
      description:
        'Keys that signed before a key rotation (VERITY_RETIRED_PUBLIC_KEYS): checkpoints, purged ranges and export statements they signed still verify; nothing new is signed with them',
    },
  ),
});
export type PublicKeyView = Static<typeof PublicKeyResponseSchema>;

export const CheckpointSchema = Type.Object({
  object: Type.Literal('audit_log_checkpoint'),
  organization_id: Type.String(),
  seq: Type.Integer(),
  hash: Hash,
  created_at: Type.String({ format: 'date-time' }),
  key_id: Type.String(),
  signature: Type.String({ description: 'Ed25519 over the RFC 8785 JSON of {organization_id, seq, hash, created_at}, base64' }),
});

const VerificationSchema = Type.Object({
  valid: Type.Boolean(),
  checked: Type.Integer({ description: 'Events whose hash was recomputed and link checked' }),
  first_bad_seq: Type.Optional(Type.Integer()),
  reason: Type.Optional(
    Type.Union([
      Type.Literal('hash_mismatch'),
      Type.Literal('columns_mismatch'),
      Type.Literal('prev_hash_mismatch'),
      Type.Literal('missing_event'),
      Type.Literal('purged_range_unsigned'),
      Type.Literal('purged_range_signature_invalid'),
      Type.Literal('purged_range_unknown_key'),
      Type.Literal('head_mismatch'),
      Type.Literal('checkpoint_mismatch'),
      Type.Literal('checkpoint_signature_invalid'),
      Type.Literal('checkpoint_beyond_head'),
    ]),
  ),
  verified_head: Type.Object({ seq: Type.Integer(), hash: Hash }),
  checkpoints_checked: Type.Integer(),
  checkpoints_unverifiable: Type.Integer({ description: 'Checkpoints signed by a key other than the current one (not checked)' }),
  duration_ms: Type.Integer(),
});

export const IntegrityResponseSchema = Type.Object({
  object: Type.Literal('audit_log_integrity'),
  organization_id: Type.String(),
  head: Type.Object({ seq: Type.Integer(), hash: Hash }),
  anchor: Type.Union([Type.Object({ seq: Type.Integer(), hash: Hash }), Type.Null()], {
    description: 'After retention purged the beginning of the log: the last purged (seq, hash), which the first remaining event links to',
  }),
  recent_checkpoints: Type.Array(CheckpointSchema, { description: 'The last 10, newest first' }),
  public_key: Type.Object({ key_id: Type.String(), public_key_pem: Type.String() }),
  verification: Type.Optional(VerificationSchema),
});
export type IntegrityView = Static<typeof IntegrityResponseSchema>;
export type VerificationView = Static<typeof VerificationSchema>;
