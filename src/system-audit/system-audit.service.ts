import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import type { LogAppender } from '../ingest/appender.js';
import type { EventInput } from '../ingest/event.schema.js';
import type { Principal } from '../keys/keys.service.js';
import { prepareEvent } from '../ingest/prepare.js';
import { insertOrganization, selectOrganizationByExternalId } from '../organizations/organizations.sql.js';
import { newId } from '../shared/ids.js';
import { insertSystemOrganizationId, lockSystemOrganization, selectSystemOrganizationId } from './system-audit.sql.js';

export const SYSTEM_ORGANIZATION_EXTERNAL_ID = 'verity-system';

/** Who did it: an operator, an API key, a portal session, or Verity itself. */
export interface SystemActor {
  id: string;
  type: 'operator' | 'api_key' | 'portal_session' | 'system' | (string & {});
  name?: string;
}

export interface SystemTarget {
  id: string;
  type: string;
  name?: string;
}

export type SystemMetadata = Record<string, string | number | boolean | null | undefined>;

/** Where the request came from; recorded as the event's context. */
export interface SystemContext {
  ip?: string;
  userAgent?: string;
}

const METADATA_KEY = /^[a-zA-Z0-9_-]{1,40}$/;

const ACTOR_TYPES: Record<Principal['kind'], SystemActor['type']> = { api_key: 'api_key', operator: 'operator', portal: 'portal_session' };

/** The actor of a system event for whoever made the request. */
export function principalActor(principal: Principal, name: string | undefined = principal.name): SystemActor {
  return { id: principal.id, type: ACTOR_TYPES[principal.kind], ...(name === undefined || name === '' ? {} : { name }) };
}

/** The event context of a request: the client address and its user agent. */
export function requestContext(request: FastifyRequest): SystemContext {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, ...(userAgent === undefined ? {} : { userAgent }) };
}

/**
 * Administrative actions (sign-ins, portal links, keys, stream changes, …) are audit events themselves,
 * appended to one system organization's hash-chained log through the same appender as customer events,
 * so they are searchable, streamable, exportable and tamper-evident like any other log.
 */
export class SystemAudit {
  private organization: Promise<string> | undefined;

  constructor(
    private readonly db: Db,
    private readonly appender: LogAppender,
    private readonly config: Pick<Config, 'defaultRetentionDays'>,
    private readonly logger: Logger,
  ) {}

  /** The system organization's id, creating the organization on first use. */
  organizationId(): Promise<string> {
    this.organization ??= this.ensure().catch((error: unknown) => {
      this.organization = undefined;
      throw error;
    });
    return this.organization;
  }

  /** Records what the request's principal did, from where: the usual shape of an administrative action. */
  recordRequest(request: FastifyRequest, action: string, targets: readonly SystemTarget[], metadata: SystemMetadata = {}): Promise<void> {
    return this.record(action, principalActor(request.principal()), targets, metadata, requestContext(request));
  }

  /**
   * Appends one event to the system log. Never throws: an administrative action that already happened
   * is not undone because its record failed; the failure is logged with everything needed to redo it.
   */
  async record(action: string, actor: SystemActor, targets: readonly SystemTarget[], metadata: SystemMetadata = {}, context: SystemContext = {}): Promise<void> {
    const input: EventInput = {
      action,
      occurred_at: new Date().toISOString(),
      actor: withName(actor),
      targets: targets.map(withName),
      context: { location: context.ip ?? 'verity', ...(context.userAgent === undefined ? {} : { user_agent: context.userAgent.slice(0, 4096) }) },
      metadata: cleanMetadata(metadata),
    };
    try {
      await this.append(input);
    } catch (error) {
      this.logger.error({ err: error, event: input }, 'could not record a system audit event');
    }
  }

  private async append(input: EventInput): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      const organizationId = await this.organizationId();
      try {
        await this.appender.append({ organizationId, events: [prepareEvent(organizationId, input, 1)] });
        return;
      } catch (error) {
        // Someone deleted the system organization: make a new one, once.
        if (attempt > 0 || !(error instanceof AppError) || error.code !== 'not_found') throw error;
        this.organization = undefined;
      }
    }
  }

  private async ensure(): Promise<string> {
    return this.db.transaction(async (tx) => {
      await lockSystemOrganization(tx);
      const existing = await selectSystemOrganizationId(tx);
      if (existing !== undefined) return existing;
      const id = newId('organization');
      // A tenant may already use the external id; the marker table, not the external id, is what counts.
      const taken = (await selectOrganizationByExternalId(tx, SYSTEM_ORGANIZATION_EXTERNAL_ID)) !== undefined;
      const externalId = taken ? `${SYSTEM_ORGANIZATION_EXTERNAL_ID}-${id}` : SYSTEM_ORGANIZATION_EXTERNAL_ID;
      await insertOrganization(tx, {
        id,
        name: 'Verity (system)',
        externalId,
        metadata: { verity: 'system' },
        retentionDays: this.config.defaultRetentionDays,
      });
      await insertSystemOrganizationId(tx, id);
      this.logger.info({ organizationId: id, externalId }, 'created the system organization for administrative audit events');
      return id;
    });
  }
}

function withName<T extends { id: string; type: string; name?: string }>(entity: T): { id: string; type: string; name?: string } {
  return { id: entity.id.slice(0, 1024), type: entity.type.slice(0, 256), ...(entity.name === undefined ? {} : { name: entity.name.slice(0, 1024) }) };
}

/** Keeps system events inside the limits customer events are held to (WorkOS metadata rules). */
function cleanMetadata(metadata: SystemMetadata): Record<string, string | number | boolean> {
  const clean: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined || value === null || !METADATA_KEY.test(key)) continue;
    clean[key] = typeof value === 'string' ? value.slice(0, 500) : value;
    if (Object.keys(clean).length === 50) break;
  }
  return clean;
}
