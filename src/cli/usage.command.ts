import { pino } from 'pino';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/open.js';
import { MeteringService } from '../metering/metering.service.js';
import { isMonth, type UsageView } from '../metering/pricing.js';
import { formatUsageCsv, formatUsageTable } from '../metering/usage-format.js';
import { callApi } from './api-client.js';

interface UsageOptions {
  month?: string;
  organization?: string;
  csv?: boolean;
  url?: string;
  apiKey?: string;
}

/** Through a running server's API: the same bill the dashboard shows, priced with the server's prices. */
async function fetchUsage(baseUrl: string, apiKey: string | undefined, month: string | undefined, organizationId: string | undefined): Promise<UsageView> {
  if (apiKey === undefined) throw new Error('--url needs an admin key: pass --api-key or set VERITY_API_KEY.');
  const url = new URL('/usage', baseUrl);
  if (month !== undefined) url.searchParams.set('month', month);
  if (organizationId !== undefined) url.searchParams.set('organization_id', organizationId);
  return callApi<UsageView>(baseUrl, apiKey, 'GET', url);
}

/** On the database directly: measures today's figures first (the on-demand roll-up), then bills. */
async function computeUsage(month: string | undefined, organizationId: string | undefined): Promise<UsageView> {
  const config = loadConfig();
  const opened = await openDatabase(config, { pid: process.pid, role: 'cli usage' }, undefined, { existing: true });
  try {
    const metering = new MeteringService(opened.db, config, pino({ level: 'silent' }));
    await metering.rollup();
    return await metering.bill({ month, organization_id: organizationId });
  } finally {
    await opened.close();
  }
}

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('print the usage bill for a month (SIEM connections and events stored, priced), per organization and in total')
    .option('--month <YYYY-MM>', 'the month (UTC); the current month when omitted')
    .option('--organization <id>', 'only this organization')
    .option('--csv', 'print CSV instead of a table')
    .option('--url <url>', 'ask a running server instead of opening the database')
    .option('--api-key <key>', 'admin key for --url (or set VERITY_API_KEY)')
    .action(async (options: UsageOptions) => {
      if (options.month !== undefined && !isMonth(options.month)) throw new Error(`--month must look like 2026-11 (got "${options.month}")`);
      const usage =
        options.url !== undefined
          ? await fetchUsage(options.url, options.apiKey ?? process.env.VERITY_API_KEY, options.month, options.organization)
          : await computeUsage(options.month, options.organization);
      process.stdout.write(options.csv === true ? formatUsageCsv(usage) : formatUsageTable(usage));
    });
}
