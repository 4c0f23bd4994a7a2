import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import type { AuditEvent } from '../ingest/event.schema.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import { newId } from '../shared/ids.js';
import { idCursorOf, numberCursorOf, scanOrder, toList, type List, type PageParams } from '../shared/pagination.js';
import type { SecretBox } from '../shared/secret-box.js';
import type { DestinationDeps } from './destinations/destination.js';
import { buildDestination, openSecrets, refuseForbiddenLiterals, refuseMovedSecrets, sealSecrets, splitSecrets, validateConfig } from './stream-config.js';
import type { CreateStreamBody, DeliveryView, LogStreamView, UpdateStreamBody } from './streams.schema.js';
import {
  cursorBefore,
  replayCursor,
  insertDelivery,
  insertStream,
  rewindCursor,
  selectDeliveries,
  selectStream,
  selectStreams,
  setPaused,
  softDeleteStream,
  updateStreamConfig,
  type DeliveryRow,
  type StreamRow,
} from './streams.sql.js';
import { canonicalJson } from '../ingest/hash.js';

export function toStreamView(row: StreamRow): LogStreamView {
  return {
    object: 'log_stream',
    id: row.id,
    organization_id: row.organization_id,
    name: row.name,
    type: row.type,
    state: row.state,
    state_reason: row.state_reason,
    paused: row.paused,
    config: row.config,
    secrets_set: row.secret_fields,
    last_synced_at: row.last_synced_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    stats: {
      delivered: row.delivered_count,
      failed: row.failed_count,
      cursor_seq: row.cursor_seq,
      lag_events: row.lag_events,
      next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    },
  };
}

function toDeliveryView(row: DeliveryRow): DeliveryView {
  return {
    object: 'log_stream_delivery',
    id: String(row.id),
    attempted_at: row.attempted_at.toISOString(),
    kind: row.kind,
    first_seq: row.first_seq,
    last_seq: row.last_seq,
    event_count: row.event_count,
    bytes: row.bytes,
    outcome: row.outcome,
    http_status: row.http_status,
    latency_ms: row.latency_ms,
    error: row.error,
  };
}

/** A clearly marked event for "Test connection": never part of any organization's log. */
export function testEvent(organizationId: string, streamId: string): AuditEvent {
  return {
    id: `event_test_${newId('event').slice('event_'.length)}`,
    organization_id: organizationId,
    action: 'verity.log_stream.test',
    occurred_at: new Date().toISOString(),
    version: 1,
    actor: { id: 'verity', type: 'system', name: 'Verity' },
    targets: [{ id: streamId, type: 'log_stream' }],
    context: { location: 'verity' },
    metadata: { test: true, message: 'Test event sent by Verity to check this log stream. It is not part of the audit log.' },
  };
}

export interface TestResult {
  success: boolean;
  outcome: string;
  http_status: number | null;
  error: string | null;
  latency_ms: number;
}

