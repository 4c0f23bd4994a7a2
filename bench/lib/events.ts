import type { EventInput } from '../../src/ingest/event.schema.js';

/**
 * Deterministic, realistic-looking audit events: ~50 actions, ~10k actors, ~1k targets of six types,
 * a few metadata keys (two low-cardinality, one unique per event), skewed (Zipf) popularity the way real
 * logs are: a few actors and actions dominate, most appear rarely.
 */

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples ranks 0..n-1 with probability ∝ 1/(rank+1)^s. */
function zipf(n: number, s: number): (random: () => number) => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cumulative[i] = total += 1 / (i + 1) ** s;
  return (random) => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const RESOURCES = ['user', 'document', 'project', 'team', 'api_key', 'billing', 'invoice', 'repository', 'deployment', 'secret'];
const VERBS = ['created', 'updated', 'deleted', 'viewed', 'shared'];
export const ACTIONS = RESOURCES.flatMap((resource) => VERBS.map((verb) => `${resource}.${verb}`));

export const FIRST_NAMES = [
  'Alice', 'Bruno', 'Chen', 'Dana', 'Emeka', 'Fatima', 'Goran', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lena', 'Mateo', 'Nadia',
  'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Victor', 'Wen', 'Ximena', 'Yusuf', 'Zoe', 'Aiko', 'Bashir',
  'Carmen', 'Dmitri', 'Elif', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Liam', 'Mei', 'Nico', 'Olga', 'Pablo',
  'Rania', 'Sofia', 'Tomas', 'Ulla', 'Vera', 'Wanjiru', 'Xavier', 'Yara', 'Zane', 'Anya', 'Boris', 'Celine', 'Diego',
  'Esra', 'Farid', 'Gemma', 'Haruto', 'Isla', 'Jamal', 'Karin', 'Luca', 'Maya', 'Noor', 'Oskar', 'Petra', 'Rafael',
  'Saanvi', 'Theo', 'Ugo', 'Valentina', 'Wiktor', 'Yosef', 'Zara', 'Amara', 'Bjorn', 'Clara', 'Dev', 'Emma', 'Finn',
  'Gia', 'Hamid', 'Ida', 'Joao', 'Kai', 'Leila', 'Milan', 'Nora', 'Otto', 'Paula', 'Reza', 'Sana', 'Tobias', 'Una',
  'Vikram', 'Willa', 'Yuki', 'Zeynep',
];
export const LAST_NAMES = [
  'Smith', 'Garcia', 'Nguyen', 'Okafor', 'Kowalski', 'Haddad', 'Tanaka', 'Silva', 'Muller', 'Rossi', 'Ivanova', 'Kim',
  'Patel', 'Cohen', 'Dubois', 'Jensen', 'Novak', 'Ahmed', 'Lopez', 'Schmidt', 'Wang', 'Mensah', 'Petrov', 'Andersson',
  'Yilmaz', 'Costa', 'Fischer', 'Hughes', 'Moreau', 'Singh', 'Berg', 'Castro', 'Diaz', 'Eriksen', 'Fontaine', 'Gupta',
  'Horvat', 'Ito', 'Jovanovic', 'Kaur', 'Larsen', 'Martins', 'Nakamura', 'Oliveira', 'Popescu', 'Quispe', 'Ramos',
  'Sato', 'Torres', 'Usman', 'Vargas', 'Weber', 'Xu', 'Yamamoto', 'Zhang', 'Abadi', 'Bauer', 'Chowdhury', 'Demir',
  'Esposito', 'Ferreira', 'Gomez', 'Hansen', 'Ibrahim', 'Jung', 'Keller', 'Lindqvist', 'Mazur', 'Nielsen', 'Ortiz',
  'Park', 'Richter', 'Santos', 'Takahashi', 'Ueda', 'Volkov', 'Wojcik', 'Yadav', 'Zimmermann', 'Alvarez', 'Brown',
  'Chavez', 'Dahl', 'Evans', 'Fujita', 'Greco', 'Hoang', 'Iyer', 'Jones', 'Kato', 'Lee', 'Meyer', 'Nowak', 'Olsen',
  'Pereira', 'Reyes', 'Suzuki', 'Taylor', 'Vasquez', 'Wright',
];

export const ACTOR_COUNT = 10_000;
export const TARGET_COUNT = 1_000;
export const TARGET_TYPES = ['document', 'project', 'team', 'repository', 'invoice', 'deployment'];
export const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'sa-east-1'];
export const PLANS = ['free', 'pro', 'business', 'enterprise'];
const ROLES = ['owner', 'admin', 'member', 'viewer'];
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'acme-cli/3.2.1 (linux; x64)',
  'terraform-provider-acme/1.9.0',
  'python-requests/2.31.0',
  'okhttp/4.12.0',
];

export function actorAt(n: number): { id: string; type: string; name: string; role: string } {
  return {
    id: `user_${String(n).padStart(5, '0')}`,
    // One actor in twenty is a machine (API key), the rest people.
    type: n % 20 === 19 ? 'api_key' : 'user',
    name: `${FIRST_NAMES[n % FIRST_NAMES.length]} ${LAST_NAMES[Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length]}`,
    role: ROLES[n % ROLES.length] as string,
  };
}

export function targetAt(n: number): { id: string; type: string; name: string } {
  const type = TARGET_TYPES[n % TARGET_TYPES.length] as string;
  return { id: `${type}_${String(n).padStart(4, '0')}`, type, name: `${type[0]?.toUpperCase()}${type.slice(1)} ${n}` };
}

export interface GeneratorOptions {
  seed: number;
  /** occurred_at of event i: given i, a time; default: now. */
  timeOf?: (i: number) => Date;
}

function hex8(random: () => number): string {
  return Math.floor(random() * 2 ** 32)
    .toString(16)
    .padStart(8, '0');
}

export class EventGenerator {
  private readonly random: () => number;
  private readonly action = zipf(ACTIONS.length, 1.0);
  private readonly actor = zipf(ACTOR_COUNT, 1.0);
  private readonly target = zipf(TARGET_COUNT, 0.8);
  private i = 0;

  constructor(private readonly options: GeneratorOptions) {
    this.random = prng(options.seed);
  }

  /** The next event, as an application would POST it. */
  next(): EventInput {
    const r = this.random;
    const i = this.i++;
    const actor = actorAt(this.actor(r));
    const first = targetAt(this.target(r));
    const targets = [{ id: first.id, type: first.type, name: first.name }];
    // Three events in ten also touch a second resource (e.g. a document shared with a team).
    if (r() < 0.3) {
      const second = targetAt(this.target(r));
      if (second.id !== first.id) targets.push({ id: second.id, type: second.type, name: second.name });
    }
    const ip = `${10 + Math.floor(r() * 200)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
    return {
      action: ACTIONS[this.action(r)] as string,
      occurred_at: (this.options.timeOf?.(i) ?? new Date()).toISOString(),
      actor: { id: actor.id, type: actor.type, name: actor.name, metadata: { role: actor.role } },
      targets,
      context: { location: ip, user_agent: USER_AGENTS[Math.floor(r() * USER_AGENTS.length)] },
      metadata: {
        region: REGIONS[Math.floor(r() * r() * REGIONS.length)] as string,
        plan: PLANS[Math.floor(r() * PLANS.length)] as string,
        request_id: `req_${hex8(r)}${hex8(r)}`,
      },
    };
  }
}
