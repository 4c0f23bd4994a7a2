import { Type, type TSchemaOptions, type TUnsafe } from 'typebox';

/**
 * A string that must be one of `values`, as one JSON Schema `enum`. A union of literals says the same,
 * but a wrong value then fails each literal and the union: four errors instead of one that lists what
 * is allowed (see the validation error formatter in src/http/plugins/errors.ts).
 */
export function StringEnum<const T extends string>(values: readonly T[], options: TSchemaOptions = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** What a failed enum check says: the allowed values (never the value given, which may be a secret). */
export function enumMessage(allowedValues: unknown): string {
  return `must be one of: ${(Array.isArray(allowedValues) ? allowedValues : []).join(', ')}`;
}
