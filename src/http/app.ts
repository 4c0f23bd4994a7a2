import './types.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { registerDashboardRoutes } from '../dashboard/dashboard.routes.js';
import { OperatorsService } from '../dashboard/dashboard.service.js';
import { AddressLimiter } from '../shared/address-limiter.js';
import type { Db } from '../db/db.js';
import { registerExportRoutes } from '../export/export.routes.js';
import { EXPORT_CLEANUP_JOB_KIND, EXPORT_JOB_KIND, type ExportService } from '../export/export.service.js';
import { createExportService, EXPORT_CLEANUP_INTERVAL_MS } from '../export/export.setup.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { registerIntegrityRoutes } from '../integrity/integrity.routes.js';
import { IntegrityService } from '../integrity/integrity.service.js';
import { ephemeralSigningKey, signingKeyFrom, verificationKeyFrom, type SigningKey } from '../integrity/signing-key.js';
import { JobRunner } from '../jobs/job-runner.js';
import { LogAppender } from '../ingest/appender.js';
import { GinPendingCleaner } from '../ingest/gin-pending-cleaner.js';
import { registerIngestRoutes } from '../ingest/ingest.routes.js';
import { IngestService } from '../ingest/ingest.service.js';
import { registerKeyRoutes } from '../keys/keys.routes.js';
import { KeysService } from '../keys/keys.service.js';
import { registerMeteringRoutes } from '../metering/metering.routes.js';
import { MeteringService } from '../metering/metering.service.js';
import { Metrics } from '../metrics/metrics.js';
import { registerOrganizationRoutes } from '../organizations/organizations.routes.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { registerPortalRoutes } from '../portal/portal.routes.js';
import { PortalService } from '../portal/portal.service.js';
import { AppendSignal } from '../query/append-signal.js';
import { registerQueryRoutes } from '../query/query.routes.js';
import { registerStatsRoutes } from '../query/stats.routes.js';
import { QueryService } from '../query/query.service.js';
import { registerRetentionRoutes } from '../retention/retention.routes.js';
import { RetentionService } from '../retention/retention.service.js';
import { registerSchemaRoutes } from '../schemas/schemas.routes.js';
import { SchemasService } from '../schemas/schemas.service.js';
import { newId } from '../shared/ids.js';
import { packageRoot } from '../shared/package-root.js';
import { SecretBox } from '../shared/secret-box.js';
import { StreamDispatcher } from '../streams/dispatcher.js';
import { createHttpClient } from '../streams/net/http.js';
import { registerStreamRoutes } from '../streams/streams.routes.js';
import { StreamsService } from '../streams/streams.service.js';
import { selectLag } from '../streams/streams.sql.js';
import { SystemAudit } from '../system-audit/system-audit.service.js';
import { registerAuth } from './plugins/auth.js';
import { registerCsrf } from './plugins/csrf.js';
import { frameworkError, MAX_PATH_PARAMETER_LENGTH, registerErrorHandling, sendError } from './plugins/errors.js';
import { registerIdempotency } from './plugins/idempotency.js';
import { registerObservability, requestIdFrom } from './plugins/observability.js';
import { registerRateLimit } from './plugins/rate-limit.js';
import { registerStaticUi } from './plugins/static-ui.js';
import { registerValidation } from './plugins/validation.js';
import { registerSystemRoutes } from './system.routes.js';

export interface AppDeps {
  config: Config;
  db: Db;
  /** Master key for secrets at rest (see src/config/secret-key.ts). */
  secretKey: Buffer;
  /** Run the log-stream dispatcher in this process (role worker or all). */
  worker?: boolean;
  /** Serve the API (role api or all); a worker-only process serves just health, readiness and metrics. */
  api?: boolean;
  /** A pino logger; omitted → silent (tests). */
  logger?: Logger;
  metrics?: Metrics;
  /**
   * The checkpoint signing key (src/integrity/signing-key.ts ensureSigningKey). Omitted: VERITY_SIGNING_KEY,
   * else a throwaway key for this process (tests) — a server passes the key kept in its data directory.
   */
  signingKey?: SigningKey;
  /** The built web app; defaults to web/dist in the package. */
  webRoot?: string;
}

