// The kernel half of enforcement at cluster scale: a 10,000-workload, 50,000-rule policy compiled
// into the nftables table and put in force in a pal- namespace (first load and a policy change),
// then redis-benchmark and wrk (against nginx) between two lab pods through the node, with no
// table, with a table holding only the established rule (conntrack's own cost) and with
// Palisade's table, in the same run: one lab at a time, and the three side by side on the same
// cores. Needs root; figures go to docs/BENCHMARKS.md, "Enforcement".

import type { Group, Mode, Policy, Rule } from '../src/model/policy.js';
import type { Inventory, Workload } from '../src/model/workload.js';
import { compile } from '../src/policy/compile.js';
import { compileRuleset, type UdpDestination } from '../src/enforce/nft/ruleset.js';
import { applyScript, enableBridgeFiltering, listTable, removeTable } from '../src/enforce/nft/apply.js';
import { createLab, labUnavailable, type Lab } from '../test/e2e/lab-netns.js';
import { seededRandom } from './random.js';
import { startProxyHost } from '../src/enforce/proxy/host.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORKLOADS = 10_000;
const SERVICES = 1_000;
const RULES = 50_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const PORTS = [80, 443, 5432, 3306, 6379, 8080, 9090, 5672, 27017, 53];
/**
 * Three identical labs (client and server pod on a bridge in a node namespace), so that no table,
 * a table holding only the established rule and Palisade's table are each in force somewhere for
 * the whole run: rounds alternate between labs instead of loading 150,000 rules before each
 * measurement, and the labs swap roles between phases so no lab's own quirks favour one table.
 */
const LABS = [0, 1, 2].map((i) => ({ name: `enfb${i}`, hosts: { client: `10.200.${60 + i}.1`, server: `10.200.${60 + i}.2` }, prefix: 24, nodeAddress: `10.200.${60 + i}.254` }));
const PROXY_PORT = 15001;
const REDIS_PORT = 6379;
const HTTP_PORT = 8080;
/** Server and load generator pinned to different cores: the scheduler's placement was most of the noise. */
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

// Deterministic, so every run measures the same input.
let rng = seededRandom();
const random = (): number => rng.next();
const int = (lo: number, hi: number): number => rng.int(lo, hi);

function workload(name: string, app: string, ip: string): Workload {
  return { id: `bench/${name}`, name, namespace: 'bench', kind: 'Pod', labels: { app }, node: 'n1', image: `registry.local/${app}:1`, service: app, addresses: [{ ip }] };
}

/**
 * Generated workloads live in 10.200.16.0-10.200.55.255 (set elements only, no traffic); the
 * labs' pods are workloads too, so one table serves any lab, with the one rule between them last in decision order, so every new
 * connection between them walks the whole chain.
 */
function buildPolicy(variant: number, applications: string[] = []): { policy: Policy; inventory: Inventory } {
  rng = seededRandom();
  const workloads: Workload[] = [];
  for (let i = 0; i < WORKLOADS; i++) workloads.push(workload(`svc${i % SERVICES}-${i}`, `svc${i % SERVICES}`, `10.200.${16 + (i >> 8)}.${i & 255}`));
  for (const [i, lab] of LABS.entries()) workloads.push(workload(`client${i}`, 'bench-client', lab.hosts.client), workload(`server${i}`, 'bench-server', lab.hosts.server));
  const modeOf = (s: number): Mode | undefined => (s < 100 ? 'protect' : s < 300 ? 'monitor' : undefined);
  const groups: Group[] = Array.from({ length: SERVICES }, (_, s) => {
    const mode = modeOf(s);
    const g: Group = { name: `svc${s}`, selectors: [{ criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: [`svc${s}`] } }] }] };
    return mode === undefined ? g : { ...g, mode };
  });
  groups.push(
    { name: 'bench-client', selectors: [{ criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: ['bench-client'] } }] }] },
    { name: 'bench-server', selectors: [{ criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: ['bench-server'] } }] }], mode: 'protect' },
  );
  const rules: Rule[] = [];
  for (let r = 0; r < RULES - 1; r++) {
    const port = PORTS[int(0, PORTS.length - 1)] as number;
    rules.push({
      id: `r${String(r).padStart(5, '0')}`,
      from: [`svc${int(0, SERVICES - 1)}`],
      to: [`svc${int(0, SERVICES - 1)}`],
      ports: [{ proto: 'tcp', first: port, last: port + (r === variant ? 1 : 0) }],
      applications: [],
      action: random() < 0.1 ? 'deny' : 'allow',
      priority: int(1, 3),
      source: 'user',
    });
  }
  rules.push({ id: 'zz-bench', from: ['bench-client'], to: ['bench-server'], ports: [{ proto: 'tcp', first: REDIS_PORT, last: REDIS_PORT }, { proto: 'tcp', first: HTTP_PORT, last: HTTP_PORT }], applications, action: 'allow', priority: 0, source: 'user' });
  return { policy: { groups, rules, defaultMode: 'discover' }, inventory: { workloads, namespaces: [], nodes: [], services: [] } };
}

