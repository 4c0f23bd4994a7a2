import type { Config } from '../config/config.js';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import { isPortalIntent, PORTAL_INTENTS, type PortalIntent, type Principal, type Scope } from '../keys/keys.service.js';
import { selectOrganization } from '../organizations/organizations.sql.js';
import { newId } from '../shared/ids.js';
import { mintToken, tokenHash } from '../shared/tokens.js';
import type { GenerateLinkBody } from './portal.schema.js';
import {
  consumePortalLink,
  deletePortalSession,
  insertPortalLink,
  insertPortalSession,
  portalLinkExists,
  purgeExpiredPortalState,
  selectPortalSession,
  type PortalLinkRow,
  type PortalSessionRow,
} from './portal.sql.js';

export const LINK_TOKEN_PREFIX = 'plt_';
export const SESSION_TOKEN_PREFIX = 'pst_';
const LINK_MINUTES = 5;

/**
 * What each intent's session may do. Scopes are the second fence; the first is the route whitelist
 * (config.portal), which keeps a log_streams session's 'admin' away from everything but stream routes.
 */
const INTENT_SCOPES: Record<PortalIntent, readonly Scope[]> = {
  audit_logs: ['events:read'],
  log_streams: ['admin'],
};

export function portalPrincipal(session: Pick<PortalSessionRow, 'id' | 'organization_id' | 'intent'>): Principal {
  return {
    kind: 'portal',
    id: session.id,
    scopes: INTENT_SCOPES[session.intent],
    organizationId: session.organization_id,
    portalIntent: session.intent,
  };
}

export interface GeneratedLink {
  link: string;
  row: PortalLinkRow;
}

export interface OpenedSession {
  token: string;
  expiresAt: Date;
  link: PortalLinkRow;
  sessionId: string;
}

export type OpenResult = { kind: 'opened'; session: OpenedSession } | { kind: 'unknown' } | { kind: 'expired' };

export interface PortalSessionView {
  organization: { id: string; name: string };
  intent: PortalIntent;
  brand: { name: string; logo_url: string | null };
  csrf_token: string;
  return_url: string | null;
  success_url: string | null;
  embed: boolean;
  expires_at: string;
}

/** A return or success address the portal will send the browser to: only absolute http(s) URLs. */
function redirectUrl(field: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, 'must be an absolute URL');
  }
  // javascript:, data: and friends would run in the portal's origin when followed.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(field, 'must be an http or https URL');
  return url.toString();
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', 'Validation failed.', { errors: [{ code: 'invalid', field, message }] });
}

/** Admin Portal links (single use, five minutes) and the sessions they open. */
export class PortalService {
  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'publicUrl' | 'portalSessionMinutes' | 'brandName' | 'brandLogoUrl'>,
  ) {}

  async generateLink(principal: Principal, body: GenerateLinkBody): Promise<GeneratedLink> {
    requireScope(principal, 'admin');
    assertOrganizationAccess(principal, body.organization);
    if (!isPortalIntent(body.intent)) {
      throw invalid('intent', `must be one of ${PORTAL_INTENTS.join(', ')} (the Admin Portal intents Verity serves)`);
    }
    const embed = body.embed ?? false;
    if (embed && body.intent !== 'audit_logs') throw invalid('embed', 'the embeddable viewer shows events: use it with intent audit_logs');
    const returnUrl = redirectUrl('return_url', body.return_url);
    const successUrl = redirectUrl('success_url', body.success_url);
    const organization = await selectOrganization(this.db, body.organization);
    if (organization === undefined) {
      throw new AppError('not_found', `Organization not found: '${body.organization}'.`);
    }
    // The Admin Portal is a customer's: Verity's administrative trail (operators, keys, addresses) is read
    // in the dashboard, never handed out through a link.
    if (organization.system) {
      throw new AppError('forbidden', 'The Verity system organization is not a customer: its log is read in the dashboard, not through an Admin Portal link.');
    }
    const token = mintToken(LINK_TOKEN_PREFIX);
    const row = await insertPortalLink(this.db, {
      id: newId('portalLink'),
      tokenHash: tokenHash(token),
      organizationId: body.organization,
      intent: body.intent,
      returnUrl,
      successUrl,
      embed,
      createdBy: principal.id,
      minutes: LINK_MINUTES,
    });
    const page = embed ? 'embed' : 'launch';
    return { link: `${this.config.publicUrl}/portal/${page}?token=${encodeURIComponent(token)}`, row };
  }

  /** Uses a link up and opens its session, atomically: a link opens at most one session, ever. */
  async open(token: string): Promise<OpenResult> {
    const hash = tokenHash(token);
    const opened = await this.db.transaction(async (tx): Promise<OpenedSession | undefined> => {
      const link = await consumePortalLink(tx, hash);
      if (link === undefined) return undefined;
      const sessionToken = mintToken(SESSION_TOKEN_PREFIX);
      const sessionId = newId('portalSession');
      const expiresAt = await insertPortalSession(tx, {
        tokenHash: tokenHash(sessionToken),
        id: sessionId,
        link,
        csrfToken: mintToken(''),
        minutes: this.config.portalSessionMinutes,
      });
      return { token: sessionToken, expiresAt, link, sessionId };
    });
    if (opened !== undefined) return { kind: 'opened', session: opened };
    return (await portalLinkExists(this.db, hash)) ? { kind: 'expired' } : { kind: 'unknown' };
  }

  async authenticate(token: string): Promise<PortalSessionRow | undefined> {
    if (!token.startsWith(SESSION_TOKEN_PREFIX)) return undefined;
    return selectPortalSession(this.db, tokenHash(token));
  }

  async end(token: string): Promise<void> {
    await deletePortalSession(this.db, tokenHash(token));
  }

  /** The vendor's name and logo as the portal pages show them (public: they appear on link error pages too). */
  brand(): PortalSessionView['brand'] {
    return { name: this.config.brandName, logo_url: this.config.brandLogoUrl ?? null };
  }

  view(session: PortalSessionRow): PortalSessionView {
    return {
      organization: { id: session.organization_id, name: session.organization_name },
      intent: session.intent,
      brand: this.brand(),
      csrf_token: session.csrf_token,
      return_url: session.return_url,
      success_url: session.success_url,
      embed: session.embed,
      expires_at: session.expires_at.toISOString(),
    };
  }

  purgeExpired(): Promise<void> {
    return purgeExpiredPortalState(this.db);
  }
}
