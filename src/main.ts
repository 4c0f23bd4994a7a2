import { rmSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { Config } from './config/config.js';
import { checkSecretKey, ensureSecretKey } from './config/secret-key.js';
import { openDatabase } from './db/open.js';
import { SchemaWatch } from './db/schema-watch.js';
import { purgeExpired } from './idempotency/idempotency.sql.js';
import { buildApp } from './http/app.js';
import { ensureSigningKey } from './integrity/signing-key.js';
import { Metrics } from './metrics/metrics.js';

export interface RunningServer {
  url: string;
  /** Stops accepting requests, drains in-flight ones and their commits, closes the database. */
  stop(): Promise<void>;
}

const MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;

export type Role = 'all' | 'api' | 'worker';

/** config → database (migrated) → HTTP API and/or stream worker. Prints where everything is, once. */
export async function startServer(config: Config, logger: Logger = pino({ level: config.logLevel }), role: Role = 'all'): Promise<RunningServer> {
  if (role !== 'all' && config.databaseUrl === undefined) {
    throw new Error(`--role ${role} needs PostgreSQL (DATABASE_URL): the embedded database belongs to one process, which runs every role.`);
  }
  const publicUrl = config.publicUrl;
  const opened = await openDatabase(config, { pid: process.pid, role: 'server', url: publicUrl }, logger);
  const secret = ensureSecretKey(config);
  try {
    await checkSecretKey(opened.db, secret.key);
  } catch (error) {
    await opened.close();
    // A key generated just now and refused must not stay behind to be picked up by the next start.
    if (secret.generated && secret.file !== undefined) rmSync(secret.file, { force: true });
    throw error;
  }
  if (secret.generated) logger.info({ file: secret.file }, 'generated a master key for secrets at rest; back it up with the data directory');
  if (config.databaseUrl !== undefined && config.secretKey === undefined) {
    logger.warn('DATABASE_URL is set but VERITY_SECRET_KEY is not: every process must share one master key, set it explicitly');
  }

  const signing = ensureSigningKey(config);
  if (signing.generated) logger.info({ file: signing.file, keyId: signing.key.keyId }, 'generated the checkpoint signing key; back it up with the data directory');
  if (config.databaseUrl !== undefined && config.signingKey === undefined) {
    logger.warn('DATABASE_URL is set but VERITY_SIGNING_KEY is not: every process must sign checkpoints with one key, set it explicitly');
  }

  const { app, services } = await buildApp({ config, db: opened.db, secretKey: secret.key, signingKey: signing.key, api: role !== 'worker', worker: role !== 'api', logger, metrics: new Metrics() });
  let newAdminKey: string | undefined;
  if (config.bootstrapApiKey !== undefined) await services.keys.ensureBootstrapKey(config.bootstrapApiKey);
  else if (!(await services.keys.hasAnyKey())) {
    newAdminKey = (await services.keys.create({ name: 'initial admin key', scopes: ['admin'] })).secret;
  }
  // Ranges purged before ranges were signed are signed by the first server started after migration 0012.
  await services.integrity.signLegacyRanges().catch((error: unknown) => logger.warn({ err: error }, 'signing purged ranges recorded before ranges were signed failed; verification reports them as unsigned'));
  let setupToken: string | undefined;
  if (role !== 'worker') {
    // Created at start so administrative events always have their home, even before the first one.
    await services.systemAudit.organizationId();
    if (config.adminEmail !== undefined && config.adminPassword !== undefined) await services.operators.ensureAdmin(config.adminEmail, config.adminPassword);
    else setupToken = await services.operators.createSetupToken();
  }

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = config.publicUrl === `http://localhost:${config.port}` ? `http://localhost:${port}` : config.publicUrl;
  const setupLink = setupToken === undefined ? undefined : `${url}/dashboard/setup?token=${encodeURIComponent(setupToken)}`;
  printBanner(url, opened.db.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)', role, newAdminKey, setupLink);

  let stopServer: () => Promise<void> = async () => undefined;
  // A newer version migrating the database under this one (a rolling upgrade): stop, exit non-zero.
  const schemaWatch = new SchemaWatch(opened.db, logger, () => {
    // The same deadline as a signal's shutdown: a long export or delivery must not keep this old process
    // writing for minutes on a schema that is no longer its own.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    void stopServer().finally(() => process.exit(1));
  });
  schemaWatch.start();

  const maintenance = setInterval(() => {
    purgeExpired(opened.db).catch((error: unknown) => logger.warn({ err: error }, 'idempotency key purge failed'));
    services.operators.purgeExpired().catch((error: unknown) => logger.warn({ err: error }, 'operator session purge failed'));
    services.portal.purgeExpired().catch((error: unknown) => logger.warn({ err: error }, 'portal session purge failed'));
  }, MAINTENANCE_INTERVAL_MS);
  maintenance.unref();

  let stopping: Promise<void> | undefined;
  stopServer = () =>
    (stopping ??= (async () => {
      schemaWatch.stop();
      clearInterval(maintenance);
      // In-flight requests finish; keep-alive connections are closed as soon as they fall idle
      // (otherwise an idle client would hold shutdown open until its keep-alive timeout).
      const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(reaper);
      }
      await opened.close();
    })());
  return { url, stop: stopServer };
}

function printBanner(url: string, storage: string, role: Role, newAdminKey: string | undefined, setupLink: string | undefined): void {
  const lines = [
    '',
    `  Verity is running: ${url}${role === 'all' ? '' : ` (role: ${role})`}`,
    ...(role === 'worker' ? [] : [`    Dashboard  ${url}/dashboard`]),
    `    API        ${url}/  (WorkOS-compatible)`,
    `    API docs   ${url}/docs`,
    `    Storage    ${storage}`,
  ];
  if (newAdminKey !== undefined) {
    lines.push(
      '',
      '  No API key existed, so an admin key was created. It is shown only this once; store it now:',
      '',
      `    ${newAdminKey}`,
      '',
      // The secret is printed once; the example refers to it rather than repeating it.
      `  Try it:  export VERITY_KEY=${newAdminKey.slice(0, 7)}…   # the whole key above`,
      `           curl -H "Authorization: Bearer $VERITY_KEY" ${url}/organizations`,
    );
  }
  if (setupLink !== undefined) {
    lines.push(
      '',
      '  No dashboard operator exists yet. Create the first one with this one-time link (valid 24 hours),',
      '  or set VERITY_ADMIN_EMAIL and VERITY_ADMIN_PASSWORD:',
      '',
      `    ${setupLink}`,
    );
  }
  // stderr: stdout carries only JSON log lines, for log shippers.
  process.stderr.write(`${lines.join('\n')}\n\n`);
}

/** Runs until SIGINT/SIGTERM, then shuts down gracefully within the configured time. */
export function stopOnSignals(server: RunningServer, config: Config, logger: Logger): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    server.stop().then(
      () => {
        logger.info('shut down cleanly: every acknowledged request was answered and committed');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
