// Decision engine at cluster scale: 10,000 workloads, 1,000 groups, 50,000 rules. Measures
// compile time and memory, decisions per second on one core (without and with the verdict cache),
// and the reference implementation on the same policy and connections. Figures go to
// docs/BENCHMARKS.md.

import type { Connection } from '../src/model/connection.js';
import type { Group, Mode, Policy, PortRange, Rule } from '../src/model/policy.js';
import type { AddressLease, Inventory, Namespace, Node, Workload } from '../src/model/workload.js';
import { compile, type CompiledPolicy } from '../src/policy/compile.js';
import type { Resolver } from '../src/policy/select.js';
import { referenceDecide } from '../test/policy/engine/reference.js';
import { seededRandom } from './random.js';

const WORKLOADS = 10_000;
const SERVICES = 1_000;
const NAMESPACES = 50;
const NODES = 100;
const RULES = 50_000;
const DECISIONS = 3_000_000;
const REFERENCE_DECISIONS = 100;
const AT = Date.parse('2026-06-01T00:00:00Z');

// Deterministic, so every run measures the same policy.
const { next: random, int } = seededRandom(0x9e3779b9);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

const TIERS = ['web', 'api', 'db', 'cache', 'worker'];
const PORTS = [80, 443, 5432, 3306, 6379, 8080, 9090, 5672, 27017, 53];
const APPS = ['http', 'tls', 'postgresql', 'mysql', 'redis', 'dns'];
const ip4 = (a: number, b: number, c: number, d: number): string => `${a}.${b}.${c}.${d}`;

function buildInventory(): Inventory {
  const namespaces: Namespace[] = Array.from({ length: NAMESPACES }, (_, i) => ({
    name: `ns${i}`,
    labels: { team: `t${i % 10}`, env: i % 3 === 0 ? 'staging' : 'prod' },
  }));
  const nodes: Node[] = Array.from({ length: NODES }, (_, i) => ({ name: `n${i}`, addresses: [ip4(10, 250, i >> 8, i & 255)] }));
  const workloads: Workload[] = [];
  for (let i = 0; i < WORKLOADS; i++) {
    const svc = i % SERVICES;
    const ns = `ns${svc % NAMESPACES}`;
    const addresses: AddressLease[] = [{ ip: ip4(10, 1 + (i >> 16), (i >> 8) & 255, i & 255), since: '2026-05-01T00:00:00Z' }];
    // A fifth of the workloads held an address earlier that another workload holds now.
    if (i % 5 === 0) {
      const j = (i + 7) % WORKLOADS;
      addresses.push({ ip: ip4(10, 1 + (j >> 16), (j >> 8) & 255, j & 255), since: '2026-04-01T00:00:00Z', until: '2026-05-01T00:00:00Z' });
    }
    workloads.push({
      id: `${ns}/svc${svc}-${i}`,
      name: `svc${svc}-${i}`,
      namespace: ns,
      kind: 'Pod',
      labels: { app: `svc${svc}`, tier: TIERS[svc % TIERS.length] as string, version: i % 2 ? 'v1' : 'v2' },
      node: `n${i % NODES}`,
      image: `registry.local/org/svc${svc}:1.${i % 4}`,
      service: `svc${svc}`,
      addresses,
    });
  }
  return { workloads, namespaces, nodes, services: [] };
}

