/**
 * Seeds a running Verity through its public API (as a real integration would): organizations, a month of
 * varied events, a schema. Deterministic, so screenshots and assertions are stable.
 */

export interface Seeded {
  acme: string;
  globex: string;
  initech: string;
}

export class Api {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const PEOPLE = [
  { id: 'user_01HZ8K2JQ4', name: 'Maya Chen', role: 'admin' },
  { id: 'user_01HZ8K3R7T', name: 'Jonas Weber', role: 'member' },
  { id: 'user_01HZ8K4B2M', name: 'Priya Raman', role: 'member' },
  { id: 'user_01HZ8K5X9D', name: 'Diego Alvarez', role: 'owner' },
  { id: 'user_01HZ8K6N3F', name: 'Aiko Tanaka', role: 'member' },
];

const ACTIONS: { action: string; target: string; names: string[]; metadata: (r: () => number) => Record<string, string | number | boolean> }[] = [
  { action: 'user.signed_in', target: 'session', names: ['Web session'], metadata: (r) => ({ method: r() > 0.3 ? 'sso' : 'password', mfa: r() > 0.2 }) },
  { action: 'document.updated', target: 'document', names: ['Q3 roadmap', 'Security policy', 'Onboarding guide', 'Pricing sheet'], metadata: (r) => ({ fields_changed: 1 + Math.floor(r() * 5) }) },
  { action: 'document.deleted', target: 'document', names: ['Old draft', 'Meeting notes'], metadata: () => ({ permanent: false }) },
  { action: 'member.invited', target: 'user', names: ['sam@acme.test', 'lee@acme.test'], metadata: (r) => ({ role: r() > 0.5 ? 'member' : 'admin' }) },
  { action: 'api_key.created', target: 'api_key', names: ['CI deploy key', 'Reporting key'], metadata: () => ({ scopes: 'read,write' }) },
  { action: 'sso.connection.updated', target: 'sso_connection', names: ['Okta SAML'], metadata: () => ({ provider: 'okta' }) },
  { action: 'billing.plan.changed', target: 'subscription', names: ['Enterprise annual'], metadata: () => ({ plan: 'enterprise', seats: 250 }) },
];

const LOCATIONS = ['203.0.113.7', '198.51.100.23', '192.0.2.140', '203.0.113.51'];

export function makeEvents(count: number, seed: number, days = 30, now = Date.now()) {
  const random = prng(seed);
  const events = [];
  for (let i = 0; i < count; i += 1) {
    // Busier on recent days and weekdays, so the chart has a shape.
    const ageDays = Math.floor(Math.pow(random(), 1.4) * days);
    const at = new Date(now - ageDays * 86_400_000 - Math.floor(random() * 86_000_000));
    const person = PEOPLE[Math.floor(random() * PEOPLE.length)] ?? PEOPLE[0];
    const spec = ACTIONS[Math.floor(Math.pow(random(), 1.3) * ACTIONS.length)] ?? ACTIONS[0];
    if (person === undefined || spec === undefined) throw new Error('unreachable');
    const name = spec.names[Math.floor(random() * spec.names.length)] ?? 'item';
    events.push({
      action: spec.action,
      occurred_at: at.toISOString(),
      actor: { id: person.id, type: 'user', name: person.name, metadata: { role: person.role } },
      targets: [{ id: `${spec.target}_${Math.floor(random() * 9000 + 1000)}`, type: spec.target, name }],
      context: { location: LOCATIONS[Math.floor(random() * LOCATIONS.length)] ?? '203.0.113.7', user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15' },
      metadata: spec.metadata(random),
    });
  }
  return events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
}

export async function createOrganization(api: Api, name: string, domain: string): Promise<string> {
  const org = await api.call<{ id: string }>('POST', '/organizations', { name, domains: [domain] });
  return org.id;
}

export async function sendEvents(api: Api, organizationId: string, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    await api.call('POST', '/audit_logs/events/batch', { organization_id: organizationId, events: events.slice(i, i + 500) });
  }
}

export async function seed(api: Api): Promise<Seeded> {
  const acme = await createOrganization(api, 'Acme Corporation', 'acme.test');
  const globex = await createOrganization(api, 'Globex', 'globex.test');
  const initech = await createOrganization(api, 'Initech', 'initech.test');
  await sendEvents(api, acme, makeEvents(240, 7));
  await sendEvents(api, globex, makeEvents(90, 11));
  await sendEvents(api, initech, makeEvents(25, 13, 12));
  // A schema, so the Schemas page has an action with a version.
  await api.call('POST', `/audit_logs/actions/${encodeURIComponent('document.updated')}/schemas`, {
    actor: { metadata: { type: 'object', properties: { role: { type: 'string', enum: ['owner', 'admin', 'member'] } } } },
    targets: [{ type: 'document', metadata: { type: 'object', properties: { title: { type: 'string' } } } }],
    metadata: { type: 'object', properties: { fields_changed: { type: 'integer', minimum: 1 } } },
  });
  return { acme, globex, initech };
}
