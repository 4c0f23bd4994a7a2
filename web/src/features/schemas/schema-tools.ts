import { Validator, type Schema } from '@cfworker/json-schema';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';

/**
 * Schema checks that run in the browser as the user types. The server compiles schemas with ajv (draft-07);
 * here an interpreting validator (no eval, so the pages keep a strict CSP) checks the same draft-07 rules:
 * each part against the draft-07 meta-schema, and the sample event against the parts.
 */

export interface Problem {
  path: string;
  message: string;
  line?: number;
}

export interface SchemaBody {
  actor?: { metadata?: Record<string, unknown> };
  targets: { type: string; metadata?: Record<string, unknown> }[];
  metadata?: Record<string, unknown>;
}

const metaValidator = new Validator(draft07 as unknown as Schema, '7', false);

/** The request body of POST /audit_logs/actions/:action/schemas, as a schema. */
const bodyValidator = new Validator(
  {
    type: 'object',
    required: ['targets'],
    additionalProperties: false,
    properties: {
      actor: { type: 'object', additionalProperties: false, properties: { metadata: { type: 'object' } } },
      targets: {
        type: 'array',
        minItems: 1,
        maxItems: 100,
        items: { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', minLength: 1, maxLength: 256 }, metadata: { type: 'object' } } },
      },
      metadata: { type: 'object' },
    },
  },
  '7',
  false,
);

/** Leaf errors only: the validator also reports every enclosing "a subschema had errors". */
function leafErrors(result: ReturnType<Validator['validate']>, prefix: string): Problem[] {
  const errors = result.errors.filter((error) => !/subschema|Property .* does not match schema|Items did not match schema/i.test(error.error));
  const list = errors.length > 0 ? errors : result.errors.slice(-1);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of list) {
    const path = `${prefix}${error.instanceLocation.replace(/^#/, '')}`;
    const message = error.error.replace(/^Instance /, 'Value ');
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path: path || '/', message });
  }
  return problems;
}

function lineOf(text: string, position: number): number {
  return text.slice(0, position).split('\n').length;
}

export function parseJson(text: string): { value?: unknown; problem?: Problem } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message : 'Invalid JSON';
    const line = /line (\d+)/.exec(message)?.[1];
    const position = /position (\d+)/.exec(message)?.[1];
    return {
      problem: {
        path: 'JSON',
        message: message.replace(/^JSON\.parse: /, '').replace(/ in JSON at position \d+.*$/, ''),
        line: line !== undefined ? Number(line) : position !== undefined ? lineOf(text, Number(position)) : undefined,
      },
    };
  }
}

/** Structure of the body, then each JSON Schema part against draft-07. */
export function checkSchemaBody(value: unknown): Problem[] {
  const structure = bodyValidator.validate(value);
  if (!structure.valid) return leafErrors(structure, '');
  const body = value as SchemaBody;
  const problems: Problem[] = [];
  const part = (schema: unknown, where: string) => {
    if (schema === undefined) return;
    const result = metaValidator.validate(schema);
    if (!result.valid) problems.push(...leafErrors(result, where));
  };
  part(body.actor?.metadata, '/actor/metadata');
  body.targets.forEach((target, index) => part(target.metadata, `/targets/${index}/metadata`));
  part(body.metadata, '/metadata');
  const types = body.targets.map((t) => t.type);
  const duplicate = types.find((type, index) => types.indexOf(type) !== index);
  if (duplicate !== undefined) problems.push({ path: '/targets', message: `Target type "${duplicate}" is listed twice.` });
  return problems;
}

type JsonSchema = Record<string, unknown>;

/**
 * What the dashboard's "New action" editor starts from: one example of each part, whose generated sample
 * event must match it (a sample that fails its own template tells a new user the tool is broken).
 */
export const NEW_ACTION_TEMPLATE: SchemaBody = {
  actor: {
    metadata: { type: 'object', properties: { role: { type: 'string', enum: ['admin', 'member'] } }, required: ['role'] },
  },
  targets: [
    {
      type: 'document',
      metadata: { type: 'object', properties: { title: { type: 'string', maxLength: 200 } }, required: ['title'] },
    },
  ],
  metadata: { type: 'object', properties: { ip_country: { type: 'string', minLength: 2, maxLength: 2, examples: ['DE'] } } },
};

