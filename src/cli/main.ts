import { Command, Option } from 'commander';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config/config.js';
import { DataDirLockedError } from '../db/dir-lock.js';
import { openDatabase } from '../db/open.js';
import { startServer, stopOnSignals, type Role } from '../main.js';
import { registerExportCommand } from './export.command.js';
import { registerKeysCommand } from './keys.command.js';
import { registerUsageCommand } from './usage.command.js';
import { registerVerifyCommand } from './verify.command.js';
import { packageVersion } from '../shared/package-root.js';

const program = new Command();
program
  .name('verity')
  .description('Verity: self-hosted, WorkOS-compatible audit logs')
  .version(packageVersion(), '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the API server and stream worker (configured by environment variables; see the README)')
  .addOption(new Option('--role <role>', 'which part to run; api and worker need PostgreSQL').choices(['all', 'api', 'worker']).default('all'))
  .action(async (options: { role: Role }) => {
    const config = loadConfig();
    const logger = pino({ level: config.logLevel });
    const server = await startServer(config, logger, options.role);
    stopOnSignals(server, config, logger);
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const opened = await openDatabase(loadConfig(), { pid: process.pid, role: 'cli migrate' });
    await opened.close();
    process.stdout.write(
      opened.applied.length === 0
        ? 'Nothing to apply: the database is up to date.\n'
        : `Applied ${opened.applied.length} migration${opened.applied.length === 1 ? '' : 's'} (${opened.applied.join(', ')}); the database is up to date.\n`,
    );
  });

registerKeysCommand(program);
registerExportCommand(program);
registerUsageCommand(program);
registerVerifyCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`verity: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
