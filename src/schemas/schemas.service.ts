import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Db } from '../db/db.js';
import { AppError, type ErrorDetail } from '../errors/app-error.js';
import type { EventInput } from '../ingest/event.schema.js';
import { newId } from '../shared/ids.js';
import { cursorOf, numberCursorOf, scanOrder, toList, type List, type PageParams } from '../shared/pagination.js';
import type { AuditLogActionView, AuditLogSchemaView, SchemaDefinition } from './schemas.schema.js';
import { checkMetadataSchemas } from './metadata-schema.js';
import {
  actionExists,
  insertNextSchema,
  selectActionPage,
  selectLatestVersion,
  selectSchema,
  selectSchemaPage,
  type SchemaRow,
} from './schemas.sql.js';

/**
 * The version an event of an action without schemas is recorded as. An application that always sends
 * `version: 1` therefore works for such actions too (it names what would be stored anyway).
 */
export const UNSCHEMATISED_VERSION = 1;

/** A compiled schema version: checks one event and lists what is wrong with it. */
export interface CompiledSchema {
  version: number;
  check(event: EventInput): ErrorDetail[];
}

// Another process may add a version; "latest" is re-read from the database this often.
const LATEST_TTL_MS = 2_000;

export function toSchemaView(row: Pick<SchemaRow, 'version' | 'schema' | 'created_at'>): AuditLogSchemaView {
  const { actor, targets, metadata } = row.schema;
  return {
    object: 'audit_log_schema',
    version: row.version,
    ...(actor === undefined ? {} : { actor }),
    targets,
    ...(metadata === undefined ? {} : { metadata }),
    created_at: new Date(row.created_at).toISOString(),
  };
}

export class SchemasService {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, CompiledSchema>();
  // The promise is cached, not the value, so concurrent events of one action share one lookup.
  private readonly latest = new Map<string, { version: Promise<number | null>; expires: number }>();

  constructor(private readonly db: Db) {}

  async create(action: string, definition: SchemaDefinition): Promise<AuditLogSchemaView> {
    this.compile(definition); // refuse a schema that cannot be compiled before storing it
    checkMetadataSchemas(definition);
    const types = definition.targets.map((target) => target.type);
    if (new Set(types).size !== types.length) {
      throw new AppError('invalid_schema', 'Each target type may appear only once in a schema.');
    }
    const row = await this.db.transaction((tx) => insertNextSchema(tx, action, newId('schema'), definition));
    this.latest.delete(action);
    return toSchemaView(row);
  }

  async list(action: string, page: PageParams): Promise<List<AuditLogSchemaView>> {
    if (!(await actionExists(this.db, action))) throw new AppError('not_found', `Audit Log Action not found: '${action}'.`);
    const { cursor: version, op } = numberCursorOf(page, 'a schema version', 9);
    const rows = await selectSchemaPage(this.db, action, version, op, scanOrder(page), page.limit + 1);
    return toList(rows, page, (row) => String(row.version), toSchemaView);
  }

  async listActions(page: PageParams): Promise<List<AuditLogActionView>> {
    const { cursor, op } = cursorOf(page);
    const rows = await selectActionPage(this.db, cursor, op, scanOrder(page), page.limit + 1);
    return toList(rows, page, (row) => row.name, (row) => ({
      object: 'audit_log_action',
      name: row.name,
      schema: row.latest === null ? null : toSchemaView(row.latest),
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    }));
  }

  /**
   * The schema an event of this action must satisfy: the version it names, or the latest. Null when the
   * action has no schemas (then any well-formed event is accepted, naming no version or version 1).
   */
  async resolve(action: string, version: number | undefined): Promise<CompiledSchema | null> {
    const latest = await this.latestVersion(action, version);
    if (latest === null) {
      if (version === undefined || version === UNSCHEMATISED_VERSION) return null;
      throw unknownVersion(action, version);
    }
    const wanted = version ?? latest;
    const key = `${action}\n${wanted}`;
    const hit = this.compiled.get(key);
    if (hit) return hit;
    const row = await selectSchema(this.db, action, wanted);
    if (row === undefined) throw unknownVersion(action, wanted);
    const compiled = this.compile(row.schema, wanted);
    if (this.compiled.size > 5_000) this.compiled.clear();
    this.compiled.set(key, compiled);
    return compiled;
  }

  /**
   * The action's latest version, cached for LATEST_TTL_MS. An event naming a version the cached latest
   * does not reach re-reads it (the version may have just been created); versions are never deleted, so
   * one at or below the cached latest exists.
   */
  private async latestVersion(action: string, named: number | undefined): Promise<number | null> {
    const cached = this.latest.get(action);
    if (cached !== undefined && cached.expires > Date.now()) {
      const version = await cached.version;
      if (named === undefined || named <= (version ?? UNSCHEMATISED_VERSION)) return version;
    }
    const version = selectLatestVersion(this.db, action);
    if (this.latest.size > 5_000) this.latest.clear();
    this.latest.set(action, { version, expires: Date.now() + LATEST_TTL_MS });
    // A failed lookup must not stay cached.
    version.catch(() => this.latest.delete(action));
    return version;
  }

  /** Compiles every part once; a customer schema ajv rejects becomes a 422 naming the part. */
  private compile(definition: SchemaDefinition, version = 0): CompiledSchema {
    const part = (schema: Record<string, unknown> | undefined, where: string): ValidateFunction | undefined => {
      if (schema === undefined) return undefined;
      try {
        return this.ajv.compile(schema);
      } catch (error) {
        throw new AppError('invalid_schema', `The JSON Schema at ${where} is invalid: ${(error as Error).message}`, { cause: error });
      }
    };
    const actor = part(definition.actor?.metadata, 'actor.metadata');
    const metadata = part(definition.metadata, 'metadata');
    const targets = new Map(definition.targets.map((target, i) => [target.type, part(target.metadata, `targets[${i}].metadata`)]));
    const allowed = [...targets.keys()].join(', ');
    return {
      version,
      check(event) {
        const errors: ErrorDetail[] = [];
        const run = (validate: ValidateFunction | undefined, value: unknown, path: string): void => {
          if (validate && !validate(value ?? {})) errors.push(...(validate.errors ?? []).map((e) => schemaError(e, path)));
        };
        run(actor, event.actor.metadata, '/actor/metadata');
        run(metadata, event.metadata, '/metadata');
        event.targets.forEach((target, i) => {
          if (!targets.has(target.type)) {
            errors.push({ instancePath: `/targets/${i}/type`, keyword: 'enum', message: `must be one of the schema's target types: ${allowed}` });
          } else {
            run(targets.get(target.type), target.metadata, `/targets/${i}/metadata`);
          }
        });
        return errors;
      },
    };
  }
}

function schemaError(error: ErrorObject, path: string): ErrorDetail {
  return { instancePath: path + error.instancePath, keyword: error.keyword, message: error.message ?? 'is invalid', params: error.params };
}

function unknownVersion(action: string, version: number): AppError {
  const message = `Schema version ${version} does not exist for action '${action}'.`;
  // With `errors` the WorkOS SDK raises BadRequestException (it maps a 400 only when the body has both).
  return new AppError('invalid_audit_log_schema_version', message, { errors: [{ instancePath: '/version', message }] });
}