/** Log streams API: configuration, secrets at rest, test sends and cursor moves. Delivery is the dispatcher's. */
export class StreamsService {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly deps: DestinationDeps,
    private readonly onChange: () => void = () => undefined,
    /** Verity's own administrative log, whose streams only an operator may change (see guardSystemStream). */
    private readonly systemOrganizationId: () => Promise<string | undefined> = async () => undefined,
  ) {}

  async create(principal: Principal, body: CreateStreamBody): Promise<LogStreamView> {
    this.authorize(principal, body.organization_id);
    await this.guardSystemStream(principal, body.organization_id);
    const config = validateConfig(body.type, withoutRemoved(body.config));
    refuseForbiddenLiterals(config, this.deps.allowPrivate);
    const head = await this.db.query<{ seq: number }>('select seq from org_log_heads where organization_id = $1', [body.organization_id]);
    if (head[0] === undefined) throw new AppError('not_found', `Organization not found: '${body.organization_id}'.`);
    const startFrom = body.start_from ?? 'now';
    const cursorSeq =
      startFrom === 'now' ? head[0].seq : startFrom === 'beginning' ? 0 : await cursorBefore(this.db, body.organization_id, new Date(startFrom));
    const id = newId('logStream');
    const { plain, secret } = splitSecrets(body.type, config);
    await this.db.transaction((tx) =>
      insertStream(tx, {
        id,
        organizationId: body.organization_id,
        name: body.name ?? null,
        type: body.type,
        config: plain,
        secrets: sealSecrets(this.box, id, secret),
        secretFields: Object.keys(secret).sort(),
        cursorSeq,
      }),
    );
    this.onChange();
    return this.get(principal, id);
  }

  async get(principal: Principal, id: string): Promise<LogStreamView> {
    return toStreamView(await this.row(principal, id, 'events:read'));
  }

  async list(principal: Principal, organizationId: string | undefined, page: PageParams): Promise<List<LogStreamView>> {
    requireScope(principal, 'events:read');
    if (organizationId !== undefined) assertOrganizationAccess(principal, organizationId);
    const scope = principal.organizationId ?? organizationId ?? null;
    const { cursor, op } = idCursorOf(page, 'logStream', 'a log stream');
    const rows = await selectStreams(this.db, scope, cursor, op, scanOrder(page), page.limit + 1);
    return toList(rows, page, (row) => row.id, toStreamView);
  }

  /** Applies the change; answers the stream and which fields really changed (names only: values may be secrets). */
  async update(principal: Principal, id: string, body: UpdateStreamBody): Promise<{ stream: LogStreamView; changed: string[] }> {
    const row = await this.row(principal, id, 'admin');
    const stored = openSecrets(this.box, row.id, row.secrets);
    const current = { ...row.config, ...stored };
    const config = validateConfig(row.type, withoutRemoved({ ...current, ...(body.config ?? {}) }));
    refuseForbiddenLiterals(config, this.deps.allowPrivate);
    // Forms send every field back: a field changed only if its value differs (defaults applied on both sides).
    const before = withDefaults(row.type, current);
    const changedFields = [...new Set([...Object.keys(before), ...Object.keys(config)])]
      .sort()
      .filter((field) => canonicalJson(before[field] ?? null) !== canonicalJson(config[field] ?? null));
    refuseMovedSecrets(row.type, changedFields, body.config ?? {}, Object.keys(stored));
    const { plain, secret } = splitSecrets(row.type, config);
    await this.db.transaction((tx) =>
      updateStreamConfig(tx, id, { name: body.name, config: plain, secrets: sealSecrets(this.box, id, secret), secretFields: Object.keys(secret).sort() }),
    );
    this.onChange();
    // The audit trail names the changed fields, never their values.
    const changed = [...(body.name !== undefined && body.name !== row.name ? ['name'] : []), ...changedFields.map((field) => `config.${field}`)];
    return { stream: await this.get(principal, id), changed };
  }

  /** Deletes the stream; answers what it was (for the audit record). */
  async remove(principal: Principal, id: string): Promise<Pick<LogStreamView, 'id' | 'organization_id' | 'name' | 'type'>> {
    const row = await this.row(principal, id, 'admin');
    await softDeleteStream(this.db, id);
    return { id: row.id, organization_id: row.organization_id, name: row.name, type: row.type };
  }

  /** Pauses the stream; `changed` is false when it was paused already (nothing to record). */
  async pause(principal: Principal, id: string): Promise<{ stream: LogStreamView; changed: boolean }> {
    const row = await this.row(principal, id, 'admin');
    if (row.paused) return { stream: toStreamView(row), changed: false };
    await setPaused(this.db, id, true, 'Paused by a user.');
    return { stream: await this.get(principal, id), changed: true };
  }

  /** Resumes a paused stream, and retries an invalid or failing one at once. */
  async resume(principal: Principal, id: string): Promise<LogStreamView> {
    await this.row(principal, id, 'admin');
    await setPaused(this.db, id, false, null);
    this.onChange();
    return this.get(principal, id);
  }

  async replay(principal: Principal, id: string, from: Date): Promise<LogStreamView> {
    const row = await this.row(principal, id, 'admin');
    // "Future" is judged by the events, not the server's clock: an event stamped ahead of the clock is
    // replayed from its own time, and a time after every stored event has nothing to replay.
    const target = await replayCursor(this.db, row.organization_id, from);
    if (target === undefined) {
      throw new AppError('validation_failed', 'Validation failed.', {
        errors: [{ code: 'invalid', field: 'from', message: 'is after every stored event of the organization, so there is nothing to replay' }],
      });
    }
    if (!(await rewindCursor(this.db, id, target))) {
      throw new AppError('validation_failed', 'Validation failed.', {
        errors: [
          {
            code: 'invalid',
            field: 'from',
            message: "is after the stream's position: events from then on have not been delivered yet, so there is nothing to replay (a replay never skips events)",
          },
        ],
      });
    }
    this.onChange();
    return this.get(principal, id);
  }

  /** Sends one marked test event now and reports what the destination said; the cursor does not move. */
  async test(principal: Principal, id: string): Promise<TestResult> {
    const row = await this.row(principal, id, 'admin');
    const destination = buildDestination(this.box, row, this.deps);
    const event = testEvent(row.organization_id, row.id);
    const started = performance.now();
    try {
      const result = await destination.deliver([event], { test: true });
      const latency = performance.now() - started;
      const error = result.outcome === 'delivered' ? null : result.error;
      await insertDelivery(this.db, {
        streamId: id,
        kind: 'test',
        firstSeq: null,
        lastSeq: null,
        eventCount: 1,
        bytes: Buffer.byteLength(JSON.stringify(event)),
        outcome: result.outcome,
        httpStatus: result.status ?? null,
        latencyMs: latency,
        error,
      });
      return { success: result.outcome === 'delivered', outcome: result.outcome, http_status: result.status ?? null, error, latency_ms: Math.round(latency) };
    } finally {
      await destination.close?.();
    }
  }

  async deliveries(principal: Principal, id: string, page: PageParams): Promise<List<DeliveryView>> {
    await this.row(principal, id, 'events:read');
    const { cursor, op } = numberCursorOf(page, 'a delivery id');
    const rows = await selectDeliveries(this.db, id, cursor, op, scanOrder(page), page.limit + 1);
    return toList(rows, page, (row) => String(row.id), toDeliveryView);
  }

  /** The organization's streams for GET /organizations/:id/audit_log_configuration. */
  async forOrganization(organizationId: string): Promise<LogStreamView[]> {
    return (await selectStreams(this.db, organizationId, undefined, '>', 'asc', 100)).map(toStreamView);
  }

  private authorize(principal: Principal, organizationId: string): void {
    requireScope(principal, 'admin');
    assertOrganizationAccess(principal, organizationId);
  }

  /** The stream as this caller may see it; with 'admin', as it may change it. */
  private async row(principal: Principal, id: string, scope: 'admin' | 'events:read'): Promise<StreamRow> {
    requireScope(principal, scope);
    const row = await selectStream(this.db, id);
    if (row === undefined || (principal.organizationId !== null && row.organization_id !== principal.organizationId)) {
      throw new AppError('not_found', `Log stream not found: '${id}'.`);
    }
    if (scope === 'admin') await this.guardSystemStream(principal, row.organization_id);
    return row;
  }

  /**
   * A stream of the system organization carries the administrative trail off-site: an API key (even an
   * admin one, which may have leaked) must not pause, delete, replay or redirect it, nor add one that
   * would send the trail somewhere of its choosing. Operators in the dashboard may.
   */
  private async guardSystemStream(principal: Principal, organizationId: string): Promise<void> {
    if (principal.kind === 'operator') return;
    if (organizationId === (await this.systemOrganizationId())) {
      throw new AppError(
        'forbidden',
        'Only an operator signed in to the dashboard may create or change log streams of the Verity system organization: they carry the trail of administrative actions.',
      );
    }
  }
}

/**
 * A PATCH removes an optional field (a signing secret, custom headers) by sending it as null; an empty
 * headers object is no headers (on create too). Without this a secret, once set, could only go with the
 * whole stream.
 */
function withoutRemoved(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).filter(([, value]) => value !== null && !(typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)),
  );
}

/** The stored config with its type's defaults filled in, to compare with a validated one (as stored if it no longer validates). */
function withDefaults(type: string, config: Record<string, unknown>): Record<string, unknown> {
  try {
    return validateConfig(type, config);
  } catch {
    return config;
  }
}
