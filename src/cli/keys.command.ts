import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/open.js';
import { isScope, KeysService, type ApiKeyView, type Scope } from '../keys/keys.service.js';
import { callApi } from './api-client.js';

interface Remote {
  url?: string;
  apiKey?: string;
}

/** The same operations, either on the database directly or through a running server's admin API. */
interface KeyStore {
  create(input: { name: string; scopes: Scope[]; organizationId: string | null }): Promise<ApiKeyView & { secret: string }>;
  list(includeRevoked: boolean): Promise<ApiKeyView[]>;
  revoke(id: string): Promise<ApiKeyView>;
}

async function withStore<T>(remote: Remote, fn: (store: KeyStore) => Promise<T>): Promise<T> {
  if (remote.url !== undefined) return fn(httpStore(remote.url, remote.apiKey ?? process.env.VERITY_API_KEY));
  const config = loadConfig();
  // A key made in a directory the server never reads (the CLI run from the wrong folder) would be lost
  // silently, and a listing there would say there are none: only an existing database is opened.
  const opened = await openDatabase(config, { pid: process.pid, role: 'cli' }, undefined, { existing: true });
  try {
    const keys = new KeysService(opened.db);
    return await fn({
      create: (input) => keys.create(input),
      list: (includeRevoked) => keys.list(includeRevoked),
      revoke: (id) => keys.revoke(id),
    });
  } finally {
    await opened.close();
  }
}

function httpStore(baseUrl: string, apiKey: string | undefined): KeyStore {
  if (apiKey === undefined) throw new Error('--url needs an admin key: pass --api-key or set VERITY_API_KEY.');
  const call = <T>(method: string, path: string, body?: unknown): Promise<T> => callApi<T>(baseUrl, apiKey, method, path, body);
  return {
    create: (input) => call('POST', '/api_keys', { name: input.name, scopes: input.scopes, organization_id: input.organizationId }),
    list: async (includeRevoked) => (await call<{ data: ApiKeyView[] }>('GET', `/api_keys?include_revoked=${includeRevoked}`)).data,
    revoke: (id) => call('DELETE', `/api_keys/${encodeURIComponent(id)}`),
  };
}

function parseScopes(value: string): Scope[] {
  const scopes = value.split(',').map((scope) => scope.trim());
  const bad = scopes.filter((scope) => !isScope(scope));
  if (bad.length > 0) throw new Error(`unknown scope(s): ${bad.join(', ')} (use events:write, events:read, admin)`);
  return scopes as Scope[];
}

function addRemoteOptions(command: Command): Command {
  return command
    .option('--url <url>', 'manage keys through a running server instead of opening the database')
    .option('--api-key <key>', 'admin key for --url (or set VERITY_API_KEY)');
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys');

  addRemoteOptions(
    keys
      .command('create')
      .description('create an API key; its secret is printed once')
      .requiredOption('--name <name>', 'what the key is for')
      .option('--scopes <scopes>', 'comma-separated: events:write, events:read, admin', 'events:write,events:read')
      .option('--organization <id>', 'restrict the key to one organization'),
  ).action(async (options: Remote & { name: string; scopes: string; organization?: string }) => {
    const created = await withStore(options, (store) =>
      store.create({ name: options.name, scopes: parseScopes(options.scopes), organizationId: options.organization ?? null }),
    );
    process.stdout.write(
      `Created ${created.id} (${created.scopes.join(', ')}${created.organization_id ? `, organization ${created.organization_id}` : ''}).\n` +
        `Secret (shown only now):\n\n  ${created.secret}\n\n`,
    );
  });

  addRemoteOptions(keys.command('list').description('list API keys').option('--all', 'include revoked keys')).action(
    async (options: Remote & { all?: boolean }) => {
      const list = await withStore(options, (store) => store.list(options.all ?? false));
      const rows = list.map((k) => [k.id, k.name, `${k.display_prefix}…`, k.scopes.join(','), k.organization_id ?? '*', k.revoked_at ? 'revoked' : 'active']);
      printTable(['ID', 'NAME', 'PREFIX', 'SCOPES', 'ORGANIZATION', 'STATE'], rows);
    },
  );

  addRemoteOptions(keys.command('revoke').description('revoke an API key').argument('<id>', 'key id (key_…)')).action(
    async (id: string, options: Remote) => {
      const { revoked, before } = await withStore(options, async (store) => {
        // Looked up first, so a key revoked earlier is reported as such rather than as revoked now.
        const found = (await store.list(true)).find((key) => key.id === id);
        return { before: found?.revoked_at ?? null, revoked: found?.revoked_at ? found : await store.revoke(id) };
      });
      process.stdout.write(
        before === null ? `Revoked ${revoked.id} (${revoked.name}).\n` : `${revoked.id} (${revoked.name}) was already revoked at ${before}; nothing changed.\n`,
      );
    },
  );
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}
