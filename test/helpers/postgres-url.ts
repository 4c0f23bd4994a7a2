/** Where integration tests find PostgreSQL: TEST_DATABASE_URL, or the local server's `test` database. */
export function adminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export const TEMPLATE_PREFIX = 'verity_tpl_';

/** The same server and credentials, another database. */
export function postgresUrlFor(database: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

/** Test databases cloned from a template are named after it, so a run cleans up only its own. */
export function cloneNamePrefix(template: string): string {
  return `verity_t_${template.slice(TEMPLATE_PREFIX.length)}_`;
}