function buildGroups(): Group[] {
  const groups: Group[] = [];
  const mode = (): Mode | undefined => (random() < 0.3 ? pick(['discover', 'monitor', 'protect'] as const) : undefined);
  const add = (name: string, criteria: Group['selectors'][number]['criteria'][]): void => {
    const m = mode();
    groups.push(m ? { name, selectors: criteria.map((c) => ({ criteria: c })), mode: m } : { name, selectors: criteria.map((c) => ({ criteria: c })) });
  };
  for (let i = 0; i < 600; i++) add(`svc${i}`, [[{ kind: 'label', req: { key: 'app', op: 'eq', values: [`svc${i}`] } }]]);
  for (let i = 0; i < NAMESPACES; i++) add(`ns${i}`, [[{ kind: 'namespace', name: `ns${i}` }]]);
  for (let i = 0; i < 100; i++) {
    add(`ns${i % NAMESPACES}-${TIERS[i % TIERS.length]}`, [
      [
        { kind: 'namespace', name: `ns${i % NAMESPACES}` },
        { kind: 'label', req: { key: 'tier', op: 'in', values: [TIERS[i % TIERS.length] as string, 'cache'] } },
      ],
    ]);
  }
  for (let i = 0; i < 50; i++) add(`img${i}`, [[{ kind: 'image', glob: `registry.local/org/svc${i}?:*` }]]);
  for (let i = 0; i < 20; i++) add(`team${i}`, [[{ kind: 'namespaceLabel', req: { key: 'team', op: 'eq', values: [`t${i % 10}`] } }]]);
  for (let i = 0; i < 50; i++) add(`v1-${i}`, [[{ kind: 'label', req: { key: 'version', op: 'eq', values: ['v1'] } }, { kind: 'service', name: `svc${600 + i}` }]]);
  for (let i = 0; i < 100; i++) add(`net${i}`, [[{ kind: 'address', spec: i % 4 === 0 ? `203.0.${i}.10-203.0.${i}.200` : `203.0.${i}.0/24` }]]);
  for (let i = 0; i < 30; i++) add(`dns${i}`, [[{ kind: 'fqdn', pattern: `*.partner${i}.example.com` }]]);
  return groups;
}

function buildRules(groups: Group[]): Rule[] {
  const names = groups.map((g) => g.name);
  const services = names.filter((n) => n.startsWith('svc'));
  const external = names.filter((n) => n.startsWith('net') || n.startsWith('dns'));
  const rules: Rule[] = [];
  for (let i = 0; i < RULES; i++) {
    const r = random();
    const from = r < 0.02 ? 'any' : r < 0.15 ? pick(names) : pick(services);
    const to = random() < 0.1 ? pick(external) : random() < 0.15 ? pick(names) : pick(services);
    const port = pick(PORTS);
    const ports: PortRange[] =
      random() < 0.1 ? [{ proto: 'tcp', first: 8000, last: 8000 + int(0, 99) }] : random() < 0.05 ? [] : [{ proto: port === 53 ? 'udp' : 'tcp', first: port, last: port }];
    rules.push({
      id: `r${i}`,
      from: [from],
      to: [to],
      ports,
      applications: random() < 0.05 ? [pick(APPS)] : [],
      action: random() < 0.1 ? 'deny' : 'allow',
      priority: int(0, 100),
      source: random() < 0.5 ? 'learned' : 'user',
      disabled: random() < 0.02,
    });
  }
  return rules;
}

/** Mostly connections some rule is about, some between random workloads, some to the outside. */
function buildConnections(inventory: Inventory, policy: Policy, count: number): Connection[] {
  const byService = new Map<string, Workload[]>();
  for (const w of inventory.workloads) {
    const list = byService.get(w.service);
    if (list) list.push(w);
    else byService.set(w.service, [w]);
  }
  const ipOf = (w: Workload): string => (w.addresses[0] as { ip: string }).ip;
  const serviceRules = policy.rules.filter((r) => r.from[0]?.startsWith('svc') && r.to[0]?.startsWith('svc'));
  const out: Connection[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    const client = pick(inventory.workloads);
    let server: string;
    let port = pick(PORTS);
    if (r < 0.6) {
      const rule = pick(serviceRules);
      server = ipOf(pick(byService.get(rule.to[0] as string) ?? inventory.workloads));
      port = rule.ports[0]?.first ?? port;
    } else if (r < 0.9) server = ipOf(pick(inventory.workloads));
    else server = ip4(203, 0, int(0, 120), int(0, 255));
    out.push({
      ipProto: port === 53 ? 'udp' : 'tcp',
      client: { ip: ipOf(client), port: int(32768, 60999) },
      server: { ip: server, port },
      ...(random() < 0.1 ? { app: pick(APPS) } : random() < 0.02 ? { appPending: true } : {}),
      at: AT,
    });
  }
  return out;
}

