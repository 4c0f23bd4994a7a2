import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import secureJsonParse from 'secure-json-parse';
import { AppError } from '../../errors/app-error.js';
import { lonelySurrogatePaths } from '../../shared/unicode.js';

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
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (error) {
      return done(new AppError('invalid_json', `The request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
    // A lone surrogate can only arrive as an escape. It has no UTF-8 and no canonical form, so it could be
    // neither hashed into the chain nor compared for idempotency (both threw: a 500); I-JSON forbids it.
    const [path] = text.includes('\\u') ? lonelySurrogatePaths(value) : [];
    if (path !== undefined) {
      return done(
        new AppError('invalid_json', `The request body is not valid Unicode: the string at ${path || '/'} holds a lone surrogate escape (such as \\ud800).`),
        undefined,
      );
    }
    done(null, value);
  });
}
