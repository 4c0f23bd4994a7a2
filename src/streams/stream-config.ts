import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { AppError } from '../errors/app-error.js';
import type { SecretBox } from '../shared/secret-box.js';
import { enumMessage } from '../shared/string-enum.js';
import type { DeliveryResult, Destination, DestinationDeps } from './destinations/destination.js';
import { redactResult, secretStrings } from './destinations/redact-secrets.js';
import { destinationType } from './destinations/registry.js';
import { forbiddenLiteral } from './net/address-guard.js';

// verbose: errors carry their schema, whose description explains a pattern better than the pattern does.
const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
addFormats.default(ajv);
const validators = new Map<string, ValidateFunction>();

/** A schema error in words: a value's expected form rather than the regular expression it failed. */
function messageOf(error: ErrorObject): string {
  if (error.keyword === 'enum') return enumMessage(error.params.allowedValues);
  if (error.keyword === 'pattern') {
    if (error.params.pattern === '^https?://') return 'must be an http:// or https:// URL';
    const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
    if (typeof description === 'string') return `is not in the expected form: ${description.replace(/\.$/, '')}`;
  }
  return error.message ?? 'is invalid';
}

/**
 * Checks a destination config against its type's schema and answers 422 with one error per field.
 * Error messages name fields, never values: a value may be a secret.
 */
export function validateConfig(type: string, config: Record<string, unknown>): Record<string, unknown> {
  const destination = destinationType(type);
  if (destination === undefined) {
    throw new AppError('validation_failed', 'Validation failed.', { errors: [{ code: 'invalid', field: 'type', message: `unsupported destination type '${type}'` }] });
  }
  let validate = validators.get(type);
  if (validate === undefined) {
    validate = ajv.compile(destination.configSchema);
    validators.set(type, validate);
  }
  const copy = structuredClone(config);
  if (!validate(copy)) {
    throw new AppError('validation_failed', 'Validation failed.', {
      errors: (validate.errors ?? []).map((error) => {
        const path = error.instancePath.split('/').filter(Boolean);
        if (error.keyword === 'required') path.push(String(error.params.missingProperty));
        if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty));
        return { code: error.keyword === 'required' ? 'required' : 'invalid', field: ['config', ...path].join('.'), message: messageOf(error) };
      }),
    });
  }
  const problems = destination.check?.(copy) ?? [];
  if (problems.length > 0) {
    throw new AppError('validation_failed', 'Validation failed.', {
      errors: problems.map((problem) => ({ code: 'invalid', field: `config.${problem.field}`, message: problem.message })),
    });
  }
  const withCredentials = Object.entries(copy).filter(([, value]) => typeof value === 'string' && holdsUserInfo(value));
  if (withCredentials.length > 0) {
    throw new AppError('validation_failed', 'Validation failed.', {
      errors: withCredentials.map(([field]) => ({
        code: 'invalid',
        field: `config.${field}`,
        // A URL is shown back on every read; credentials belong in a secret field, which never is.
        message: "must not contain credentials (user:password@): URLs are shown back, so send credentials in a secret field instead (for GenericHttps, headers such as 'Authorization')",
      })),
    });
  }
  return copy;
}

/**
 * Refuses, at save time, a destination written as a literal private, loopback or link-local address
 * (http://169.254.169.254/…, a syslog host 10.0.0.5) on a server that will never deliver there: otherwise the
 * stream is saved "active" and fails only at its first delivery. Host names are still checked where they
 * resolve, at connect time (the address guard), since DNS may change between saving and sending.
 */
export function refuseForbiddenLiterals(config: Record<string, unknown>, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const refused = Object.entries(config).flatMap(([field, value]) => {
    const host = typeof value === 'string' ? hostOf(field, value) : undefined;
    const address = host === undefined ? undefined : forbiddenLiteral(host);
    return address === undefined ? [] : [{ field, host: address }];
  });
  if (refused.length === 0) return;
  throw new AppError('validation_failed', 'Validation failed.', {
    errors: refused.map(({ field, host }) => ({
      code: 'invalid',
      field: `config.${field}`,
      message: `${host} is a private, loopback or link-local address, which this server does not deliver to (its operator can allow them with VERITY_ALLOW_PRIVATE_DESTINATIONS=true)`,
    })),
  });
}

/** The host a config value names: a URL's host, or a syslog `host` field as given. */
function hostOf(field: string, value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return field === 'host' ? value : undefined;
  try {
    return new URL(value).hostname;
  } catch {
    return undefined;
  }
}

function holdsUserInfo(value: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

/**
 * Refuses an edit that moves a stream's secrets to another destination without sending them again (422,
 * one `required` error per stored secret left out): otherwise whoever may edit a stream could point its URL
 * at a host of theirs and receive a token someone else entered, which is never shown back.
 * `changed` names the config fields whose value the edit changes; `sent` is the edit as sent.
 */
export function refuseMovedSecrets(type: string, changed: readonly string[], sent: Record<string, unknown>, storedSecrets: readonly string[]): void {
  const moved = (destinationType(type)?.secretsBoundTo ?? []).filter((field) => changed.includes(field));
  if (moved.length === 0) return;
  const missing = storedSecrets.filter((field) => sent[field] === undefined);
  if (missing.length === 0) return;
  throw new AppError('validation_failed', 'Validation failed.', {
    errors: missing.map((field) => ({
      code: 'required',
      field: `config.${field}`,
      message: `send it again with the new ${moved.join(' and ')}: a stored secret is never sent to a changed destination`,
    })),
  });
}

/** Splits a validated config into what may be shown and what must be sealed. */
export function splitSecrets(type: string, config: Record<string, unknown>): { plain: Record<string, unknown>; secret: Record<string, unknown> } {
  const secretFields = new Set(destinationType(type)?.secretFields ?? []);
  const plain: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) (secretFields.has(key) ? secret : plain)[key] = value;
  return { plain, secret };
}

export function sealSecrets(box: SecretBox, streamId: string, secret: Record<string, unknown>): string | null {
  return Object.keys(secret).length === 0 ? null : box.seal(JSON.stringify(secret), streamId);
}

export function openSecrets(box: SecretBox, streamId: string, sealed: string | null): Record<string, unknown> {
  return sealed === null ? {} : (JSON.parse(box.open(sealed, streamId)) as Record<string, unknown>);
}

/** Builds the live destination for a stream row (plain config + opened secrets). */
export function buildDestination(
  box: SecretBox,
  row: { id: string; type: string; config: Record<string, unknown>; secrets: string | null },
  deps: DestinationDeps,
): Destination {
  const type = destinationType(row.type);
  if (type === undefined) throw new Error(`unsupported destination type '${row.type}'`);
  const secret = openSecrets(box, row.id, row.secrets);
  return redacting(type.create({ ...row.config, ...secret }, deps), secretStrings(secret));
}

/**
 * Receivers and WAFs echo request headers (the Authorization header, an API key) into their error bodies,
 * and a result's texts end up in delivery rows, state_reason, test answers and the server log. Redacting
 * here, with every secret the stream has, covers every destination type, present and future.
 */
function redacting(destination: Destination, secrets: readonly string[]): Destination {
  const deliver = async (...args: Parameters<Destination['deliver']>): Promise<DeliveryResult> => {
    let result: DeliveryResult;
    try {
      result = await destination.deliver(...args);
    } catch (error) {
      // What the dispatcher would make of it, but redacted: an escaped error's message may quote a request.
      result = { outcome: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
    return redactResult(result, secrets);
  };
  return { limits: destination.limits, deliver, close: destination.close?.bind(destination) };
}
