import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import { newId } from '../shared/ids.js';
import {
  countActiveKeys,
  ensureApiKey,
  insertApiKey,
  revokeApiKey,
  selectActiveKeyByHash,
  selectApiKeys,
  touchApiKeys,
  type ApiKeyRow,
} from './keys.sql.js';

export const SCOPES = ['events:write', 'events:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What an Admin Portal link and its session are for; each opens a fixed set of routes. */
export const PORTAL_INTENTS = ['audit_logs', 'log_streams'] as const;
export type PortalIntent = (typeof PORTAL_INTENTS)[number];

export function isPortalIntent(value: string): value is PortalIntent {
  return (PORTAL_INTENTS as readonly string[]).includes(value);
}

/**
 * Who is calling, resolved on every request: an API key (bearer), an operator signed in to the dashboard
 * (cookie: an unrestricted admin), or an Admin Portal session (cookie or bearer pst_…: one organization,
 * and only the routes that list its intent).
 */
export interface Principal {
  kind: 'api_key' | 'operator' | 'portal';
  /** The key, operator or portal session: the rate-limit bucket and the scope of idempotency keys. */
  id: string;
  scopes: readonly Scope[];
  /** Set when the principal may only touch one organization's data. */
  organizationId: string | null;
  /** How people know it (an API key's name, an operator's email): the actor's name in the system log. */
  name?: string;
  /** Portal sessions only. */
  portalIntent?: PortalIntent;
}

export interface ApiKeyView {
  object: 'api_key';
  id: string;
  name: string;
  /** The first characters of the secret, enough to recognise a key without revealing it. */
  display_prefix: string;
  scopes: string[];
  organization_id: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function displayPrefix(secret: string): string {
  return secret.slice(0, 10);
}

export function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    object: 'api_key',
    id: row.id,
    name: row.name,
    display_prefix: row.display_prefix,
    scopes: row.scopes,
    organization_id: row.organization_id,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

// Verified keys are cached briefly so a busy ingest path does not look each key up per request.
// Revocation through this process is immediate; through another process it takes at most this long.
const CACHE_TTL_MS = 5_000;
// last_used_at is batched: one UPDATE of the keys used in the interval, however many requests. Short
// enough that an operator who has just tried a new key sees it as used (a minute read as "never used").
const TOUCH_INTERVAL_MS = 5_000;

export class KeysService {
  private readonly cache = new Map<string, { principal: Principal | null; expires: number }>();
  private readonly pendingTouches = new Set<string>();
  private touchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly touchIntervalMs = TOUCH_INTERVAL_MS,
  ) {}

  async create(input: { name: string; scopes: readonly Scope[]; organizationId?: string | null }): Promise<ApiKeyView & { secret: string }> {
    if (input.scopes.length === 0) throw new AppError('validation_failed', 'Validation failed.', { errors: [{ code: 'required', field: 'scopes' }] });
    const secret = `sk_${randomBytes(32).toString('base64url')}`;
    const organizationId = input.organizationId ?? null;
    if (organizationId !== null) {
      const orgs = await this.db.query('select 1 from organizations where id = $1', [organizationId]);
      if (orgs.length === 0) throw new AppError('not_found', `Organization not found: '${organizationId}'.`);
    }
    const row = await insertApiKey(this.db, {
      id: newId('apiKey'),
      name: input.name,
      secretHash: hashSecret(secret),
      displayPrefix: displayPrefix(secret),
      scopes: [...new Set(input.scopes)],
      organizationId,
    });
    return { ...toApiKeyView(row), secret };
  }

  /** Makes sure an admin key with this exact secret exists and is active. */
  async ensureBootstrapKey(secret: string): Promise<void> {
    await ensureApiKey(this.db, {
      id: newId('apiKey'),
      name: 'bootstrap (VERITY_BOOTSTRAP_API_KEY)',
      secretHash: hashSecret(secret),
      displayPrefix: displayPrefix(secret),
      scopes: ['admin'],
    });
  }

  async hasAnyKey(): Promise<boolean> {
    return (await countActiveKeys(this.db)) > 0;
  }

  async list(includeRevoked = false): Promise<ApiKeyView[]> {
    return (await selectApiKeys(this.db, includeRevoked)).map(toApiKeyView);
  }

  async revoke(id: string): Promise<ApiKeyView> {
    const row = await revokeApiKey(this.db, id);
    if (row === undefined) throw new AppError('not_found', `API key not found: '${id}'.`);
    this.cache.clear();
    return toApiKeyView(row);
  }

  /** Resolves a bearer secret to its principal, or null when it is unknown or revoked. */
  async authenticate(secret: string): Promise<Principal | null> {
    const hash = hashSecret(secret);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached !== undefined && cached.expires > now) {
      if (cached.principal) this.noteUse(cached.principal.id);
      return cached.principal;
    }
    const row = await selectActiveKeyByHash(this.db, hash);
    const principal: Principal | null = row
      ? { kind: 'api_key', id: row.id, scopes: row.scopes.filter(isScope), organizationId: row.organization_id, name: row.name }
      : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, expires: now + CACHE_TTL_MS });
    if (principal) this.noteUse(principal.id);
    return principal;
  }

  /** last_used_at is written in the background, at most once per interval, off the request path. */
  private noteUse(keyId: string): void {
    this.pendingTouches.add(keyId);
    if (this.touchTimer !== undefined) return;
    this.touchTimer = setTimeout(() => {
      this.touchTimer = undefined;
      void this.flushTouches();
    }, this.touchIntervalMs);
    this.touchTimer.unref();
  }

  async flushTouches(): Promise<void> {
    const ids = [...this.pendingTouches];
    this.pendingTouches.clear();
    if (ids.length > 0) await touchApiKeys(this.db, ids).catch(() => undefined);
  }

  stop(): void {
    if (this.touchTimer !== undefined) clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
  }
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}
