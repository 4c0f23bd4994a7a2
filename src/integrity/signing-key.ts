import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): this prefix + the 32 bytes is the whole DER.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// SubjectPublicKeyInfo of an Ed25519 key: this prefix + the 32-byte public key.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A public key that verifies signatures, with the identifiers published next to it. */
export interface VerificationKey {
  readonly publicKey: KeyObject;
  /** First 16 hex characters of SHA-256 over the raw 32-byte public key. */
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** The raw 32-byte public key, base64. */
  readonly publicKeyBase64: string;
}

/** The server's checkpoint key pair. */
export interface SigningKey extends VerificationKey {
  readonly privateKey: KeyObject;
}

export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the signing key must be an Ed25519 key');
  return { privateKey, ...verificationKeyFrom(createPublicKey(privateKey)) };
}

export function verificationKeyFrom(publicKey: KeyObject): VerificationKey {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('a verification key must be an Ed25519 key');
  const raw = rawPublicKey(publicKey);
  return {
    publicKey,
    keyId: keyIdOf(raw),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyBase64: raw.toString('base64'),
  };
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' }).subarray(SPKI_ED25519_PREFIX.length);
}

export function keyIdOf(rawPublic: Buffer): string {
  return createHash('sha256').update(rawPublic).digest('hex').slice(0, 16);
}

/**
 * VERITY_SIGNING_KEY: a PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`), or the raw
 * 32-byte seed in base64 (or 64 hex characters). Returns undefined when the value is neither.
 */
export function parseSigningKey(raw: string): KeyObject | undefined {
  try {
    if (raw.includes('-----BEGIN')) {
      // Environment variables often carry PEM with literal "\n" escapes.
      const key = createPrivateKey(raw.replace(/\\n/g, '\n'));
      return key.asymmetricKeyType === 'ed25519' ? key : undefined;
    }
    const seed = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : strictBase64(raw);
    if (seed === undefined) return undefined;
    if (seed.length !== 32) return undefined;
    return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
}

/**
 * A public key for verifying checkpoints, given as PEM (SPKI), base64 of the raw 32 bytes, or base64 of
 * the SPKI DER. What `GET /audit_logs/integrity/public_key` publishes works as is.
 */
export function parsePublicKey(raw: string): KeyObject | undefined {
  try {
    const text = raw.trim();
    if (text.includes('-----BEGIN')) {
      const key = createPublicKey(text);
      return key.asymmetricKeyType === 'ed25519' ? key : undefined;
    }
    const bytes = strictBase64(text);
    if (bytes === undefined) return undefined;
    const der = bytes.length === 32 ? Buffer.concat([SPKI_ED25519_PREFIX, bytes]) : bytes;
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The checkpoint signing key: VERITY_SIGNING_KEY, or a key generated once into `<dataDir>/signing-key.pem`
 * (mode 0600). Checkpoints already handed out stay verifiable only with the public key of the key that
 * signed them, so back the file up with the data directory; every process of one deployment must share it.
 */
export function ensureSigningKey(config: { signingKey: KeyObject | undefined; dataDir: string }): { key: SigningKey; generated: boolean; file?: string } {
  const existing = existingSigningKey(config);
  if (existing !== undefined) return { ...existing, generated: false };
  const file = signingKeyFile(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  return { key: signingKeyFrom(privateKey), generated: true, file };
}

/**
 * The key VERITY_SIGNING_KEY gives, or the one in the data directory; undefined when there is neither (a
 * tool that only signs what a server published must not make a key of its own).
 */
export function existingSigningKey(config: { signingKey: KeyObject | undefined; dataDir: string }): { key: SigningKey; file?: string } | undefined {
  if (config.signingKey !== undefined) return { key: signingKeyFrom(config.signingKey) };
  const file = signingKeyFile(config.dataDir);
  if (!existsSync(file)) return undefined;
  const key = parseSigningKey(readFileSync(file, 'utf8'));
  if (key === undefined) throw new Error(`${file} does not hold an Ed25519 private key (PKCS#8 PEM); restore it from backup or set VERITY_SIGNING_KEY.`);
  return { key: signingKeyFrom(key), file };
}

function signingKeyFile(dataDir: string): string {
  return path.join(dataDir, 'signing-key.pem');
}

/** A key that lives only as long as this process (tests; never a server, whose checkpoints must outlive it). */
export function ephemeralSigningKey(): SigningKey {
  return signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
}

/**
 * Base64 (standard or URL-safe alphabet, padding optional) or undefined: Node's decoder skips characters
 * outside the alphabet and stops at the first '=', so "<key>;<other key>" would silently decode as the
 * first key alone.
 */
function strictBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64');
}
