import { AppError, type ErrorDetail } from '../errors/app-error.js';
import type { IdempotencyClaim, IdempotencyService, StoredResponse } from '../idempotency/idempotency.service.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import { UNSCHEMATISED_VERSION, type CompiledSchema, type SchemasService } from '../schemas/schemas.service.js';
import type { LogAppender } from './appender.js';
import type { BatchBody, CreateEventBody, EventInput } from './event.schema.js';
import { prepareEvent, type PreparedEvent } from './prepare.js';

export const INVALID_EVENT_MESSAGE = 'Invalid Audit Log event.';
const SYSTEM_LOG_READ_ONLY =
  "The Verity system organization's log records administrative actions and is written by Verity only; send events to a customer's organization.";

/**
 * Accepts events: checks them against their action's schema, then appends them through the group
 * committer. Answers only after the commit, so every acknowledged event is durable.
 */
export class IngestService {
  constructor(
    private readonly appender: LogAppender,
    private readonly schemas: SchemasService,
    private readonly idempotency: IdempotencyService,
    /** Verity's own administrative log: written by SystemAudit only, never through the API. */
    private readonly systemOrganizationId: () => Promise<string>,
  ) {}

  async createEvent(principal: Principal, body: CreateEventBody, claim: IdempotencyClaim | undefined): Promise<StoredResponse> {
    await this.authorize(principal, body.organization_id);
    const result = await this.prepare(body.organization_id, body.event);
    if (!('prepared' in result)) {
      throw new AppError('invalid_audit_log_event', INVALID_EVENT_MESSAGE, { errors: result.errors });
    }
    return this.append(body.organization_id, [result.prepared], { status: 200, body: JSON.stringify({ success: true }) }, claim);
  }

  async createBatch(principal: Principal, body: BatchBody, claim: IdempotencyClaim | undefined): Promise<StoredResponse> {
    await this.authorize(principal, body.organization_id);
    // Resolve each (action, version) once, then prepare in order, so ids are minted in batch (= seq) order.
    const schemas = new Map<string, Promise<CompiledSchema | null>>();
    for (const event of body.events) {
      const key = `${event.action}\n${event.version ?? ''}`;
      if (!schemas.has(key)) schemas.set(key, this.schemas.resolve(event.action, event.version));
    }
    const resolved = new Map<string, CompiledSchema | null>();
    for (const [key, promise] of schemas) resolved.set(key, await promise);
    const results = body.events.map((event) => this.check(body.organization_id, event, resolved.get(`${event.action}\n${event.version ?? ''}`) ?? null));
    const invalid = results.flatMap((result, index) => ('prepared' in result ? [] : [{ index, errors: result.errors }]));
    if (invalid.length > 0) {
      throw new AppError('invalid_audit_log_event', `${invalid.length} of ${body.events.length} events are invalid; none were stored.`, {
        errors: invalid,
      });
    }
    const prepared = results.map((result) => (result as { prepared: PreparedEvent }).prepared);
    const response = { success: true, ids: prepared.map((p) => p.event.id) };
    return this.append(body.organization_id, prepared, { status: 200, body: JSON.stringify(response) }, claim);
  }

  private async authorize(principal: Principal, organizationId: string): Promise<void> {
    requireScope(principal, 'events:write');
    assertOrganizationAccess(principal, organizationId);
    // Entries written by an application key would sit in the administrative trail as believably as
    // Verity's own (chained and checkpointed alike): who signed in, which key was revoked, and so on.
    if (organizationId === (await this.systemOrganizationId())) {
      throw new AppError('forbidden', SYSTEM_LOG_READ_ONLY);
    }
  }

  private async prepare(organizationId: string, input: EventInput): Promise<{ prepared: PreparedEvent } | { errors: ErrorDetail[] }> {
    return this.check(organizationId, input, await this.schemas.resolve(input.action, input.version));
  }

  private check(organizationId: string, input: EventInput, schema: CompiledSchema | null): { prepared: PreparedEvent } | { errors: ErrorDetail[] } {
    if (schema !== null) {
      const errors = schema.check(input);
      if (errors.length > 0) return { errors };
    }
    return { prepared: prepareEvent(organizationId, input, input.version ?? schema?.version ?? UNSCHEMATISED_VERSION) };
  }

  private async append(
    organizationId: string,
    events: PreparedEvent[],
    response: StoredResponse,
    claim: IdempotencyClaim | undefined,
  ): Promise<StoredResponse> {
    const outcome = await this.appender.append({
      organizationId,
      events,
      idempotency: claim === undefined ? undefined : { claim, response },
    });
    if (outcome.kind === 'repeat' && claim !== undefined) return this.idempotency.lookup(claim);
    return response;
  }
}