export interface Services {
  keys: KeysService;
  /** Dashboard operators and their sessions. */
  operators: OperatorsService;
  /** Admin Portal links and sessions. */
  portal: PortalService;
  /** Records administrative actions as audit events in the system organization: record(action, actor, targets, metadata). */
  systemAudit: SystemAudit;
  organizations: OrganizationsService;
  schemas: SchemasService;
  appender: LogAppender;
  ingest: IngestService;
  query: QueryService;
  signal: AppendSignal;
  idempotency: IdempotencyService;
  metrics: Metrics;
  streams: StreamsService;
  dispatcher: StreamDispatcher;
  jobs: JobRunner;
  exports: ExportService;
  retention: RetentionService;
  metering: MeteringService;
  integrity: IntegrityService;
}

export interface VerityApp {
  app: FastifyInstance;
  services: Services;
}

/** Builds the whole HTTP API around a database. Never listens: server.ts does, tests use inject(). */
export async function buildApp(deps: AppDeps): Promise<VerityApp> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // One log line per request would dominate ingest cost; metrics and error logs cover requests.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (request) => requestIdFrom(request.headers['x-request-id'], () => newId('request')),
    // Large batches are allowed per route; this is the default for all others.
    bodyLimit: 1024 * 1024,
    // Path parameters are checked by each route's schema (ids up to 128 characters, action names and external
    // ids up to 256, as events and organizations accept them). The router's own default of 100 answered a
    // longer, valid action name with 414 before that check; past this bound it is frameworkErrors' 400.
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, frameworkError(error));
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Behind a TLS-terminating proxy: request.protocol and request.ip as the client sent them (VERITY_TRUST_PROXY).
    trustProxy: typeof deps.config.trustProxy === 'object' ? [...deps.config.trustProxy] : deps.config.trustProxy,
  }) as unknown as FastifyInstance;

  const metrics = deps.metrics ?? new Metrics({ defaultMetrics: false });
  const logger = app.log as Logger;
  const keys = new KeysService(deps.db);
  const schemas = new SchemasService(deps.db);
  const idempotency = new IdempotencyService(deps.db);
  const appender = new LogAppender(deps.db, logger, metrics);
  const systemAudit = new SystemAudit(deps.db, appender, deps.config, logger);
  const signal = new AppendSignal(deps.db, logger);
  const ginCleaner = new GinPendingCleaner(deps.db, signal, logger, { metrics });
  const box = new SecretBox(deps.secretKey);
  const http = createHttpClient({ allowPrivate: deps.config.allowPrivateDestinations, timeoutMs: deps.config.streamRequestTimeoutMs });
  const destinationDeps = { http, allowPrivate: deps.config.allowPrivateDestinations };
  const dispatcher = new StreamDispatcher(deps.db, signal, box, destinationDeps, logger, {
    concurrency: deps.config.streamConcurrency,
    maxFailingHours: deps.config.streamMaxFailingHours,
    leaseSeconds: deps.config.streamLeaseSeconds,
  }, metrics);
  // A stream whose config changed, or that was resumed, is worth claiming at once.
  const streams = new StreamsService(
    deps.db,
    box,
    destinationDeps,
    () => dispatcher.streamsChanged(),
    () => systemAudit.organizationId(),
  );
  metrics.setStreamLagSource(() => selectLag(deps.db));
  const organizations = new OrganizationsService(deps.db, deps.config, (organizationId) => streams.forOrganization(organizationId));
  const jobs = new JobRunner(deps.db, logger);
  const exportService = createExportService({ db: deps.db, config: deps.config, secretKey: deps.secretKey, logger }, jobs, systemAudit);
  const integrity = new IntegrityService(
    deps.db,
    deps.signingKey ?? (deps.config.signingKey === undefined ? ephemeralSigningKey() : signingKeyFrom(deps.config.signingKey)),
    {
      checkpointEveryEvents: deps.config.checkpointEveryEvents,
      checkpointIntervalMinutes: deps.config.checkpointIntervalMinutes,
      retiredKeys: deps.config.retiredPublicKeys.map(verificationKeyFrom),
      logger,
    },
  );
  const services: Services = {
    keys,
    operators: new OperatorsService(deps.db, deps.config),
    portal: new PortalService(deps.db, deps.config),
    systemAudit,
    organizations,
    schemas,
    appender,
    ingest: new IngestService(appender, schemas, idempotency, () => systemAudit.organizationId()),
    query: new QueryService(deps.db),
    signal,
    idempotency,
    metrics,
    streams,
    dispatcher,
    jobs,
    exports: exportService,
    // Purged ranges are signed with the checkpoint key, so a range written into the database by hand shows.
    retention: new RetentionService(deps.db, organizations, logger, { signer: integrity }),
    metering: new MeteringService(deps.db, deps.config, logger),
    integrity,
  };
  services.integrity.registerJobs(services.jobs);
  // NDJSON exports end with the integrity trailer (checkpoints, purged ranges) that `verity verify` reads.
  services.exports.setTrailer((subject, written) => services.integrity.exportTrailer(subject, written));
  // Recurring lifecycle jobs; worker processes run them, "run now" routes call the services directly.
  services.jobs.register('retention.purge', async () => {
    await services.retention.run();
  });
  services.jobs.schedule('retention.purge', deps.config.retentionIntervalMinutes * 60_000);
  services.jobs.register('usage.rollup', async () => {
    await services.metering.rollup();
  });
  services.jobs.schedule('usage.rollup', 60 * 60_000);

  services.jobs.register(EXPORT_JOB_KIND, (payload) => services.exports.run(payload));
  services.jobs.register(EXPORT_CLEANUP_JOB_KIND, async () => {
    await services.exports.cleanup();
    await services.exports.retryFileRemovals();
  });
  services.jobs.schedule(EXPORT_CLEANUP_JOB_KIND, EXPORT_CLEANUP_INTERVAL_MS);

  registerValidation(app);
  registerErrorHandling(app);
  registerObservability(app, metrics);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Verity API',
        version: '0.1.0',
        description: 'Audit logs, WorkOS-compatible. Authenticate with `Authorization: Bearer sk_…`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  // Documentation pages are public; everything they describe still needs a key.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, auth: false };
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await registerAuth(app, { keys, operators: services.operators, portal: services.portal, config: deps.config });
  registerCsrf(app);
  await registerRateLimit(app, deps.config.rateLimitPerMinute);
  registerIdempotency(app, idempotency);

  registerSystemRoutes(app, { db: deps.db, metrics, metricsToken: deps.config.metricsToken });
  if (deps.api ?? true) {
    registerOrganizationRoutes(app, services.organizations, systemAudit);
    registerIngestRoutes(app, services.ingest);
    registerQueryRoutes(app, { query: services.query, signal });
    registerStatsRoutes(app, deps.db);
    registerSchemaRoutes(app, schemas, systemAudit);
    registerKeyRoutes(app, keys, systemAudit);
    registerStreamRoutes(app, streams, systemAudit);
    registerDashboardRoutes(app, { operators: services.operators, systemAudit, limiter: new AddressLimiter(10, 'Too many sign-in attempts. Try again later.'), config: deps.config });
    registerPortalRoutes(app, { portal: services.portal, systemAudit, config: deps.config });
    await registerStaticUi(app, { root: deps.webRoot ?? path.join(packageRoot(), 'web', 'dist'), config: deps.config });
    registerExportRoutes(app, services.exports);
    registerRetentionRoutes(app, services.retention, systemAudit);
    registerMeteringRoutes(app, services.metering);
    registerIntegrityRoutes(app, services.integrity);
  }

  app.addHook('onClose', async () => {
    // Requests have drained; finish the commits they started before the database goes away.
    await appender.flush();
    await ginCleaner.stop();
    await dispatcher.stop();
    await services.jobs.stop();
    services.exports.close();
    await http.close();
    await signal.close();
    keys.stop();
    await keys.flushTouches();
  });
  await app.ready();
  await ginCleaner.start();
  if (deps.worker === true) {
    await dispatcher.start();
    await services.jobs.start();
  }
  return { app, services };
}
