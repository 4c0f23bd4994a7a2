import type { Queryable } from '../db/db.js';
import type { PortalIntent } from '../keys/keys.service.js';

export interface PortalLinkRow {
  id: string;
  organization_id: string;
  intent: PortalIntent;
  return_url: string | null;
  success_url: string | null;
  embed: boolean;
  created_by: string;
  expires_at: Date;
  used_at: Date | null;
}

export interface PortalSessionRow {
  id: string;
  link_id: string;
  organization_id: string;
  organization_name: string;
  intent: PortalIntent;
  csrf_token: string;
  return_url: string | null;
  success_url: string | null;
  embed: boolean;
  expires_at: Date;
}

const LINK_COLUMNS = 'id, organization_id, intent, return_url, success_url, embed, created_by, expires_at, used_at';

export async function insertPortalLink(
  db: Queryable,
  link: {
    id: string;
    tokenHash: string;
    organizationId: string;
    intent: PortalIntent;
    returnUrl: string | null;
    successUrl: string | null;
    embed: boolean;
    createdBy: string;
    minutes: number;
  },
): Promise<PortalLinkRow> {
  const rows = await db.query<PortalLinkRow>(
    `insert into portal_links (id, token_hash, organization_id, intent, return_url, success_url, embed, created_by, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(mins => $9::int))
     returning ${LINK_COLUMNS}`,
    [link.id, link.tokenHash, link.organizationId, link.intent, link.returnUrl, link.successUrl, link.embed, link.createdBy, link.minutes],
  );
  return rows[0] as PortalLinkRow;
}

/**
 * Uses the link up. One statement decides: of any number of concurrent openers exactly one gets the row,
 * and an expired link is never used.
 */
export async function consumePortalLink(db: Queryable, tokenHash: string): Promise<PortalLinkRow | undefined> {
  const rows = await db.query<PortalLinkRow>(
    `update portal_links set used_at = now()
      where token_hash = $1 and used_at is null and expires_at > now()
      returning ${LINK_COLUMNS}`,
    [tokenHash],
  );
  return rows[0];
}

/** Whether a token names a link at all (to tell "used or expired" from "never issued"). */
export async function portalLinkExists(db: Queryable, tokenHash: string): Promise<boolean> {
  return (await db.query('select 1 from portal_links where token_hash = $1', [tokenHash])).length > 0;
}

export async function insertPortalSession(
  db: Queryable,
  session: { tokenHash: string; id: string; link: PortalLinkRow; csrfToken: string; minutes: number },
): Promise<Date> {
  const { link } = session;
  const rows = await db.query<{ expires_at: Date }>(
    `insert into portal_sessions (token_hash, id, link_id, organization_id, intent, csrf_token, return_url, success_url, embed, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(mins => $10::int))
     returning expires_at`,
    [session.tokenHash, session.id, link.id, link.organization_id, link.intent, session.csrfToken, link.return_url, link.success_url, link.embed, session.minutes],
  );
  return (rows[0] as { expires_at: Date }).expires_at;
}

export async function selectPortalSession(db: Queryable, tokenHash: string): Promise<PortalSessionRow | undefined> {
  const rows = await db.query<PortalSessionRow>(
    `select s.id, s.link_id, s.organization_id, o.name as organization_name, s.intent, s.csrf_token, s.return_url, s.success_url,
            s.embed, s.expires_at
       from portal_sessions s join organizations o on o.id = s.organization_id
      where s.token_hash = $1 and s.expires_at > now()`,
    [tokenHash],
  );
  return rows[0];
}

export async function deletePortalSession(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('delete from portal_sessions where token_hash = $1', [tokenHash]);
}

export async function purgeExpiredPortalState(db: Queryable): Promise<void> {
  await db.query('delete from portal_sessions where expires_at < now()');
  // Kept a day past expiry so a late click still learns "expired" rather than "unknown".
  await db.query("delete from portal_links where expires_at < now() - interval '1 day'");
}
