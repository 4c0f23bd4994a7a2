import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedReceiver } from '../streams/receiver.js';
import { ADMIN, chromiumStatus, openSession, portalLink, signIn, startUi, type Ui } from './harness.js';
import { createOrganization, makeEvents, sendEvents } from './seed.js';

const status = chromiumStatus();

/**
 * The built UI in headless Chromium against the real server (its own process, PGlite in a temp dir),
 * seeded through the API. Every test saves a screenshot to test-results/browser/ and fails on console errors.
 */
// One retry: CI runs this file beside a heavy integration file on two cores, and a starved renderer once
// stalled a fill for the whole 15 s timeout (the failure hook logs what the page was doing when that happens).
describe.runIf(status.run)('web UI in a real browser', { retry: 1 }, () => {
  let ui: Ui;

  beforeAll(async () => {
    if (status.reason !== undefined) throw new Error(`VERITY_REQUIRE_CHROMIUM=1 but ${status.reason}`);
    ui = await startUi();
  }, 240_000);

  afterAll(async () => {
    await ui?.stop();
  }, 60_000);

  it('signs an operator in (refusing a wrong password), shows the overview and signs out', async () => {
    const session = await openSession(ui, 'operator-sign-in', [/status of 401.*@ .*\/dashboard\/api\/login$/]);
    const { page } = session;
    await page.goto(`${ui.url}/dashboard`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('do not match');

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('img', { name: /Events per day/ }).waitFor();
    await expect.poll(() => page.getByRole('list', { name: 'Events per organization' }).textContent()).toContain('Acme Corporation');

    // Signing out leaves for the sign-in page at once, and stays signed out across a reload.
    await page.goto(`${ui.url}/dashboard/api-keys`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await session.finish();
  });

  it('filters events by action and free text and opens one with its sequence number and hash', async () => {
    const session = await openSession(ui, 'events-filter-and-drawer');
    const { page } = session;
    await signIn(ui, page, `/dashboard/events?org=${ui.seeded.acme}`);
    const rows = page.locator('table tbody tr.clickable');
    await rows.first().waitFor();

    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByLabel('Field').selectOption('actions');
    await page.getByLabel('Action', { exact: true }).fill('document.updated');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByText('Action is document.updated').waitFor();
    await expect.poll(async () => [...new Set(await rows.locator('.pill').allTextContents())]).toEqual(['document.updated']);

    await page.getByLabel('Search events').fill('Security policy');
    await expect.poll(async () => [...new Set(await rows.locator('td:nth-child(4)').allTextContents())].every((text) => text.startsWith('Security policy'))).toBe(true);
    const count = await rows.count();
    expect(count).toBeGreaterThan(0);
    expect(page.url()).toContain('q=Security+policy');

    await rows.first().click();
    const drawer = page.getByRole('dialog', { name: 'Event details' });
    await drawer.waitFor();
    expect(await drawer.getByTestId('event-seq').textContent()).toMatch(/^#\d+$/);
    expect(await drawer.getByTestId('event-hash').textContent()).toMatch(/^[0-9a-f]{64}$/);
    await drawer.getByRole('tab', { name: 'JSON' }).click();
    expect(await drawer.locator('pre.code').textContent()).toContain('"action": "document.updated"');
    await session.finish();
  });

  it('follows an organization’s new events live', async () => {
    const session = await openSession(ui, 'events-live');
    const { page } = session;
    await signIn(ui, page, `/dashboard/events?org=${ui.seeded.initech}`);
    await page.locator('table tbody tr.clickable').first().waitFor();
    await page.getByRole('button', { name: 'Go live' }).click();
    await page.getByRole('button', { name: 'Live' }).waitFor();
    // Give the stream a moment to subscribe; events appended before that are still caught up by seq.
    await page.waitForTimeout(300);
    await ui.api.call('POST', '/audit_logs/events', {
      organization_id: ui.seeded.initech,
      event: { action: 'report.exported', occurred_at: new Date().toISOString(), actor: { id: 'user_live', type: 'user', name: 'Live Tester' }, targets: [], context: { location: '203.0.113.99' } },
    });
    const row = page.locator('table tbody tr.clickable', { hasText: 'report.exported' });
    await row.first().waitFor({ timeout: 10_000 });
    expect(await row.first().textContent()).toContain('Live Tester');

    // An event that arrives late (occurred 20 days ago) takes its place by time, not the top of the list.
    await ui.api.call('POST', '/audit_logs/events', {
      organization_id: ui.seeded.initech,
      event: { action: 'report.archived', occurred_at: new Date(Date.now() - 20 * 86_400_000).toISOString(), actor: { id: 'user_late', type: 'user', name: 'Late Sender' }, targets: [], context: { location: '203.0.113.98' } },
    });
    await page.locator('table tbody tr.clickable', { hasText: 'report.archived' }).first().waitFor({ timeout: 10_000 });
    expect(await page.locator('table tbody tr.clickable').first().textContent()).toContain('report.exported');
    const times = await page.locator('table tbody tr.clickable .time-cell').evaluateAll((cells) => cells.map((cell) => Date.parse((cell.getAttribute('title') ?? '').replace(' (UTC)', ''))));
    expect(times.every((time, index) => index === 0 || time <= (times[index - 1] ?? time))).toBe(true);
    await session.finish();
  });

  it('live view: a search matches values, not JSON keys, and a changed filter takes away live rows that no longer match', async () => {
    const session = await openSession(ui, 'events-live-refilter');
    const { page } = session;
    await signIn(ui, page, `/dashboard/events?org=${ui.seeded.globex}`);
    const rows = page.locator('table tbody tr.clickable');
    await rows.first().waitFor();
    await page.getByRole('button', { name: 'Go live' }).click();
    await page.getByRole('button', { name: 'Live' }).waitFor();
    await page.waitForTimeout(300);
    const send = (action: string, name: string) =>
      ui.api.call('POST', '/audit_logs/events', {
        organization_id: ui.seeded.globex,
        event: { action, occurred_at: new Date().toISOString(), actor: { id: `user_${name.toLowerCase()}`, type: 'user', name }, targets: [], context: { location: '203.0.113.97' } },
      });
    await send('invoice.voided', 'Refilter Tester');
    const voided = page.locator('table tbody tr.clickable', { hasText: 'invoice.voided' });
    await voided.first().waitFor({ timeout: 10_000 });

    // A filter that excludes the live row takes it away; the server's page has no such event either.
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByLabel('Field').selectOption('actions');
    await page.getByLabel('Action', { exact: true }).fill('invoice.paid');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByText('Action is invoice.paid').waitFor();
    await expect.poll(() => voided.count()).toBe(0);
    await page.getByRole('button', { name: 'Remove filter Action invoice.paid' }).click();

    // "actor" is a key of every event, not a value of this one: the live search must not match it.
    await page.getByLabel('Search events').fill('actor');
    await expect.poll(() => page.url()).toContain('q=actor');
    await send('invoice.reissued', 'Keyword Tester');
    await send('actor.renamed', 'Keyword Tester');
    await page.locator('table tbody tr.clickable', { hasText: 'actor.renamed' }).first().waitFor({ timeout: 10_000 });
    expect(await page.locator('table tbody tr.clickable', { hasText: 'invoice.reissued' }).count()).toBe(0);
    await session.finish();
  });

  it('custom time range: To typed and confirmed with Enter applies with From; a reversed range is refused in the form', async () => {
    const session = await openSession(ui, 'events-custom-range');
    const { page } = session;
    await signIn(ui, page, `/dashboard/events?org=${ui.seeded.acme}`);
    const rows = page.locator('table tbody tr.clickable');
    await rows.first().waitFor();
    await page.getByLabel('Time range').selectOption('custom');
    const range = page.getByRole('group', { name: 'Custom time range' });
    const local = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    const from = new Date(Date.now() - 3 * 86_400_000);
    const to = new Date(Date.now() - 86_400_000);
    await range.getByLabel('From').fill(local(from));
    await range.getByLabel('To').fill(local(to));
    await range.getByLabel('To').press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('to')).toBe(new Date(local(to)).toISOString());
    expect(new URL(page.url()).searchParams.get('from')).toBe(new Date(local(from)).toISOString());
    await expect
      .poll(async () => {
        const times = await rows.locator('.time-cell').evaluateAll((cells) => cells.map((cell) => Date.parse((cell.getAttribute('title') ?? '').replace(' (UTC)', ''))));
        return times.length > 0 && times.every((time) => time >= from.getTime() - 60_000 && time < to.getTime());
      })
      .toBe(true);

    // From after To: said in the form, and the applied range stays.
    await range.getByLabel('From').fill(local(new Date()));
    await range.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => range.getByRole('alert').textContent()).toBe('From must be before To.');
    expect(new URL(page.url()).searchParams.get('from')).toBe(new Date(local(from)).toISOString());
    await session.finish();
  });

  it('creates a schema version, validating the schema and a sample event as you type', async () => {
    const session = await openSession(ui, 'schema-version');
    const { page } = session;
    await signIn(ui, page, '/dashboard/schemas/document.updated');
    await page.getByRole('button', { name: 'New version' }).click();
    const editor = page.getByLabel('Schema JSON');
    const original = await editor.inputValue();

    await editor.fill('{ "targets": [ { "type": "document", "metadata": { "type": "strin" } } ] ');
    await page.getByText(/Line 1:/).waitFor();
    await editor.fill('{ "targets": [ { "type": "document", "metadata": { "type": "strin" } } ] }');
    await page.getByText('/targets/0/metadata').first().waitFor();

    const schema = JSON.parse(original) as { metadata?: { required?: string[] } };
    schema.metadata = { ...schema.metadata, required: ['fields_changed'] };
    await editor.fill(JSON.stringify(schema, null, 2));
    await page.getByText('Valid schema').waitFor();
    await expect.poll(() => page.getByTestId('sample-status').textContent()).toBe('Matches the schema');

    const sample = page.getByLabel('Sample event JSON');
    const event = JSON.parse(await sample.inputValue()) as { metadata: Record<string, unknown> };
    event.metadata = {};
    await sample.fill(JSON.stringify(event, null, 2));
    await expect.poll(() => page.getByTestId('sample-status').textContent()).toBe('Does not match');
    await page.screenshot({ path: 'test-results/browser/schema-editor.png' });

    await page.getByRole('button', { name: 'Create version 2' }).click();
    await page.getByRole('button', { name: 'v2 · latest' }).waitFor();
    const versions = await ui.api.call<{ data: { version: number; metadata?: { required?: string[] } }[] }>('GET', '/audit_logs/actions/document.updated/schemas');
    expect(versions.data.find((v) => v.version === 2)?.metadata?.required).toEqual(['fields_changed']);
    await session.finish();
  });

  it('generates an Admin Portal link for an organization and opens it', async () => {
    const session = await openSession(ui, 'portal-link');
    const { page } = session;
    await signIn(ui, page, `/dashboard/organizations/${ui.seeded.globex}`);
    await page.getByRole('button', { name: 'Generate link' }).click();
    const box = page.getByTestId('portal-link');
    await box.waitFor();
    const link = (await box.locator('code').textContent()) ?? '';
    expect(link).toMatch(/\/portal\/launch\?token=plt_/);
    await page.screenshot({ path: 'test-results/browser/portal-link-generated.png' });

    await page.goto(link);
    await page.getByRole('heading', { name: 'Audit logs' }).waitFor();
    expect(await page.getByTestId('portal-org').textContent()).toBe('Globex');
    await page.locator('table tbody tr.clickable').first().waitFor();
    await session.finish();
  });

  it('places a legal hold with a reason on an organization and lifts it, recorded in the system log', async () => {
    const session = await openSession(ui, 'legal-hold');
    const { page } = session;
    await signIn(ui, page, `/dashboard/organizations/${ui.seeded.globex}`);
    await page.getByRole('heading', { name: 'Globex', exact: true }).waitFor();
    const card = page.getByRole('region', { name: 'Legal hold' });
    await card.getByLabel('Reason').fill('Matter 2026-114');
    await card.getByRole('button', { name: 'Place legal hold' }).click();
    await card.getByText('Matter 2026-114').waitFor();
    const held = await ui.api.call<{ legal_hold: { enabled: boolean; reason: string | null } }>('GET', `/organizations/${ui.seeded.globex}`);
    expect(held.legal_hold).toMatchObject({ enabled: true, reason: 'Matter 2026-114' });
    await page.screenshot({ path: 'test-results/browser/legal-hold-on.png' });

    await card.getByRole('button', { name: 'Lift legal hold' }).click();
    await card.getByRole('button', { name: 'Place legal hold' }).waitFor();
    expect((await ui.api.call<{ legal_hold: { enabled: boolean } }>('GET', `/organizations/${ui.seeded.globex}`)).legal_hold.enabled).toBe(false);
    const system = (await ui.api.call<{ data: { id: string; system: boolean }[] }>('GET', '/organizations?include_system=true&limit=100')).data.find((org) => org.system);
    const actions = (await ui.api.call<{ data: { action: string }[] }>('GET', `/audit_logs/events?organization_id=${system?.id ?? ''}&limit=20`)).data.map((event) => event.action);
    expect(actions).toEqual(expect.arrayContaining(['organization.legal_hold_enabled', 'organization.legal_hold_disabled']));
    await session.finish();
  });

  it('deletes an organization once its name is typed, and not while it is on legal hold', async () => {
    const org = await createOrganization(ui.api, 'Doomed Widgets', 'doomed.test');
    await sendEvents(ui.api, org, makeEvents(3, 7));
    await ui.api.call('PUT', `/organizations/${org}/legal_hold`, { enabled: true, reason: 'Matter 7' });
    const session = await openSession(ui, 'delete-organization');
    const { page } = session;
    await signIn(ui, page, `/dashboard/organizations/${org}`);
    const card = page.getByRole('region', { name: 'Delete organization' });
    await card.getByText('On legal hold: lift the hold above before deleting it.').waitFor();
    expect(await card.getByRole('button', { name: 'Delete organization…' }).isDisabled()).toBe(true);

    await page.getByRole('region', { name: 'Legal hold' }).getByRole('button', { name: 'Lift legal hold' }).click();
    await card.getByRole('button', { name: 'Delete organization…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Doomed Widgets?' });
    await dialog.getByLabel('Type the organization\'s name to confirm').fill('Doomed');
    await dialog.getByRole('button', { name: 'Delete organization' }).click();
    await dialog.getByText('The name does not match.').waitFor();
    expect((await ui.api.call<{ id: string }>('GET', `/organizations/${org}`)).id).toBe(org);

    await dialog.getByLabel('Type the organization\'s name to confirm').fill('Doomed Widgets');
    await dialog.getByRole('button', { name: 'Delete organization' }).click();
    await page.waitForURL(/\/dashboard\/organizations$/);
    await expect(ui.api.call('GET', `/organizations/${org}`)).rejects.toThrow(/→ 404/);
    await session.finish();
  });

  it('portal: filters the organization’s events, opens one, and exports them as CSV', async ({ skip }) => {
    const paths = (await (await fetch(`${ui.server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    if (paths.paths['/audit_logs/exports'] === undefined) {
      console.log('Skipping the CSV export test: the server has no POST /audit_logs/exports yet.');
      skip();
    }
    const session = await openSession(ui, 'portal-events-export');
    const { page } = session;
    await page.goto(await portalLink(ui, ui.seeded.acme, 'audit_logs'));
    const rows = page.locator('table tbody tr.clickable');
    await rows.first().waitFor();
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByLabel('Field').selectOption('actions');
    await page.getByLabel('Action', { exact: true }).fill('user.signed_in');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await expect.poll(async () => [...new Set(await rows.locator('.pill').allTextContents())]).toEqual(['user.signed_in']);
    // The search text is part of what is exported (and the box holds at most the API's 200 characters).
    const search = page.getByLabel('Search events');
    expect(await search.getAttribute('maxlength')).toBe('200');
    await search.fill('Maya Chen');
    await search.press('Enter');
    await expect.poll(async () => (await rows.allTextContents()).every((text) => text.includes('Maya Chen'))).toBe(true);
    const shown = await rows.count();
    expect(shown).toBeGreaterThan(0);

    await rows.first().click();
    await page.getByRole('dialog', { name: 'Event details' }).getByTestId('event-hash').waitFor();
    await page.keyboard.press('Escape');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    // CSV is the default choice; NDJSON is offered beside it.
    await page.getByRole('dialog', { name: 'Export events' }).getByLabel(/NDJSON/).waitFor();
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    const csv = await readFile((await file.path()) ?? '', 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toMatch(/action/);
    expect(lines.length - 1).toBeGreaterThanOrEqual(shown);
    expect(lines.slice(1).every((line) => line.includes('user.signed_in') && line.includes('Maya Chen'))).toBe(true);
    await page.getByText('Your export is ready').waitFor();

    // The portal's Exports tab lists it, ready, with a download that fetches a fresh link.
    await page.getByRole('link', { name: 'View all exports' }).click();
    await page.getByRole('link', { name: 'Exports', exact: true }).and(page.locator('[aria-current="page"]')).waitFor();
    const listed = page.getByRole('table', { name: 'Exports' }).locator('tbody tr').first();
    await listed.getByText('Ready').waitFor();
    expect(await listed.textContent()).toContain('action user.signed_in');
    expect(await listed.textContent()).toContain('search “Maya Chen”');
    const again = page.waitForEvent('download');
    await listed.getByRole('button', { name: /^Download export/ }).click();
    expect((await again).suggestedFilename()).toBe('audit_logs_export.csv');
    await page.screenshot({ path: 'test-results/browser/portal-exports-tab.png' });
    await session.finish();
  });

  it('portal: a visit without a session shows the ended page under the vendor brand, without console errors', async () => {
    const session = await openSession(ui, 'portal-signed-out');
    const { page } = session;
    await page.goto(`${ui.url}/portal/`);
    await page.getByRole('heading', { name: 'This session has ended' }).waitFor();
    await page.getByText('Northwind', { exact: true }).waitFor();
    await session.finish();
  });

  it('dashboard Exports: starts an export, follows it to ready and downloads it from the list', async () => {
    const session = await openSession(ui, 'dashboard-exports');
    const { page } = session;
    await signIn(ui, page, '/dashboard/exports');
    await page.getByRole('heading', { name: 'Exports', exact: true }).waitFor();
    await page.getByRole('button', { name: 'New export' }).click();
    const dialog = page.getByRole('dialog', { name: 'New export' });
    await dialog.getByLabel('Organization').selectOption({ label: 'Initech' });
    await dialog.getByLabel('Format').selectOption('ndjson');
    // A range that ends before it starts is caught in the form, before any request.
    const from = await dialog.getByLabel('From').inputValue();
    await dialog.getByLabel('From').fill('2099-01-01T00:00');
    await dialog.getByRole('button', { name: 'Start export' }).click();
    await dialog.getByText('From must be before To.').waitFor();
    await dialog.getByLabel('From').fill(from);
    await dialog.getByRole('button', { name: 'Start export' }).click();
    const row = page.getByRole('table', { name: 'Exports' }).locator('tbody tr', { hasText: 'Initech' }).first();
    await row.getByText('Ready').waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('NDJSON');
    const download = page.waitForEvent('download');
    await row.getByRole('button', { name: /^Download export/ }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('audit_logs_export.ndjson');
    const lines = (await readFile((await file.path()) ?? '', 'utf8')).trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as { object?: string; organization_id?: string }).filter((line) => line.object === 'audit_log_event');
    // The seed's 25, plus any another test appended meanwhile: all Initech's.
    expect(events.length).toBeGreaterThanOrEqual(25);
    expect(new Set(events.map((event) => event.organization_id))).toEqual(new Set([ui.seeded.initech]));
    // Only one organization's exports when it is chosen.
    await page.getByLabel('Organization').selectOption({ label: 'Globex' });
    await expect.poll(() => page.getByRole('table', { name: 'Exports' }).locator('tbody tr', { hasText: 'Initech' }).count()).toBe(0);
    await session.finish();
  });

  it('shows the Verity system log apart from customers, never as one of them', async () => {
    const session = await openSession(ui, 'system-log');
    const { page } = session;
    await signIn(ui, page, '/dashboard/organizations');
    const table = page.getByRole('table', { name: 'Organizations' });
    await table.getByText('Acme Corporation').waitFor();
    expect(await table.textContent()).not.toContain('Verity (system)');
    const card = page.getByTestId('system-log');
    await card.getByText('Verity system log').waitFor();
    await card.getByRole('button', { name: 'View events' }).click();
    // Its events: the operator's own sign-in is there.
    await page.locator('table tbody tr', { hasText: 'operator.signed_in' }).first().waitFor();
    expect(await page.getByLabel('Organization').locator('option:checked').textContent()).toBe('Verity system log');

    await page.goto(`${ui.url}/dashboard/usage`);
    const usage = page.getByRole('table', { name: 'Usage per organization' });
    await usage.getByText('Acme Corporation').waitFor();
    expect(await usage.textContent()).not.toMatch(/system/i);
    await session.finish();
  });

  it('operator texts say what exists: operators come from VERITY_ADMIN_EMAIL, and an operator adds the system log’s stream in the dashboard', async () => {
    const receiver = await new ScriptedReceiver().start();
    try {
      const session = await openSession(ui, 'operator-adds-system-stream');
      const { page } = session;
      // No screen adds operators: the sign-in page names the setting that does.
      await page.goto(`${ui.url}/dashboard`);
      const foot = await page.locator('.auth-foot').textContent();
      expect(foot).toContain('VERITY_ADMIN_EMAIL and VERITY_ADMIN_PASSWORD');
      expect(foot).not.toContain('existing operator');

      const system = (await ui.api.call<{ data: { id: string; system: boolean }[] }>('GET', '/organizations?include_system=true&limit=100')).data.find((org) => org.system);
      if (system === undefined) throw new Error('no system organization');
      await signIn(ui, page, `/dashboard/organizations/${system.id}`);
      const card = page.locator('section', { has: page.getByRole('heading', { name: 'Log streams' }) });
      await card.getByText('Only operators can add or change these').waitFor();
      expect(await card.textContent()).not.toContain('POST /log_streams');
      // The stream an API key may not add (403): the operator adds it here.
      await card.getByRole('button', { name: 'Add log stream' }).click();
      await page.getByRole('heading', { name: 'Where should audit logs go?' }).waitFor();
      await page.getByRole('button', { name: /^HTTPS endpoint/ }).click();
      await page.getByLabel('Endpoint URL').fill(receiver.url);
      await page.getByRole('button', { name: 'Save and test connection' }).click();
      await expect.poll(() => page.getByTestId('test-result').textContent()).toContain('Connection works');
      await page.getByRole('button', { name: 'Done — view stream' }).click();
      await page.waitForURL(/\/dashboard\/log-streams\/als_/);
      const streams = await ui.api.call<{ data: { organization_id: string; type: string }[] }>('GET', `/log_streams?organization_id=${system.id}`);
      expect(streams.data.map((stream) => stream.type)).toEqual(['GenericHttps']);
      // Removed again (by the operator: a key may not), so later tests see no stream failing once the receiver closes.
      await page.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog', { name: 'Delete this log stream?' }).getByRole('button', { name: 'Delete stream' }).click();
      await page.waitForURL(/\/dashboard\/log-streams$/);
      expect((await ui.api.call<{ data: unknown[] }>('GET', `/log_streams?organization_id=${system.id}`)).data).toEqual([]);

      // A customer's organization offers the same, beside the Admin Portal.
      await page.goto(`${ui.url}/dashboard/organizations/${ui.seeded.globex}`);
      const customerCard = page.locator('section', { has: page.getByRole('heading', { name: 'Log streams' }) });
      await customerCard.getByText('Set up by the customer in the Admin Portal, by your application with POST /log_streams, or by you here.').waitFor();
      await customerCard.getByRole('button', { name: 'Add log stream' }).waitFor();
      await session.finish();
    } finally {
      await receiver.close();
    }
  });

  it('portal: sets up an HTTPS log stream, tests the connection against a loopback receiver, fixes it and manages it', async () => {
    const receiver = await new ScriptedReceiver().start();
    // The first test send is refused, as a misconfigured endpoint would.
    receiver.respond({ status: 401 });
    try {
      const session = await openSession(ui, 'portal-stream-setup');
      const { page } = session;
      await page.goto(await portalLink(ui, ui.seeded.initech, 'log_streams'));
      await page.getByRole('heading', { name: 'Where should audit logs go?' }).waitFor();
      for (const label of ['Datadog', 'Splunk', 'Amazon S3', 'Google Cloud Storage', 'Microsoft Sentinel', 'HTTPS endpoint', 'Syslog']) {
        await page.getByRole('button', { name: new RegExp(`^${label}`) }).waitFor();
      }
      await page.getByRole('button', { name: /^HTTPS endpoint/ }).click();
      await page.getByRole('heading', { name: 'Connect HTTPS endpoint' }).waitFor();

      // Field-level validation before anything is sent.
      await page.getByLabel('Endpoint URL').fill('not a url');
      await page.getByRole('button', { name: 'Save and test connection' }).click();
      await page.getByText('Enter a full URL starting with https:// (recommended) or http://').waitFor();

      await page.getByLabel('Name').fill('Security webhook');
      await page.getByLabel('Endpoint URL').fill(receiver.url);
      await page.getByRole('button', { name: 'Generate' }).click();
      // The receiver needs the secret too, and it is never shown once saved: shown in clear until then.
      const secret = page.locator('input[name="signing_secret"]');
      expect(await secret.getAttribute('type')).toBe('text');
      expect(await secret.inputValue()).toMatch(/^whsec_/);
      await page.getByText('Copy it now and give it to your receiver').waitFor();
      expect(await page.getByLabel('Events to send').inputValue()).toBe('now');
      await page.screenshot({ path: 'test-results/browser/portal-stream-generated-secret.png' });
      await page.getByRole('button', { name: 'Save and test connection' }).click();
      const result = page.getByTestId('test-result');
      await expect.poll(() => result.textContent()).toContain('refused');
      // Saved despite the failed test, and the page says so, with the destination's reason.
      expect(await result.textContent()).toContain('The stream was saved and is active, but the connection test failed.');
      expect(await result.textContent()).toContain('The destination refused the test event (HTTP 401).');
      await page.screenshot({ path: 'test-results/browser/portal-stream-test-failed.png' });

      await page.getByRole('button', { name: 'Save and test again' }).click();
      await expect.poll(() => result.textContent()).toContain('Connection works');
      expect(receiver.requests.at(-1)?.headers['webhook-signature']).toMatch(/^v1,/);
      await page.screenshot({ path: 'test-results/browser/portal-stream-tested.png' });

      await page.getByRole('button', { name: 'Done — view stream' }).click();
      await page.getByRole('heading', { name: 'Security webhook' }).waitFor();
      await page.getByRole('table', { name: 'Recent deliveries' }).getByText('delivered · test').first().waitFor();
      // Editing offers a first test until one runs; the URL hint follows the chosen body format.
      await page.getByRole('button', { name: 'Edit' }).click();
      await page.getByRole('button', { name: 'Save and test connection' }).waitFor();
      expect(await page.getByRole('button', { name: 'Save and test again' }).count()).toBe(0);
      await page.getByLabel('Body format').selectOption('ndjson');
      await page.getByText('Receives POST requests with NDJSON').waitFor();
      // (This receiver reads JSON arrays.)
      await page.getByLabel('Body format').selectOption('json');
      // A saved signing secret can be taken away: a blank field keeps it, so removal is a box of its own.
      await page.getByLabel('Remove the saved signing secret').check();
      expect(await page.locator('input[name="signing_secret"]').isDisabled()).toBe(true);
      await page.screenshot({ path: 'test-results/browser/portal-stream-remove-secret.png' });
      await page.getByRole('button', { name: 'Save and test connection' }).click();
      await expect.poll(() => result.textContent()).toContain('Connection works');
      expect(receiver.requests.at(-1)?.headers['webhook-signature']).toBeUndefined();
      const streams = await ui.api.call<{ data: { name: string; secrets_set: string[]; config: { format: string } }[] }>('GET', `/log_streams?organization_id=${ui.seeded.initech}`);
      expect(streams.data.find((stream) => stream.name === 'Security webhook')).toMatchObject({ secrets_set: [], config: { format: 'json' } });
      await page.getByRole('button', { name: 'Done — view stream' }).click();
      await page.getByRole('heading', { name: 'Security webhook' }).waitFor();
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.getByText('Paused', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Resume' }).click();
      await page.getByRole('button', { name: 'Pause' }).waitFor();

      // New events reach the receiver through the stream.
      const before = receiver.eventIds().length;
      await ui.api.call('POST', '/audit_logs/events', {
        organization_id: ui.seeded.initech,
        event: { action: 'user.signed_in', occurred_at: new Date().toISOString(), actor: { id: 'user_1', type: 'user' }, targets: [], context: { location: '203.0.113.9' } },
      });
      await expect.poll(() => receiver.eventIds().length, { timeout: 20_000 }).toBeGreaterThan(before);
      await session.finish();
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('embeddable viewer: exchanges its token and shows the events without chrome', async () => {
    const session = await openSession(ui, 'portal-embed');
    const { page } = session;
    await page.goto(await portalLink(ui, ui.seeded.globex, 'audit_logs', true));
    await page.locator('table tbody tr.clickable').first().waitFor();
    expect(page.url()).not.toContain('token=');
    expect(await page.locator('.portal-top, .sidebar').count()).toBe(0);
    await session.finish();
  });

  it('refuses another organization’s data to a portal session, in the API and in the page', async () => {
    const acmeEvent = (await ui.api.call<{ data: { id: string }[] }>('GET', `/audit_logs/events?organization_id=${ui.seeded.acme}&limit=1`)).data[0]?.id ?? '';
    const session = await openSession(ui, 'portal-isolation', [/status of (403|404)/]);
    const { page } = session;
    await page.goto(await portalLink(ui, ui.seeded.globex, 'audit_logs'));
    await page.locator('table tbody tr.clickable').first().waitFor();

    const answers = await page.evaluate(
      async ({ acme, event }) => {
        const status = async (path: string) => (await fetch(path, { credentials: 'same-origin' })).status;
        const listed = (await (await fetch(`/audit_logs/events?organization_id=${acme}`)).json()) as { data?: unknown[] };
        return {
          otherOrgSearch: await status(`/audit_logs/events?organization_id=${acme}`),
          otherOrgSearchRows: listed.data?.length ?? 0,
          otherOrgEvent: await status(`/audit_logs/events/${event}`),
          otherOrg: await status(`/organizations/${acme}`),
          wrongIntent: await status('/log_streams'),
          adminOnly: await status('/api_keys'),
        };
      },
      { acme: ui.seeded.acme, event: acmeEvent },
    );
    expect([403, 404]).toContain(answers.otherOrgSearch);
    expect(answers.otherOrgSearchRows).toBe(0);
    expect(answers.otherOrgEvent).toBe(404);
    expect([403, 404]).toContain(answers.otherOrg);
    expect(answers.wrongIntent).toBe(403);
    expect(answers.adminOnly).toBe(403);

    // Opening the other organization's event by URL shows "not found", never the event.
    await page.goto(`${ui.url}/portal/?event=${acmeEvent}`);
    await page.getByText('Event not found.').waitFor();
    expect(await page.getByRole('dialog', { name: 'Event details' }).count()).toBe(0);
    await session.finish();
  });

  it('creates an organization: shows the name limit and refused domains at the field, and wraps a long name', async () => {
    const session = await openSession(ui, 'organization-create', [/status of 422/]);
    const { page } = session;
    await signIn(ui, page, '/dashboard/organizations');
    await page.getByRole('button', { name: 'New organization' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create organization' });
    const name = dialog.getByLabel('Name');
    expect(await name.getAttribute('maxlength')).toBe('256');
    const long = 'X'.repeat(256);
    await name.fill(long);
    await dialog.getByLabel('Domains').fill('not a domain!!');
    await dialog.getByRole('button', { name: 'Create organization' }).click();
    await dialog.getByText('“domain!!” is not a domain name').waitFor();
    expect(await dialog.getByText('Validation failed').count()).toBe(0);

    await dialog.getByLabel('Domains').fill('');
    await dialog.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('heading', { name: long }).waitFor();
    // Nothing is wider than the window: the heading and the toast wrap.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    const toast = await page.locator('.toast').first().boundingBox();
    expect((toast?.x ?? 0) + (toast?.width ?? 0)).toBeLessThanOrEqual(1440);
    await session.finish();
  });

  it('keeps the sidebar full height on a long page, and fits a phone screen', async () => {
    const session = await openSession(ui, 'layout-phone', [], { viewport: { width: 390, height: 844 } });
    const { page } = session;
    await signIn(ui, page, `/dashboard/events?org=${ui.seeded.acme}`);
    await page.locator('table tbody tr.clickable').first().waitFor();
    // Time, Action and Actor stay; the rest is left out on a phone.
    const headers = await page.locator('table thead th:visible').allTextContents();
    expect(headers.map((text) => text.replace(/ \(.*\)$/, ''))).toEqual(['Time', 'Action', 'Actor']);
    // The collapsed sidebar shows all three theme buttons and the sign-out button whole.
    for (const control of [page.getByRole('button', { name: 'Dark theme' }), page.getByRole('button', { name: 'Sign out' })]) {
      const box = await control.boundingBox();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(64);
    }
    await page.screenshot({ path: 'test-results/browser/phone-events.png' });

    // The overview's hidden chart table no longer lengthens the page past the sidebar.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${ui.url}/dashboard`);
    await page.getByRole('img', { name: /Events per day/ }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollHeight - (document.querySelector('.shell')?.getBoundingClientRect().height ?? 0))).toBeLessThanOrEqual(0);
    await page.goto(`${ui.url}/dashboard/organizations/${ui.seeded.initech}`);
    await page.getByRole('table', { name: 'Log streams' }).locator('tbody tr').first().waitFor();
    await page.getByRole('table', { name: 'Log streams' }).scrollIntoViewIfNeeded();
    const streamsCard = await page.getByRole('region', { name: 'Log streams' }).evaluate((card) => {
      const wrap = card.querySelector('.table-wrap');
      return wrap === null ? 1 : wrap.scrollWidth - wrap.clientWidth;
    });
    expect(streamsCard).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/browser/org-streams-card.png' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${ui.url}/dashboard/organizations/${ui.seeded.acme}`);
    await page.getByRole('heading', { name: 'Acme Corporation' }).waitFor();
    await page.screenshot({ path: 'test-results/browser/phone-org.png' });

    // The portal header keeps the organization's name on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(await portalLink(ui, ui.seeded.acme, 'audit_logs'));
    await page.locator('table tbody tr.clickable').first().waitFor();
    expect((await page.getByTestId('portal-org').boundingBox())?.width ?? 0).toBeGreaterThan(40);
    await session.finish();
  });

  it('renders the dashboard in dark mode at laptop width', async () => {
    const session = await openSession(ui, 'dark-laptop-streams', [], { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    const { page } = session;
    await signIn(ui, page, '/dashboard/log-streams');
    await page.getByRole('heading', { name: 'Log streams', exact: true }).waitFor();
    await page.locator('table tbody tr.clickable').first().getByText('Initech').waitFor();
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(background).toBe('rgb(13, 13, 16)');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await session.finish();
  });

  it('portal: exports what a Target ID filter shows, as NDJSON, checking the custom range in the form', async () => {
    const session = await openSession(ui, 'portal-export-target-ndjson', [/status of (400|500)/], { viewport: { width: 1366, height: 768 } });
    const { page } = session;
    const sample = (await ui.api.call<{ data: { targets: { id: string }[] }[] }>('GET', `/audit_logs/events?organization_id=${ui.seeded.acme}&limit=1`)).data[0];
    const targetId = sample?.targets[0]?.id ?? '';
    expect(targetId).not.toBe('');
    await page.goto(await portalLink(ui, ui.seeded.acme, 'audit_logs'));
    await page.locator('table tbody tr.clickable').first().waitFor();
    const from = new Date(Date.now() - 60 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    await page.goto(`${ui.url}/portal/?target_id=${encodeURIComponent(targetId)}&range=custom&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    const rows = page.locator('table tbody tr.clickable');
    await rows.first().waitFor();
    const shown = await rows.count();

    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/audit_logs/exports')) posts.push(request.postData() ?? '');
    });
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Export events' });
    await dialog.getByLabel(/NDJSON/).check();
    // An inverted range is caught at the field, before any request.
    const fromInput = dialog.getByLabel('From');
    const original = await fromInput.inputValue();
    await fromInput.fill('2099-01-01T00:00');
    await dialog.getByRole('button', { name: 'Export NDJSON' }).click();
    await dialog.getByText('From must be before To.').waitFor();
    expect(posts).toHaveLength(0);
    await page.screenshot({ path: 'test-results/browser/portal-export-form.png' });
    await fromInput.fill(original);

    // The server's range refusal comes back to the form, at the field; any other failure says nothing runs.
    await page.route('**/audit_logs/exports', (route) => route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ message: 'Invalid date range', code: 'invalid_audit_log_export_range_date' }) }), { times: 1 });
    await dialog.getByRole('button', { name: 'Export NDJSON' }).click();
    await dialog.getByText('Invalid date range').waitFor();
    await page.route('**/audit_logs/exports', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ message: 'Storage unavailable', code: 'internal' }) }), { times: 1 });
    await dialog.getByRole('button', { name: 'Export NDJSON' }).click();
    const failed = page.getByRole('dialog', { name: 'Export failed' });
    await failed.getByText('Storage unavailable').waitFor();
    expect(await failed.textContent()).not.toContain('keeps running');
    expect(await failed.getByRole('link', { name: 'View all exports' }).count()).toBe(0);
    await page.screenshot({ path: 'test-results/browser/portal-export-failed.png' });
    await failed.getByRole('button', { name: 'Try again' }).click();

    const download = page.waitForEvent('download');
    await page.getByRole('dialog', { name: 'Export events' }).getByRole('button', { name: 'Export NDJSON' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('audit_logs_export.ndjson');
    const body = JSON.parse(posts.at(-1) ?? '{}') as { target_ids?: string[]; format?: string; range_start?: string };
    expect(body).toMatchObject({ target_ids: [targetId], format: 'ndjson', range_start: from });
    const events = (await readFile((await file.path()) ?? '', 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { object?: string; targets?: { id: string }[] })
      .filter((line) => line.object === 'audit_log_event');
    expect(events.length).toBe(shown);
    expect(events.every((event) => event.targets?.some((target) => target.id === targetId))).toBe(true);
    await page.getByText('Your export is ready').waitFor();

    // The Exports tab describes it with the target id, and on a phone still shows the description and Download.
    await page.getByRole('link', { name: 'View all exports' }).click();
    const listed = page.getByRole('table', { name: 'Exports' }).locator('tbody tr').first();
    await listed.getByText('Ready').waitFor();
    expect(await listed.textContent()).toContain(`target id ${targetId}`);
    expect(await listed.textContent()).toContain('NDJSON');
    await page.screenshot({ path: 'test-results/browser/portal-exports-desktop.png' });
    await page.setViewportSize({ width: 390, height: 844 });
    const description = listed.getByText(`target id ${targetId}`);
    const button = listed.getByRole('button', { name: /^Download export/ });
    for (const element of [description, button]) {
      expect(await element.isVisible()).toBe(true);
      const box = await element.boundingBox();
      expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= 390).toBe(true);
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/browser/portal-exports-phone.png' });
    await session.finish();
  });

  it('stream needing attention: Retry now resumes delivery, and a replay from after its position is refused at the field', async () => {
    const receiver = await new ScriptedReceiver().start();
    // The first delivery is refused (401): the stream becomes invalid and waits.
    receiver.respond({ status: 401 });
    try {
      const suffix = Date.now().toString(36);
      const org = await createOrganization(ui.api, `Umbrella ${suffix}`, `umbrella-${suffix}.test`);
      await sendEvents(ui.api, org, makeEvents(3, 17, 3, Date.now() - 3 * 86_400_000));
      const stream = await ui.api.call<{ id: string }>('POST', '/log_streams', { organization_id: org, type: 'GenericHttps', name: 'Umbrella webhook', config: { url: receiver.url }, start_from: 'now' });
      await ui.api.call('POST', '/audit_logs/events', {
        organization_id: org,
        event: { action: 'user.signed_in', occurred_at: new Date(Date.now() - 3_600_000).toISOString(), actor: { id: 'user_u1', type: 'user' }, targets: [], context: { location: '203.0.113.9' } },
      });
      // A second waiting event, 10 minutes old: a replay from 30 minutes ago then has events to send, but
      // they are all after the stream's position, which is what the replay below must be refused for.
      await ui.api.call('POST', '/audit_logs/events', {
        organization_id: org,
        event: { action: 'user.signed_in', occurred_at: new Date(Date.now() - 600_000).toISOString(), actor: { id: 'user_u1', type: 'user' }, targets: [], context: { location: '203.0.113.9' } },
      });
      await expect.poll(async () => (await ui.api.call<{ state: string }>('GET', `/log_streams/${stream.id}`)).state, { timeout: 20_000 }).toBe('invalid');

      const session = await openSession(ui, 'stream-invalid-retry', [/status of 422/], { viewport: { width: 1366, height: 768 } });
      const { page } = session;
      await signIn(ui, page, `/dashboard/log-streams/${stream.id}`);
      const banner = page.getByTestId('stream-failure');
      await banner.getByText('Delivery stopped').waitFor();
      expect(await banner.textContent()).not.toContain('resume the stream');
      const failedCard = page.locator('.stat', { hasText: 'Failed attempts' });
      expect(await failedCard.textContent()).not.toContain('retried automatically');
      await page.screenshot({ path: 'test-results/browser/stream-invalid.png' });

      // Replay: a time in the future is caught in the form; one after the stream's position is refused by the server, at the field.
      await page.getByRole('button', { name: 'Replay' }).click();
      const dialog = page.getByRole('dialog', { name: 'Replay events' });
      const local = (offsetMs: number) =>
        page.evaluate((offset) => {
          const date = new Date(Date.now() + offset);
          const pad = (n: number) => String(n).padStart(2, '0');
          return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
        }, offsetMs);
      await dialog.getByLabel('Replay from').fill(await local(86_400_000));
      await dialog.getByRole('button', { name: 'Replay' }).click();
      await dialog.getByText('in the future').waitFor();
      await dialog.getByLabel('Replay from').fill(await local(-30 * 60_000));
      await dialog.getByRole('button', { name: 'Replay' }).click();
      await dialog.getByText(/after the stream's position/).waitFor();
      expect(await page.getByText('Replay started').count()).toBe(0);
      await page.screenshot({ path: 'test-results/browser/stream-replay-refused.png' });
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // Retry now: the destination accepts this time, and the waiting event arrives.
      await banner.getByRole('button', { name: 'Retry now' }).click();
      await expect.poll(() => receiver.eventIds().length, { timeout: 20_000 }).toBeGreaterThan(0);
      await expect.poll(() => page.getByTestId('stream-failure').count(), { timeout: 15_000 }).toBe(0);
      await session.finish();
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('usage: a deleted organization is marked, not linked, and the Total fits a phone', async () => {
    // A name of its own on each attempt (the file retries a failed test).
    const name = `Hooli ${Date.now().toString(36)}`;
    const org = await createOrganization(ui.api, name, `${name.replace(' ', '-').toLowerCase()}.test`);
    await sendEvents(ui.api, org, makeEvents(5, 19, 2));
    await ui.api.call('DELETE', `/organizations/${org}`);
    const session = await openSession(ui, 'usage-deleted-org', [], { viewport: { width: 1366, height: 768 } });
    const { page } = session;
    await signIn(ui, page, '/dashboard/usage');
    const table = page.getByRole('table', { name: 'Usage per organization' });
    const row = table.locator('tbody tr', { hasText: name });
    await row.getByText(/^Deleted /).waitFor();
    expect(await row.getByRole('link').count()).toBe(0);
    expect(await table.getByRole('link', { name: 'Acme Corporation' }).count()).toBe(1);
    await page.screenshot({ path: 'test-results/browser/usage-desktop.png' });

    await page.setViewportSize({ width: 390, height: 844 });
    const total = table.locator('thead th', { hasText: 'Total' });
    const box = await total.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390);
    expect(await table.evaluate((element) => (element.parentElement?.scrollWidth ?? 0) - (element.parentElement?.clientWidth ?? 0))).toBeLessThanOrEqual(0);
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/browser/usage-phone.png' });
    await session.finish();
  });

  it("portal: a finished stream setup sends the admin to generate_link's success_url", async () => {
    const receiver = await new ScriptedReceiver().start();
    try {
      // The success page here is the health check, which has no favicon.
      const session = await openSession(ui, 'portal-stream-success-url', [/favicon\.ico/]);
      const { page } = session;
      const successUrl = `${ui.url}/healthz?setup=done`;
      // An organization without streams, so the portal opens on the destination picker (also on a retry).
      const organization = await ui.api.call<{ id: string }>('POST', '/organizations', { name: `Hooli ${Date.now()}` });
      const { link } = await ui.api.call<{ link: string }>('POST', '/portal/generate_link', { organization: organization.id, intent: 'log_streams', success_url: successUrl });
      await page.goto(link);
      await page.getByRole('button', { name: /^HTTPS endpoint/ }).click();
      await page.getByLabel('Endpoint URL').fill(receiver.url);
      await page.getByRole('button', { name: 'Save and test connection' }).click();
      await expect.poll(() => page.getByTestId('test-result').textContent()).toContain('Connection works');
      await page.getByRole('button', { name: /^Done — back to / }).click();
      await page.waitForURL(successUrl);
      await session.finish();
    } finally {
      await receiver.close();
    }
  });

  it('stream setup wizard: one column on a phone', async () => {
    const session = await openSession(ui, 'stream-setup-phone', [], { viewport: { width: 390, height: 844 } });
    const { page } = session;
    await page.goto(await portalLink(ui, ui.seeded.globex, 'log_streams'));
    await page.getByRole('button', { name: /^HTTPS endpoint/ }).click();
    await page.getByRole('heading', { name: 'Connect HTTPS endpoint' }).waitFor();
    const url = await page.getByLabel('Endpoint URL').boundingBox();
    expect(url?.width ?? 0).toBeGreaterThan(250);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    // The signing secret must decode to 24–64 bytes: 128 base64 characters (96 bytes) are refused in the form.
    await page.getByLabel('Endpoint URL').fill('https://example.com/hook');
    await page.getByLabel('Signing secret').fill(`whsec_${'A'.repeat(128)}`);
    await page.getByRole('button', { name: 'Save and test connection' }).click();
    await page.getByText('this one decodes to 96 bytes').waitFor();
    await page.screenshot({ path: 'test-results/browser/stream-setup-phone.png', fullPage: true });
    await session.finish();
  });

  it('API keys: Show revoked, ticked and unticked with real clicks, shows and hides a revoked key', async () => {
    const session = await openSession(ui, 'api-keys-show-revoked');
    const { page } = session;
    // A unique name, so a retry finds its own key and not the first attempt's.
    const name = `Retired key ${Date.now()}`;
    const key = await ui.api.call<{ id: string }>('POST', '/api_keys', { name, scopes: ['events:read'] });
    await ui.api.call('DELETE', `/api_keys/${encodeURIComponent(key.id)}`);
    await signIn(ui, page, '/dashboard/api-keys');
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    const revoked = page.getByRole('row').filter({ hasText: name });
    await page.getByRole('row').filter({ hasText: 'bootstrap (VERITY_BOOTSTRAP_API_KEY)' }).waitFor();
    expect(await revoked.count()).toBe(0);

    // A real (trusted) click, as the tester's: React runs the updates a click starts synchronously, which
    // turned the table's render loop into a frozen tab (the click itself then timed out).
    const showRevoked = page.getByLabel('Show revoked');
    await showRevoked.click();
    await revoked.getByText(/^Revoked /).waitFor();
    expect(await showRevoked.isChecked()).toBe(true);
    // The page still answers: unticking hides the revoked key again.
    await showRevoked.click();
    await revoked.waitFor({ state: 'detached' });
    expect(await showRevoked.isChecked()).toBe(false);
    await session.finish();
  });
});
