import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Queryable } from '../db/db.js';
import { SecretBox } from '../shared/secret-box.js';
import { ensureSecretKeyCheck, selectSealedStreamSecret, selectSecretKeyCheck } from './secret-key.sql.js';
import { ConfigError, parseKey, type Config } from './config.js';

/**
 * The master key for secrets at rest: VERITY_SECRET_KEY, or a key generated once into the data directory
 * (mode 0600). Losing the file makes stored destination secrets unreadable, so back it up with the data.
 */
export function ensureSecretKey(config: Pick<Config, 'secretKey' | 'dataDir'>): { key: Buffer; generated: boolean; file?: string } {
  if (config.secretKey !== undefined) return { key: config.secretKey, generated: false };
  const file = path.join(config.dataDir, 'secret.key');
  if (existsSync(file)) {
    const key = parseKey(readFileSync(file, 'utf8').trim());
    if (key === undefined) throw new Error(`${file} does not hold a 32-byte key (64 hex characters); restore it from backup or set VERITY_SECRET_KEY.`);
    return { key, generated: false, file };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, generated: true, file };
}

const CHECK_NAME = 'master_key';
const CHECK_PLAINTEXT = 'verity master key check';

/**
 * Refuses a master key other than the one this database's secrets were sealed with. Processes sharing a
 * PostgreSQL database must share the key; one started with another would otherwise run, and fail on every
 * destination credential it tries to open (a 500 on a stream test, deliveries marked invalid).
 */
export async function checkSecretKey(db: Queryable, key: Buffer): Promise<void> {
  const box = new SecretBox(key);
  const opened = (sealed: string, additionalData: string): string | undefined => {
    try {
      return box.open(sealed, additionalData);
    } catch {
      return undefined;
    }
  };
  let stored = await selectSecretKeyCheck(db, CHECK_NAME);
  if (stored === undefined) {
    // A database whose secrets predate the check: the key must open them before it may become the
    // reference (else the first process after an upgrade, right or wrong, would decide for all).
    const earlier = await selectSealedStreamSecret(db);
    if (earlier !== undefined && opened(earlier.secrets, earlier.id) === undefined) throw mismatch();
    stored = await ensureSecretKeyCheck(db, CHECK_NAME, box.seal(CHECK_PLAINTEXT, CHECK_NAME));
  }
  if (opened(stored, CHECK_NAME) !== CHECK_PLAINTEXT) throw mismatch();
}

function mismatch(): ConfigError {
  return new ConfigError([
    'The master key for secrets at rest (VERITY_SECRET_KEY, or secret.key in the data directory) is not the one this ' +
      "database's secrets were sealed with. Every process sharing the database must use the same key: set VERITY_SECRET_KEY " +
      'to the key the other processes use (or restore the original secret.key).',
  ]);
}
