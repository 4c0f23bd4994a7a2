import { errorCode } from '../shared/error-code.js';

/**
 * A call to a running Verity server's API for the CLI's --url mode: JSON in and out, and errors a person
 * can act on — which address could not be reached and why, or the status and message the server gave.
 */
export async function callApi<T>(baseUrl: string, apiKey: string, method: string, path: string | URL, body?: unknown): Promise<T> {
  const url = path instanceof URL ? path : new URL(path, baseUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`cannot reach the Verity server at ${url.origin}: ${reasonOf(error)}. Is it running, and is --url right?`, { cause: error });
  }
  const text = await response.text();
  let json: (T & { message?: string }) | undefined;
  try {
    json = JSON.parse(text) as T & { message?: string };
  } catch {
    json = undefined;
  }
  if (!response.ok) throw new Error(`${response.status}: ${json?.message ?? (text.slice(0, 200) || 'request failed')}`);
  if (json === undefined) throw new Error(`${url.origin} answered ${response.status} with a body that is not JSON: is --url a Verity server?`);
  return json;
}

// fetch reports "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is in its cause.
function reasonOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = errorCode(cause);
    return code === undefined ? cause.message : `${code} (${cause.message})`;
  }
  return error instanceof Error ? error.message : String(error);
}
