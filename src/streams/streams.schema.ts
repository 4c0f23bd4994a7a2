import { Type, type Static } from 'typebox';
import { STREAM_TYPES } from './destinations/destination.js';

const StartFrom = Type.Union([Type.Literal('now'), Type.Literal('beginning'), Type.String({ format: 'date-time' })], {
  description: '"now" (default): events appended from now on; "beginning": the whole log; an ISO time: backfill from events that occurred then.',
});

export const CreateStreamBodySchema = Type.Object(
  {
    organization_id: Type.String({ minLength: 1, maxLength: 128 }),
    type: Type.Union(STREAM_TYPES.map((type) => Type.Literal(type))),
    config: Type.Record(Type.String(), Type.Unknown()),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    start_from: Type.Optional(StartFrom),
  },
  { additionalProperties: false },
);
export type CreateStreamBody = Static<typeof CreateStreamBodySchema>;

export const UpdateStreamBodySchema = Type.Object(
  {
    /** Merged over the current config; secret fields left out keep their stored value. */
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type UpdateStreamBody = Static<typeof UpdateStreamBodySchema>;

export const ReplayBodySchema = Type.Object({ from: Type.String({ format: 'date-time' }) }, { additionalProperties: false });
export type ReplayBody = Static<typeof ReplayBodySchema>;

export const StreamParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

export interface LogStreamView {
  object: 'log_stream';
  id: string;
  organization_id: string;
  name: string | null;
  type: string;
  state: 'active' | 'inactive' | 'error' | 'invalid';
  /** Why the stream is not active: the destination's last error, or why it was paused. */
  state_reason: string | null;
  paused: boolean;
  config: Record<string, unknown>;
  /** Which secret fields are set (their values are never returned). */
  secrets_set: string[];
  last_synced_at: string | null;
  created_at: string;
  updated_at: string;
  stats: { delivered: number; failed: number; cursor_seq: number; lag_events: number; next_attempt_at: string | null };
}

export interface DeliveryView {
  object: 'log_stream_delivery';
  id: string;
  attempted_at: string;
  kind: 'batch' | 'test';
  first_seq: number | null;
  last_seq: number | null;
  event_count: number;
  bytes: number;
  outcome: string;
  http_status: number | null;
  latency_ms: number;
  error: string | null;
}
