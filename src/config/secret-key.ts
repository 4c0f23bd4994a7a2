import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { parseKey } from './config.js';

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
