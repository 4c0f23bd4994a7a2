import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../errors/app-error.js';
import { PageQuerySchema, pageParams, type PageQuery } from '../shared/pagination.js';
import {
  CreateExportBodySchema,
  DownloadQuerySchema,
  ExportParamsSchema,
  isExportDateTime,
  type CreateExportBody,
  type DownloadQuery,
} from './export.schema.js';
import type { ExportFile, ExportService } from './export.service.js';

type IdParams = { id: string };

export function registerExportRoutes(app: FastifyInstance, exports: ExportService): void {
  const tags = ['exports'];

  app.post<{ Body: CreateExportBody }>(
    '/audit_logs/exports',
    {
      // Admin Portal (audit_logs) sessions export their own organization's events.
      config: { portal: ['audit_logs'] },
      schema: {
        tags,
        summary: 'Create an export (written in the background; poll GET until state is ready)',
        body: CreateExportBodySchema,
      },
    },
    async (request, reply) => {
      // As strict as search's range_start/range_end, answered with WorkOS's code for a bad export range.
      if (!isExportDateTime(request.body.range_start) || !isExportDateTime(request.body.range_end)) {
        throw new AppError('invalid_audit_log_export_range_date', 'Invalid date range');
      }
      return reply.code(201).send(await exports.create(request.principal(), request.body));
    },
  );

  app.get<{ Querystring: PageQuery & { organization_id?: string } }>(
    '/audit_logs/exports',
    {
      // An Admin Portal (audit_logs) session lists its own organization's exports: the organization is implied.
      config: { portal: ['audit_logs'] },
      schema: {
        tags,
        summary: 'List unexpired exports, newest first (organization_id: one organization; a restricted key or portal session sees only its own)',
        querystring: Type.Object({ ...PageQuerySchema.properties, organization_id: Type.Optional(Type.String({ maxLength: 128 })) }),
      },
    },
    async (request) => exports.list(request.principal(), request.query.organization_id, pageParams(request.query)),
  );

  app.get<{ Params: IdParams }>(
    '/audit_logs/exports/:id',
    { config: { portal: ['audit_logs'] }, schema: { tags, summary: 'Get an export: state, progress and, when ready, a download url valid for 10 minutes', params: ExportParamsSchema } },
    async (request) => exports.get(request.principal(), request.params.id),
  );

  const downloadRoute = {
    // The signed link is the credential: it is handed to browsers and scripts that hold no API key.
    config: { auth: false },
    schema: {
      tags,
      params: ExportParamsSchema,
      querystring: DownloadQuerySchema,
      security: [],
    },
  };

  app.get<{ Params: IdParams; Querystring: DownloadQuery }>(
    '/audit_logs/exports/:id/download',
    {
      ...downloadRoute,
      // Its own HEAD route below: fastify's would run this handler, recording a download that never happened.
      exposeHeadRoute: false,
      schema: { ...downloadRoute.schema, summary: 'Download an export file through the signed link from GET /audit_logs/exports/:id (no API key)' },
    },
    async (request, reply) => {
      const file = await exports.download(request.params.id, request.query.expires, request.query.signature, {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
      });
      return reply.headers(fileHeaders(file)).send(file.body);
    },
  );

  app.head<{ Params: IdParams; Querystring: DownloadQuery }>(
    '/audit_logs/exports/:id/download',
    { ...downloadRoute, schema: { ...downloadRoute.schema, summary: 'The headers of a download (type, name, size) through the signed link, without the file; not recorded as a download' } },
    async (request, reply) => reply.headers(fileHeaders(await exports.describeDownload(request.params.id, request.query.expires, request.query.signature))).send(),
  );
}

function fileHeaders(file: Omit<ExportFile, 'body'>): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': file.contentType,
    'content-disposition': `attachment; filename="${file.fileName}"`,
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
  };
  if (file.bytes !== null) headers['content-length'] = String(file.bytes);
  return headers;
}