/** A plausible value for a schema: const, default, examples, enum, then by type. */
export function sampleValue(schema: unknown, key = 'value', depth = 0): unknown {
  if (typeof schema !== 'object' || schema === null || depth > 6) return undefined;
  const s = schema as JsonSchema;
  if ('const' in s) return s.const;
  if ('default' in s) return s.default;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  for (const combinator of ['allOf', 'anyOf', 'oneOf']) {
    const list = s[combinator];
    if (Array.isArray(list) && list.length > 0) return sampleValue(list[0], key, depth + 1);
  }
  const type = Array.isArray(s.type) ? (s.type[0] as unknown) : s.type;
  switch (type) {
    case 'object':
    case undefined: {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      if (type === undefined && Object.keys(properties).length === 0) return undefined;
      const result: Record<string, unknown> = {};
      for (const [name, child] of Object.entries(properties)) {
        const value = sampleValue(child, name, depth + 1);
        if (value !== undefined) result[name] = value;
      }
      return result;
    }
    case 'string': {
      const format = s.format;
      if (format === 'date-time') return new Date().toISOString();
      if (format === 'date') return new Date().toISOString().slice(0, 10);
      if (format === 'email') return 'jane@example.com';
      if (format === 'uri' || format === 'url') return 'https://example.com';
      if (format === 'uuid') return '3fa85f64-5717-4562-b3fc-2c963f66afa6';
      if (format === 'ipv4') return '203.0.113.7';
      const minLength = typeof s.minLength === 'number' ? s.minLength : 0;
      const maxLength = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
      // The sample is checked against the schema it came from: it must fit both bounds, e.g. a 2-letter code.
      return `example_${key}`.padEnd(minLength, 'x').slice(0, Math.max(minLength, maxLength));
    }
    case 'integer':
    case 'number': {
      const low = typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 1;
      const high = typeof s.maximum === 'number' ? s.maximum : typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum - 1 : Infinity;
      return Math.min(low, high);
    }
    case 'boolean':
      return true;
    case 'array':
      return [sampleValue(s.items, key, depth + 1)].filter((v) => v !== undefined);
    case 'null':
      return null;
    default:
      return undefined;
  }
}

export function sampleEvent(action: string, body: SchemaBody, version: number): Record<string, unknown> {
  const metadata = (schema: unknown) => {
    const value = sampleValue(schema);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  };
  return {
    action: action || 'user.signed_in',
    occurred_at: new Date().toISOString(),
    version,
    actor: { id: 'user_01HZX3E5Q7', type: 'user', name: 'Jane Doe', metadata: metadata(body.actor?.metadata) },
    targets: body.targets.map((target, index) => ({ id: `${target.type}_0${index + 1}`, type: target.type, metadata: metadata(target.metadata) })),
    context: { location: '203.0.113.7', user_agent: 'Mozilla/5.0' },
    metadata: metadata(body.metadata),
  };
}

/** The server's check of an event against a schema version (SchemasService.check). */
export function checkEvent(event: unknown, body: SchemaBody): Problem[] {
  if (typeof event !== 'object' || event === null) return [{ path: '/', message: 'The sample must be an event object.' }];
  const e = event as { actor?: { metadata?: unknown }; targets?: { type?: unknown; metadata?: unknown }[]; metadata?: unknown };
  const problems: Problem[] = [];
  const run = (schema: Record<string, unknown> | undefined, value: unknown, path: string) => {
    if (schema === undefined) return;
    const result = new Validator(schema, '7', false).validate(value ?? {});
    if (!result.valid) problems.push(...leafErrors(result, path));
  };
  run(body.actor?.metadata, e.actor?.metadata, '/actor/metadata');
  run(body.metadata, e.metadata, '/metadata');
  const byType = new Map(body.targets.map((target) => [target.type, target.metadata]));
  (Array.isArray(e.targets) ? e.targets : []).forEach((target, index) => {
    if (typeof target.type !== 'string' || !byType.has(target.type)) {
      problems.push({ path: `/targets/${index}/type`, message: `must be one of the schema's target types: ${[...byType.keys()].join(', ')}` });
      return;
    }
    run(byType.get(target.type), target.metadata, `/targets/${index}/metadata`);
  });
  return problems;
}
