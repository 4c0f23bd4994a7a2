import { AppError } from '../errors/app-error.js';
import type { SchemaDefinition } from './schemas.schema.js';

// What an event's metadata can hold: an object whose values are strings, numbers or booleans.
const VALUE_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

function typesOf(schema: unknown): string[] | undefined {
  if (schema === null || typeof schema !== 'object' || !('type' in schema)) return undefined;
  const type = schema.type;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : undefined;
}

/**
 * Refuses a metadata JSON Schema no event could satisfy: one that does not describe an object, or a
 * property whose type no metadata value can have (an object, an array, null). Without this check such a
 * schema was stored, and since versions are immutable every event of the action was refused until a new
 * version was posted.
 */
function checkMetadataSchema(schema: Record<string, unknown> | undefined, where: string): void {
  if (schema === undefined) return;
  const types = typesOf(schema);
  if (types !== undefined && !types.includes('object')) {
    throw new AppError('invalid_schema', `The JSON Schema at ${where} must describe an object ("type": "object"): metadata is an object of string, number and boolean values.`);
  }
  const properties = schema.properties;
  if (properties === null || typeof properties !== 'object') return;
  for (const [name, property] of Object.entries(properties)) {
    const propertyTypes = typesOf(property);
    if (propertyTypes !== undefined && !propertyTypes.some((type) => VALUE_TYPES.has(type))) {
      throw new AppError(
        'invalid_schema',
        `The JSON Schema at ${where}.properties.${name} allows only ${propertyTypes.join(', ') || 'no type'}: metadata values are strings, numbers or booleans.`,
      );
    }
  }
}

export function checkMetadataSchemas(definition: SchemaDefinition): void {
  checkMetadataSchema(definition.actor?.metadata, 'actor.metadata');
  checkMetadataSchema(definition.metadata, 'metadata');
  definition.targets.forEach((target, i) => checkMetadataSchema(target.metadata, `targets[${i}].metadata`));
}
