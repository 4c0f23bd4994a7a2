import type { Queryable } from '../db/db.js';

export interface OperatorRow {
  id: string;
  email: string;
  password_hash: string;
  created_at: Date;
  last_login_at: Date | null;
}

export interface OperatorSessionRow {
  id: string;
  operator_id: string;
  email: string;
  csrf_token: string;
  expires_at: Date;
}

export async function selectOperatorByEmail(db: Queryable, email: string): Promise<OperatorRow | undefined> {
  const rows = await db.query<OperatorRow>('select id, email, password_hash, created_at, last_login_at from operators where email = $1', [email]);
  return rows[0];
}

export async function countOperators(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('select count(*)::int as n from operators');
  return rows[0]?.n ?? 0;
}

/** Inserts the operator, or returns undefined when the email is taken. */
export async function insertOperator(db: Queryable, operator: { id: string; email: string; passwordHash: string }): Promise<OperatorRow | undefined> {
  const rows = await db.query<OperatorRow>(
    `insert into operators (id, email, password_hash) values ($1, $2, $3)
     on conflict (email) do nothing
     returning id, email, password_hash, created_at, last_login_at`,
    [operator.id, operator.email, operator.passwordHash],
  );
  return rows[0];
}

export async function updateOperatorPassword(db: Queryable, id: string, passwordHash: string): Promise<void> {
  await db.query('update operators set password_hash = $2, updated_at = now() where id = $1', [id, passwordHash]);
}

export async function touchOperatorLogin(db: Queryable, id: string): Promise<void> {
  await db.query('update operators set last_login_at = now() where id = $1', [id]);
}

export async function insertOperatorSession(
  db: Queryable,
  session: { tokenHash: string; id: string; operatorId: string; csrfToken: string; hours: number },
): Promise<Date> {
  const rows = await db.query<{ expires_at: Date }>(
    `insert into operator_sessions (token_hash, id, operator_id, csrf_token, expires_at)
     values ($1, $2, $3, $4, now() + make_interval(hours => $5::int))
     returning expires_at`,
    [session.tokenHash, session.id, session.operatorId, session.csrfToken, session.hours],
  );
  return (rows[0] as { expires_at: Date }).expires_at;
}

export async function selectOperatorSession(db: Queryable, tokenHash: string): Promise<OperatorSessionRow | undefined> {
  const rows = await db.query<OperatorSessionRow>(
    `select s.id, s.operator_id, o.email, s.csrf_token, s.expires_at
       from operator_sessions s join operators o on o.id = s.operator_id
      where s.token_hash = $1 and s.expires_at > now()`,
    [tokenHash],
  );
  return rows[0];
}

export async function deleteOperatorSession(db: Queryable, tokenHash: string): Promise<OperatorSessionRow | undefined> {
  const rows = await db.query<OperatorSessionRow>(
    `delete from operator_sessions s using operators o
      where s.token_hash = $1 and o.id = s.operator_id
      returning s.id, s.operator_id, o.email, s.csrf_token, s.expires_at`,
    [tokenHash],
  );
  return rows[0];
}

export async function deleteOperatorSessionsOf(db: Queryable, operatorId: string): Promise<void> {
  await db.query('delete from operator_sessions where operator_id = $1', [operatorId]);
}

export async function insertSetupToken(db: Queryable, tokenHash: string, hours: number): Promise<void> {
  await db.query('insert into operator_setup_tokens (token_hash, expires_at) values ($1, now() + make_interval(hours => $2::int))', [tokenHash, hours]);
}

/** Marks the token used; true only for the one caller that found it unused and unexpired. */
export async function consumeSetupToken(db: Queryable, tokenHash: string): Promise<boolean> {
  const rows = await db.query(
    `update operator_setup_tokens set used_at = now()
      where token_hash = $1 and used_at is null and expires_at > now()
      returning token_hash`,
    [tokenHash],
  );
  return rows.length > 0;
}

/** Once an operator exists every outstanding setup link is void. */
export async function voidSetupTokens(db: Queryable): Promise<void> {
  await db.query('update operator_setup_tokens set used_at = now() where used_at is null');
}

export async function purgeExpiredOperatorState(db: Queryable): Promise<void> {
  await db.query('delete from operator_sessions where expires_at < now()');
  await db.query("delete from operator_setup_tokens where expires_at < now() - interval '7 days'");
}
