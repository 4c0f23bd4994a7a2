import { Type, type Static } from 'typebox';

/** A customer-supplied JSON Schema (checked by compiling it with ajv). */
export const JsonSchemaSchema = Type.Unsafe<Record<string, unknown>>({ type: 'object' });

export const CreateSchemaBodySchema = Type.Object(
  {
    actor: Type.Optional(Type.Object({ metadata: Type.Optional(JsonSchemaSchema) }, { additionalProperties: false })),
    targets: Type.Array(
      Type.Object({ type: Type.String({ minLength: 1, maxLength: 256 }), metadata: Type.Optional(JsonSchemaSchema) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 100 },
    ),
    metadata: Type.Optional(JsonSchemaSchema),
  },
  { additionalProperties: false },
);
export type SchemaDefinition = Static<typeof CreateSchemaBodySchema>;

export const ActionParamsSchema = Type.Object({ action: Type.String({ minLength: 1, maxLength: 256 }) });

export interface AuditLogSchemaView {
  object: 'audit_log_schema';
  version: number;
  actor?: { metadata?: Record<string, unknown> };
  targets: { type: string; metadata?: Record<string, unknown> }[];
  metadata?: Record<string, unknown>;
  created_at: string;
}

export interface AuditLogActionView {
  object: 'audit_log_action';
  name: string;
  schema: AuditLogSchemaView | null;
  created_at: string;
  updated_at: string;
}
