import type { FastifyInstance } from 'fastify';
import { sendStored } from '../http/plugins/idempotency.js';
import { Type } from 'typebox';
import type { IngestService } from './ingest.service.js';
import { BatchBodySchema, CreateEventBodySchema, type BatchBody, type CreateEventBody } from './event.schema.js';

const ONE_MB = 1024 * 1024;

export function registerIngestRoutes(app: FastifyInstance, ingest: IngestService): void {
  app.post<{ Body: CreateEventBody }>(
    '/audit_logs/events',
    {
      bodyLimit: ONE_MB,
      config: { idempotency: 'self', validationShape: 'event' },
      schema: {
        tags: ['events'],
        summary: 'Create an audit log event (WorkOS-compatible)',
        body: CreateEventBodySchema,
        response: { 200: Type.Object({ success: Type.Boolean() }) },
      },
    },
    async (request, reply) => {
      return sendStored(reply, await ingest.createEvent(request.principal(), request.body, request.idempotencyClaim));
    },
  );

  app.post<{ Body: BatchBody }>(
    '/audit_logs/events/batch',
    {
      bodyLimit: 10 * ONE_MB,
      config: { idempotency: 'self', validationShape: 'batch' },
      schema: {
        tags: ['events'],
        summary: 'Create up to 1,000 events atomically: all are stored in one commit, or none',
        body: BatchBodySchema,
        response: { 200: Type.Object({ success: Type.Boolean(), ids: Type.Array(Type.String()) }) },
      },
    },
    async (request, reply) => {
      return sendStored(reply, await ingest.createBatch(request.principal(), request.body, request.idempotencyClaim));
    },
  );
}
