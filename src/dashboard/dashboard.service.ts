import type { Config } from '../config/config.js';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import type { Principal } from '../keys/keys.service.js';
import { newId } from '../shared/ids.js';
import { mintToken, tokenHash } from '../shared/tokens.js';
import {
  consumeSetupToken,
  countOperators,
  deleteOperatorSession,
  deleteOperatorSessionsOf,
  insertOperator,
  insertOperatorSession,
  insertSetupToken,
  purgeExpiredOperatorState,
  selectOperatorByEmail,
  selectOperatorSession,
  touchOperatorLogin,
  updateOperatorPassword,
  voidSetupTokens,
  type OperatorRow,
  type OperatorSessionRow,
} from './dashboard.sql.js';
import { decoyHash, hashPassword, verifyPassword } from './password.js';

export const SESSION_TOKEN_PREFIX = 'vss_';
const SETUP_TOKEN_PREFIX = 'vsu_';
const SETUP_TOKEN_HOURS = 24;
// One message for an unknown email and a wrong password: the answer must not tell which addresses exist.
const INVALID_CREDENTIALS = 'Invalid email or password.';

export interface OperatorView {
  id: string;
  email: string;
}

/** A new dashboard session: the cookie value (token) and what the page needs to know. */
export interface SignedIn {
  operator: OperatorView;
  csrfToken: string;
  token: string;
  expiresAt: Date;
}

/** A signed-in operator acts as an unrestricted admin key would. */
export function operatorPrincipal(session: Pick<OperatorSessionRow, 'operator_id' | 'email'>): Principal {
  return { kind: 'operator', id: session.operator_id, scopes: ['admin'], organizationId: null, name: session.email };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Operators (the vendor's own team), their password sign-in and dashboard sessions. */
const SETUP_LINK_USED =
  'This setup link is invalid, expired or already used. Sign in if an operator exists; a restart prints a new link only while none does. ' +
  'To add or reset an operator, set VERITY_ADMIN_EMAIL and VERITY_ADMIN_PASSWORD and restart.';

export class OperatorsService {
  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'sessionHours'>,
  ) {}

  async login(email: string, password: string): Promise<SignedIn> {
    const operator = await selectOperatorByEmail(this.db, normaliseEmail(email));
    // The password is checked even for an unknown email, so timing does not reveal who has an account.
    const matches = await verifyPassword(password, operator?.password_hash ?? (await decoyHash()));
    if (operator === undefined || !matches) throw new AppError('invalid_credentials', INVALID_CREDENTIALS);
    await touchOperatorLogin(this.db, operator.id);
    return this.openSession(operator);
  }

  /** Creates the first operator through a one-time setup link and signs them in. */
  async setup(token: string, email: string, password: string): Promise<SignedIn> {
    const passwordHash = await hashPassword(password);
    const operator = await this.db.transaction(async (tx) => {
      if (!(await consumeSetupToken(tx, tokenHash(token)))) {
        throw new AppError('link_expired', SETUP_LINK_USED);
      }
      const created = await insertOperator(tx, { id: newId('operator'), email: normaliseEmail(email), passwordHash });
      if (created === undefined) throw new AppError('conflict', 'An operator with this email already exists; sign in instead.');
      await voidSetupTokens(tx);
      return created;
    });
    await touchOperatorLogin(this.db, operator.id);
    return this.openSession(operator);
  }

  /** The live session behind a cookie value, or undefined. */
  async authenticate(token: string): Promise<OperatorSessionRow | undefined> {
    if (!token.startsWith(SESSION_TOKEN_PREFIX)) return undefined;
    return selectOperatorSession(this.db, tokenHash(token));
  }

  /** Ends the session; returns it when it existed (for the audit trail). */
  async logout(token: string): Promise<OperatorSessionRow | undefined> {
    return deleteOperatorSession(this.db, tokenHash(token));
  }

  /**
   * VERITY_ADMIN_EMAIL/PASSWORD: creates that operator, or resets its password when the configured one no
   * longer matches. A reset also ends the operator's sessions: a changed password must lock out whoever
   * knew the old one.
   */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const normalised = normaliseEmail(email);
    const existing = await selectOperatorByEmail(this.db, normalised);
    if (existing !== undefined) {
      if (await verifyPassword(password, existing.password_hash)) return;
      await this.db.transaction(async (tx) => {
        await updateOperatorPassword(tx, existing.id, await hashPassword(password));
        await deleteOperatorSessionsOf(tx, existing.id);
      });
      return;
    }
    await insertOperator(this.db, { id: newId('operator'), email: normalised, passwordHash: await hashPassword(password) });
    await voidSetupTokens(this.db);
  }

  async hasOperators(): Promise<boolean> {
    return (await countOperators(this.db)) > 0;
  }

  /** A one-time setup link token (valid 24 h), or undefined when an operator already exists. */
  async createSetupToken(): Promise<string | undefined> {
    if (await this.hasOperators()) return undefined;
    const token = mintToken(SETUP_TOKEN_PREFIX);
    await insertSetupToken(this.db, tokenHash(token), SETUP_TOKEN_HOURS);
    return token;
  }

  purgeExpired(): Promise<void> {
    return purgeExpiredOperatorState(this.db);
  }

  private async openSession(operator: OperatorRow): Promise<SignedIn> {
    const token = mintToken(SESSION_TOKEN_PREFIX);
    const csrfToken = mintToken('');
    const expiresAt = await insertOperatorSession(this.db, {
      tokenHash: tokenHash(token),
      id: newId('operatorSession'),
      operatorId: operator.id,
      csrfToken,
      hours: this.config.sessionHours,
    });
    return { operator: { id: operator.id, email: operator.email }, csrfToken, token, expiresAt };
  }
}
