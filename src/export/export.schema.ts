import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { Type, type Static } from 'typebox';
import { StringEnum } from '../shared/string-enum.js';

/**
 * The check search and ingest apply through `format: "date-time"` (ajv-formats, full mode): RFC 3339 with a
 * time zone and a real calendar day. Parsing with Date alone would shift "2026-02-30T00:00:00Z" to March 2,
 * read a time without a zone in the server's local time and guess at "PST": an export of a range nobody asked for.
 */
const dateTimeCheck = (() => {
  const ajv = new Ajv();
  addFormats.default(ajv, ['date-time']);
  return ajv.compile<string>({ type: 'string', format: 'date-time' });
})();

/** Whether `value` is an export range bound: what `format: "date-time"` accepts. */
export function isExportDateTime(value: string): boolean {
  return dateTimeCheck(value);
}

const filterList = (description?: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 100, ...(description === undefined ? {} : { description }) });
const MetadataValue = { anyOf: [{ type: 'string', maxLength: 500 }, { type: 'number' }, { type: 'boolean' }] };

/** metadata filters: key → value (or any of several values), matching root, actor and target metadata. */
export const ExportMetadataFilterSchema = Type.Unsafe<Record<string, string | number | boolean | (string | number | boolean)[]>>({
  type: 'object',
  maxProperties: 50,
  propertyNames: { pattern: '^[a-zA-Z0-9_-]{0,40}$' },
  additionalProperties: { anyOf: [MetadataValue, { type: 'array', items: MetadataValue, minItems: 1, maxItems: 100 }] },
  description: 'Verity: key → value (or list of values); same semantics as metadata[key]=value in search.',
});

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** WorkOS's create-export body (the SDK sends exactly these fields) plus Verity's format, metadata and gzip. */
export const CreateExportBodySchema = Type.Object(
  {
    organization_id: Type.String({ minLength: 1, maxLength: 128 }),
    // Plain strings, not format: date-time: WorkOS answers a bad date with its own 400 code, not a 422. The
    // route checks them with isExportDateTime.
    range_start: Type.String({ maxLength: 64, description: 'ISO-8601 date-time; inclusive.' }),
    range_end: Type.String({ maxLength: 64, description: 'ISO-8601 date-time; exclusive.' }),
    actions: Type.Optional(filterList()),
    actor_names: Type.Optional(filterList()),
    actor_ids: Type.Optional(filterList()),
    targets: Type.Optional(filterList('Target types.')),
    target_ids: Type.Optional(filterList('Verity: target ids (any of them), as target_ids in search.')),
    actors: Type.Optional(filterList('Deprecated WorkOS alias of actor_names.')),
    format: Type.Optional(StringEnum(['csv', 'ndjson'], { description: 'Verity: csv (default) or ndjson.' })),
    metadata: Type.Optional(ExportMetadataFilterSchema),
    q: Type.Optional(Type.String({ maxLength: 200, description: "Verity: free text, as search's q: every word must appear (case-insensitive, substrings too)." })),
    gzip: Type.Optional(Type.Boolean({ description: 'Verity: gzip the file (audit_logs_export.csv.gz).' })),
  },
  { additionalProperties: false },
);
export type CreateExportBody = Static<typeof CreateExportBodySchema>;

export const ExportParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

// Optional so that a link missing either part gets the same 403 as a forged one, not a validation error.
export const DownloadQuerySchema = Type.Object({
  expires: Type.Optional(Type.String({ maxLength: 20 })),
  signature: Type.Optional(Type.String({ maxLength: 200 })),
});
export type DownloadQuery = Static<typeof DownloadQuerySchema>;

/** The filters an export was created with, normalised, as kept in `exports.filters`. */
export interface ExportFilters {
  range_start: string;
  range_end: string;
  actions: string[];
  actor_names: string[];
  actor_ids: string[];
  target_types: string[];
  /** Exports created before this filter existed have none. */
  target_ids?: string[];
  /** key → accepted values (any of them matches); keys are ANDed. */
  metadata: Record<string, string[]>;
  /** Free text as given (exports created before it existed have none). */
  q?: string;
}

export type ExportState = 'pending' | 'ready' | 'error';

/** The export object: WorkOS's fields first, then Verity's progress and file details. */
export interface ExportView {
  object: 'audit_log_export';
  id: string;
  state: ExportState;
  /** Present only when ready: absolute, signed, valid for ten minutes, re-issued on every GET. */
  url?: string;
  created_at: string;
  updated_at: string;
  organization_id: string;
  format: ExportFormat;
  gzip: boolean;
  rows_written: number;
  /** Rows matching the filters when the export started (null until then). */
  rows_total: number | null;
  percent: number;
  /** When the file and this object are deleted. */
  expires_at: string;
  /** Verity: what the export selects (normalised), so a list of exports says which is which. */
  filters: ExportFilters;
  error?: string;
}
