import { Type, type Static } from 'typebox';

/** Metadata as WorkOS limits it: ≤ 50 keys matching ^[a-zA-Z0-9_-]{0,40}$, values string ≤ 500, number or boolean. */
export const MetadataSchema = Type.Unsafe<Record<string, string | number | boolean>>({
  type: 'object',
  maxProperties: 50,
  propertyNames: { pattern: '^[a-zA-Z0-9_-]{0,40}$' },
  // One type list rather than anyOf: a nested object is then one error, not four (maxLength binds strings only).
  additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 500 },
});

const Name = Type.String({ minLength: 1, maxLength: 1024 });

export const ActorSchema = Type.Object(
  {
    id: Name,
    type: Type.String({ minLength: 1, maxLength: 256 }),
    name: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    metadata: Type.Optional(MetadataSchema),
  },
  { additionalProperties: false },
);

export const TargetSchema = ActorSchema;

export const ContextSchema = Type.Object(
  {
    location: Type.String({ minLength: 1, maxLength: 1024 }),
    user_agent: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const EventInputSchema = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: 256 }),
    occurred_at: Type.String({ format: 'date-time' }),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    actor: ActorSchema,
    targets: Type.Array(TargetSchema, { maxItems: 100 }),
    context: ContextSchema,
    metadata: Type.Optional(MetadataSchema),
  },
  { additionalProperties: false },
);
export type EventInput = Static<typeof EventInputSchema>;

export const CreateEventBodySchema = Type.Object(
  { organization_id: Type.String({ minLength: 1, maxLength: 128 }), event: EventInputSchema },
  { additionalProperties: false },
);
export type CreateEventBody = Static<typeof CreateEventBodySchema>;

export const MAX_BATCH_EVENTS = 1000;

export const BatchBodySchema = Type.Object(
  {
    organization_id: Type.String({ minLength: 1, maxLength: 128 }),
    events: Type.Array(EventInputSchema, { minItems: 1, maxItems: MAX_BATCH_EVENTS }),
  },
  { additionalProperties: false },
);
export type BatchBody = Static<typeof BatchBodySchema>;

/** The event as stored, hashed, returned and streamed (WorkOS's streamed event shape). */
export interface AuditEvent {
  id: string;
  organization_id: string;
  action: string;
  occurred_at: string;
  version: number;
  actor: { id: string; type: string; name?: string | null; metadata?: Record<string, string | number | boolean> };
  targets: { id: string; type: string; name?: string | null; metadata?: Record<string, string | number | boolean> }[];
  context: { location: string; user_agent?: string | null };
  metadata: Record<string, string | number | boolean>;
}
