import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import secureJsonParse from 'secure-json-parse';
import { AppError } from '../../errors/app-error.js';
import { findUnstorable, mayHoldUnstorable, type Unstorable } from '../../shared/unicode.js';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, removeAdditional: false, useDefaults: true, ...options });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Bodies are validated strictly (a string where a number belongs is an error, never coerced); query
 * strings and path parameters arrive as text and are coerced to the declared types.
 * JSON bodies may be empty (the WorkOS SDK sends Content-Type: application/json on GET and DELETE).
 */
export function registerValidation(app: FastifyInstance): void {
  const strict = makeAjv({ coerceTypes: false });
  const coercing = makeAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  // The API speaks JSON only: other bodies get 415 rather than reaching a handler as a string.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // invalid_json bodies carry `errors` (with the path when there is one): the WorkOS SDK raises
  // BadRequestException only for a 400 with both `code` and `errors`, GenericServerException otherwise.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (error) {
      return done(invalidJson(`The request body is not valid JSON: ${(error as Error).message}`, ''), undefined);
    }
    // Valid JSON that cannot be stored, hashed or canonicalised (each was a 500 further on).
    const unstorable = mayHoldUnstorable(text) ? findUnstorable(value) : undefined;
    if (unstorable !== undefined) return done(invalidJson(unstorableMessage(unstorable), unstorable.path), undefined);
    done(null, value);
  });

  // Path parameters and query values become SQL parameters, and PostgreSQL text cannot hold a NUL.
  app.addHook('onRequest', async (request) => {
    if (request.url.includes('%00')) throw new AppError('bad_request', 'The URL holds a NUL character (%00), which no identifier or filter value may contain.');
  });
}

function invalidJson(message: string, instancePath: string): AppError {
  return new AppError('invalid_json', message, { errors: [{ instancePath, message }] });
}

function unstorableMessage({ path, problem }: Unstorable): string {
  const at = path || '/';
  switch (problem) {
    case 'lone_surrogate':
      return `The request body is not valid Unicode: the string at ${at} holds a lone surrogate escape (such as \\ud800).`;
    case 'nul':
      return `The request body holds a NUL character (\\u0000) at ${at}; text values and keys may not contain one.`;
    case 'non_finite':
      return `The number at ${at} is too large to store (beyond ±1.8e308).`;
  }
}