const dns: Resolver = {
  namesOf: (ip) => (ip.startsWith('203.0.1') ? [`api.partner${ip.length % 30}.example.com`] : []),
};

function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

/** Wall time and this process's CPU time (the honest figure when other work shares the cores). */
function measure(run: () => void): { wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const t = performance.now();
  run();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

const inventory = buildInventory();
const groups = buildGroups();
const policy: Policy = { groups, rules: buildRules(groups), defaultMode: 'monitor' };
const connections = buildConnections(inventory, policy, 100_000);

const before = heapMiB();
const compileCpu = process.cpuUsage();
const compileStart = performance.now();
const compiled = compile(policy, inventory);
const compileCpuUsed = process.cpuUsage(compileCpu);
const compiledIn = { wallMs: performance.now() - compileStart, cpuMs: (compileCpuUsed.user + compileCpuUsed.system) / 1000 };
const memory = heapMiB() - before;
console.log(`inputs: ${WORKLOADS} workloads, ${groups.length} groups, ${policy.rules.length} rules`);
console.log(
  `compile: ${compiledIn.cpuMs.toFixed(0)} ms CPU (${compiledIn.wallMs.toFixed(0)} ms wall), retained ${memory.toFixed(0)} MiB ` +
    `(heap + array buffers), rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
);

// Warm up, then measure; the checksum keeps the work observable. The pool of 100,000
// connections does not fit in the caches (every decision starts from cold memory) and does not
// repeat within the verdict cache's reach, so it measures the whole decision; the pool of 1,000
// fits and repeats, like the busy pairs of real traffic. Each is measured without the verdict
// cache (the engine alone) and with it (as deployed).
const uncached = compile(policy, inventory, { verdictCache: 0 });
let blocked = 0;
function decideMany(engine: CompiledPolicy, pool: Connection[], count: number): void {
  for (let i = 0; i < count; i++) if (!engine.decide(pool[i % pool.length] as Connection, dns).allowed) blocked++;
}
let rate = 0;
for (const pool of [connections, connections.slice(0, 1_000)]) {
  for (const [engine, cache] of [[uncached, 'no verdict cache'], [compiled, 'verdict cache']] as const) {
    decideMany(engine, pool, 200_000);
    const decided = measure(() => decideMany(engine, pool, DECISIONS));
    const poolRate = DECISIONS / (decided.cpuMs / 1000);
    if (pool === connections && engine === uncached) rate = poolRate;
    console.log(
      `decide, pool of ${pool.length} connections, ${cache}: ${DECISIONS} decisions, ${decided.cpuMs.toFixed(0)} ms CPU ` +
        `(${decided.wallMs.toFixed(0)} ms wall) = ${(poolRate / 1e6).toFixed(2)} M/s per core (${((decided.cpuMs * 1e6) / DECISIONS).toFixed(0)} ns each)`,
    );
  }
}
console.log(`checksum: ${blocked} blocked`);

const expected = Array.from({ length: REFERENCE_DECISIONS }, () => '');
const referenced = measure(() => {
  for (let i = 0; i < REFERENCE_DECISIONS; i++) expected[i] = JSON.stringify(referenceDecide(policy, inventory, connections[i] as Connection, dns));
});
const disagreements = [uncached, compiled].reduce(
  (n, engine) => n + expected.filter((v, i) => v !== JSON.stringify(engine.decide(connections[i] as Connection, dns))).length,
  0,
);
const refRate = REFERENCE_DECISIONS / (referenced.cpuMs / 1000);
console.log(
  `reference: ${REFERENCE_DECISIONS} decisions, ${referenced.cpuMs.toFixed(0)} ms CPU = ${refRate.toFixed(1)} /s; ` +
    `compiled (100,000 connections, no verdict cache) is ${(rate / refRate).toFixed(0)}x faster; ${disagreements} disagreements`,
);