function ms(from: bigint): number {
  return Number(process.hrtime.bigint() - from) / 1e6;
}

function build(variant: number, applications: string[] = []): { text: string; compileMs: number; rulesetMs: number; stats: ReturnType<typeof compileRuleset>['stats']; policy: Policy; inventory: Inventory; udp: UdpDestination[] } {
  const { policy, inventory } = buildPolicy(variant, applications);
  let t = process.hrtime.bigint();
  const compiled = compile(policy, inventory, { now: () => NOW });
  const compileMs = ms(t);
  t = process.hrtime.bigint();
  const ruleset = compileRuleset(policy, inventory, compiled, { now: NOW, logGroup: 0, logPerSecond: 20, ...(applications.length > 0 ? { proxy: { port: PROXY_PORT } } : {}) });
  return { text: ruleset.text, compileMs, rulesetMs: ms(t), stats: ruleset.stats, policy, inventory, udp: ruleset.udpDestinations };
}

async function startRedis(lab: Lab): Promise<void> {
  const server = lab.spawn('server', 'taskset', ['-c', SERVER_CPU, 'redis-server', '--bind', lab.address('server'), '--port', String(REDIS_PORT), '--protected-mode', 'no', '--save', '', '--appendonly', 'no']);
  let said = '';
  server.stdout?.setEncoding('utf8');
  for await (const chunk of server.stdout ?? []) {
    said += String(chunk);
    if (said.includes('Ready to accept connections')) return;
  }
  throw new Error(`redis-server ended before it was ready: ${said}`);
}

/** nginx in the server pod answering every request with a short body, from a throwaway prefix. */
async function startNginx(lab: Lab, dir: string): Promise<void> {
  writeFileSync(join(dir, 'nginx.conf'), [
    'worker_processes 1;', `pid ${join(dir, 'nginx.pid')};`, `error_log ${join(dir, 'error.log')};`, 'daemon off;',
    'events { worker_connections 1024; }',
    'http {', '  access_log off;', `  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};`,
    `  server { listen ${lab.address('server')}:${HTTP_PORT}; location / { return 200 "ok\\n"; } }`, '}', '',
  ].join('\n'));
  lab.spawn('server', 'taskset', ['-c', SERVER_CPU, 'nginx', '-p', dir, '-c', join(dir, 'nginx.conf')]);
  for (let i = 0; i < 100; i++) {
    const r = await lab.run('client', 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '1', `http://${lab.address('server')}:${HTTP_PORT}/`]).catch(() => undefined);
    if (r?.stdout === '200') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('nginx did not answer in the server pod within 10 s');
}

/** Seconds of each throughput measurement; rounds per phase of each method (BENCH_ROUNDS, BENCH_SHARED_ROUNDS). */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SHARED_ROUNDS = Number(process.env.BENCH_SHARED_ROUNDS ?? 8);

