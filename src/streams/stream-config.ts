import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { AppError } from '../errors/app-error.js';
import type { SecretBox } from '../shared/secret-box.js';
import { enumMessage } from '../shared/string-enum.js';
import type { Destination, DestinationDeps } from './destinations/destination.js';
import { destinationType } from './destinations/registry.js';

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
addFormats.default(ajv);
const validators = new Map<string, ValidateFunction>();

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
        return { code: error.keyword === 'required' ? 'required' : 'invalid', field: ['config', ...path].join('.'), message: error.keyword === 'enum' ? enumMessage(error.params.allowedValues) : (error.message ?? 'is invalid') };
      }),
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

function holdsUserInfo(value: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
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
  return type.create({ ...row.config, ...openSecrets(box, row.id, row.secrets) }, deps);
}
