import type { DeliveryResult } from './destination.js';

export const REDACTED = '[redacted]';
/** Shorter strings (a header value like "1", a flag) are too likely to occur by chance to be worth replacing. */
const MIN_SECRET_LENGTH = 4;

/**
 * The forms in which a secret may come back from a receiver: as sent, URI-encoded (query strings, a WAF's
 * quoted URL), form-encoded (token requests), and, for an Authorization-style value "<scheme> <credentials>",
 * the credentials alone (receivers often echo just the token they refused).
 */
function variants(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];
  const credentials = /^\S+\s+(\S.*)$/.exec(secret)?.[1];
  if (credentials !== undefined) forms.push(credentials);
  return forms;
}

/** Every string value in a config's secret part (nested objects such as GenericHttps `headers` included), in every form. */
export function secretStrings(value: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') found.push(...variants(node));
    else if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) Object.values(node).forEach(walk);
  };
  walk(value);
  return found;
}

/** Replaces each secret (of at least MIN_SECRET_LENGTH characters) in `text` with REDACTED. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  // Longest first: a secret that contains another must go whole, not leave its remainder behind.
  const ordered = [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** The result with its error and detail redacted: they are stored in delivery rows, state_reason and logs. */
export function redactResult(result: DeliveryResult, secrets: Iterable<string>): DeliveryResult {
  // The common case on the delivery path: nothing to look through.
  if (result.outcome === 'delivered' && result.detail === undefined) return result;
  const list = [...secrets];
  const detail = 'detail' in result && result.detail !== undefined ? { detail: redactSecrets(result.detail, list) } : {};
  if (result.outcome === 'delivered') return { ...result, ...detail };
  return { ...result, error: redactSecrets(result.error, list) };
}