/** Requests per second of wrk (one thread, 50 keep-alive connections) from the client pod. */
async function wrkRps(lab: Lab, seconds = SECONDS): Promise<number> {
  const r = await lab.run('client', 'taskset', ['-c', CLIENT_CPU, 'wrk', '-t1', '-c50', `-d${seconds}s`, `http://${lab.address('server')}:${HTTP_PORT}/`]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (m === null) throw new Error(`wrk said: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

/**
 * Requests per second of redis-benchmark GET over 50 long-lived connections for a fixed time
 * (stopped with SIGINT; its last progress line holds the overall rate, `rps=… (overall: …)`), so that runs side by side
 * end together.
 */
async function redisKeepRps(lab: Lab, seconds = SECONDS): Promise<number> {
  const r = await lab.run('client', 'timeout', ['-s', 'INT', String(seconds), 'taskset', '-c', CLIENT_CPU, 'redis-benchmark', '-h', lab.address('server'), '-p', String(REDIS_PORT), '-t', 'get', '-n', '1000000000', '-c', '50', '-k', '1', '-q']);
  const all = [...r.stdout.matchAll(/rps=[\d.]+ \(overall: ([\d.]+)\)/g)];
  if (all.length === 0) throw new Error(`redis-benchmark said: ${r.stdout} ${r.stderr}`);
  return Number((all.at(-1) as RegExpMatchArray)[1]);
}

/** Requests per second of redis-benchmark GET with a new connection per request (2,000 requests). */
async function redisFreshRps(lab: Lab): Promise<number> {
  const r = await lab.run('client', 'taskset', ['-c', CLIENT_CPU, 'redis-benchmark', '-h', lab.address('server'), '-p', String(REDIS_PORT), '-t', 'get', '-n', '2000', '-c', '50', '-k', '0', '-q']);
  const m = /GET: ([\d.]+) requests per second/.exec(r.stdout.replace(/\r/g, '\n'));
  if (m === null) throw new Error(`redis-benchmark said: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

type Table = 'none' | 'ct' | 'palisade';
type Measure = 'keep' | 'fresh' | 'http';
const TABLES: Table[] = ['none', 'ct', 'palisade'];
const MEASURES: Record<Measure, string> = {
  keep: 'redis GET, 50 long-lived connections',
  fresh: 'redis GET, a new connection per request',
  http: 'wrk HTTP GET to nginx, 50 keep-alive connections',
};
const measureOnce: Record<Measure, (lab: Lab) => Promise<number>> = { keep: (l) => redisKeepRps(l), fresh: redisFreshRps, http: (l) => wrkRps(l) };
/** Conntrack and the established rule alone: what any stateful table costs an established packet. */
const CT_ONLY = ['table inet palisade', 'delete table inet palisade', 'table inet palisade {', '  chain forward {', '    type filter hook forward priority filter; policy accept;', '    ct state established,related accept', '  }', '}', ''].join('\n');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/** 95% interval of the geometric mean of paired ratios, by a seeded bootstrap (the same ratios give the same interval). */
function interval(ratios: number[]): [number, number] {
  const r = seededRandom(0x5eed);
  const means: number[] = [];
  for (let b = 0; b < 4000; b++) {
    const pick: number[] = [];
    for (let i = 0; i < ratios.length; i++) pick.push(ratios[r.int(0, ratios.length - 1)] as number);
    means.push(geomean(pick));
  }
  means.sort((a, b) => a - b);
  return [means[Math.floor(0.025 * means.length)] as number, means[Math.floor(0.975 * means.length)] as number];
}

type Samples = Record<Table, Record<Measure, number[]>>;
const samples = (): Samples => ({ none: { keep: [], fresh: [], http: [] }, ct: { keep: [], fresh: [], http: [] }, palisade: { keep: [], fresh: [], http: [] } });

/** Each table's per-round ratio to no table: geometric mean with its interval, median, range. */
function report(title: string, values: Samples, measures: Measure[]): void {
  console.log(title);
  for (const measure of measures) {
    console.log(`  ${MEASURES[measure]}: no table ${median(values.none[measure]).toFixed(0)} req/s (median of ${values.none[measure].length})`);
    for (const table of ['ct', 'palisade'] as const) {
      const ratios = values[table][measure].map((v, i) => v / (values.none[measure][i] as number));
      const [lo, hi] = interval(ratios);
      const name = table === 'ct' ? 'established rule alone' : "Palisade's table";
      console.log(`    ${name}: ${median(values[table][measure]).toFixed(0)} req/s; ratio to no table ${geomean(ratios).toFixed(3)} (geometric mean of ${ratios.length} rounds, 95% interval ${lo.toFixed(3)} to ${hi.toFixed(3)}; median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)} to ${Math.max(...ratios).toFixed(3)})`);
    }
  }
}

/** Every order of the three labs, so each table is measured first, second and third equally often. */
const ORDERS = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]] as const;

async function main(): Promise<void> {
  const first = build(-1);
  console.log(`policy: ${WORKLOADS} workloads, ${SERVICES} groups, ${RULES} rules`);
  console.log(`compile (decision engine): ${first.compileMs.toFixed(0)} ms; ruleset text: ${first.rulesetMs.toFixed(0)} ms, ${(first.text.length / 1e6).toFixed(1)} MB`);
  console.log(`ruleset: ${first.stats.rules} rules in force, ${first.stats.nftRules} nft rules, ${first.stats.sets} sets, ${first.stats.elements} set elements`);

  const unavailable = labUnavailable();
  if (unavailable !== false) {
    console.log(`kernel figures skipped: ${unavailable}`);
    return;
  }
  const labs: Lab[] = [];
  const dirs: string[] = [];
  try {
    for (const spec of LABS) labs.push(await createLab(spec));
    const targets = labs.map((l) => ({ netns: l.node.namespace }));
    for (const t of targets) await enableBridgeFiltering(t);
    const lab0 = targets[0] as { netns: string };
    let t = process.hrtime.bigint();
    await applyScript(first.text, lab0);
    console.log(`first load (nft -f, empty namespace): ${ms(t).toFixed(0)} ms`);
    // A policy change: one rule's port range widened; compile and replace the whole table.
    t = process.hrtime.bigint();
    const changed = build(RULES / 2);
    await applyScript(changed.text, lab0);
    console.log(`policy change → new table in force (compile + ruleset + atomic replace): ${ms(t).toFixed(0)} ms`);
    const listed = await listTable(lab0);
    console.log(`table listed back: ${((listed ?? '').length / 1e6).toFixed(1)} MB`);

    for (const lab of labs) {
      await startRedis(lab);
      const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-nginx-'));
      dirs.push(dir);
      await startNginx(lab, dir);
    }
    const put = async (lab: number, table: Table): Promise<void> => {
      const target = targets[lab] as { netns: string };
      if (table === 'none') await removeTable(target);
      else await applyScript(table === 'ct' ? CT_ONLY : changed.text, target);
    };
    // Two methods, in every phase. Alone: one lab at a time, the other two idle: the throughput
    // the issue asks about, but a round's figures move by ±20% with the machine. Side by side: the
    // three labs under the same load at once, sharing the same two cores, so whatever slows the
    // machine slows all three alike and the ratio of their rates is the ratio of what a request
    // costs with each table (the scheduler gives each the same CPU time).
    const alone = samples();
    const shared = samples();
    console.log(`measuring: 3 phases (the labs swap tables), each ${ROUNDS} rounds alone and ${SHARED_ROUNDS} side by side, ${SECONDS} s a measurement`);
    for (let phase = 0; phase < 3; phase++) {
      // Lab i holds TABLES[(i + phase) % 3]; the old table goes first so a lab never holds two.
      const tableOf = (lab: number): Table => TABLES[(lab + phase) % 3] as Table;
      for (let lab = 0; lab < labs.length; lab++) if (tableOf(lab) !== 'palisade') await put(lab, tableOf(lab));
      for (let lab = 0; lab < labs.length; lab++) if (tableOf(lab) === 'palisade') await put(lab, 'palisade');
      // The kernel frees a replaced table after the commit; let that finish, then warm every path.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      for (const lab of labs) await wrkRps(lab, 1);
      for (let round = 0; round < ROUNDS; round++) {
        const order = ORDERS[(phase * ROUNDS + round) % ORDERS.length] as readonly number[];
        for (const measure of ['keep', 'fresh', 'http'] as const) {
          for (const i of order) alone[tableOf(i)][measure].push(await measureOnce[measure](labs[i] as Lab));
        }
        console.log(`phase ${phase + 1}, alone, round ${round + 1}: wrk req/s ${order.map((i) => `${tableOf(i)} ${(alone[tableOf(i)].http.at(-1) as number).toFixed(0)}`).join(', ')}`);
      }
      for (let round = 0; round < SHARED_ROUNDS; round++) {
        for (const measure of ['keep', 'http'] as const) {
          const rates = await Promise.all(labs.map((lab) => measureOnce[measure](lab)));
          rates.forEach((rate, i) => shared[tableOf(i)][measure].push(rate));
        }
        console.log(`phase ${phase + 1}, side by side, round ${round + 1}: wrk req/s ${labs.map((_, i) => `${tableOf(i)} ${(shared[tableOf(i)].http.at(-1) as number).toFixed(0)}`).join(', ')}`);
      }
    }
    report('alone (one lab at a time):', alone, ['keep', 'fresh', 'http']);
    report('side by side (three labs at once on the same cores):', shared, ['keep', 'http']);

    // The same two connections when their rule names applications: redirected to the L7 proxy,
    // identified, decided and spliced by it (Node), against no table in the same lab.
    const l7 = build(-1, ['redis', 'http']);
    const lab = labs[0] as Lab;
    const proxy = await startProxyHost({ port: PROXY_PORT, netns: lab.node.namespace, input: { policy: l7.policy, inventory: l7.inventory, udp: l7.udp }, onDecision: () => undefined, say: (m) => console.log(`proxy: ${m}`) });
    const through: Record<'none' | 'proxy', Record<Measure, number[]>> = { none: { keep: [], fresh: [], http: [] }, proxy: { keep: [], fresh: [], http: [] } };
    try {
      for (let i = 0; i < 3; i++) {
        for (const mode of ['none', 'proxy'] as const) {
          if (mode === 'none') await removeTable(lab0);
          else await applyScript(l7.text, lab0);
          for (const measure of ['keep', 'fresh', 'http'] as const) through[mode][measure].push(await measureOnce[measure](lab));
        }
      }
    } finally {
      await proxy.stop();
    }
    for (const [measure, what] of Object.entries(MEASURES) as [Measure, string][]) {
      console.log(`${what} through the L7 proxy: ${median(through.proxy[measure]).toFixed(0)} req/s, ratio to no table ${(median(through.proxy[measure]) / median(through.none[measure])).toFixed(3)} (medians of 3)`);
    }
  } finally {
    for (const lab of labs) await lab.destroy();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
