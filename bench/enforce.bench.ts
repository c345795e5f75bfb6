// The kernel half of enforcement at cluster scale: a 10,000-workload, 50,000-rule policy compiled
// into the nftables table and put in force in a pal- namespace (first load and a policy change),
// then redis-benchmark and wrk (against nginx) between two lab pods through the node with no table
// and with Palisade's table. Needs root; figures go to docs/BENCHMARKS.md, "Enforcement".

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
const LAB = { name: 'enfbench', hosts: { client: '10.200.60.1', server: '10.200.60.2' }, prefix: 24, nodeAddress: '10.200.60.254' };
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
 * Generated workloads live in 10.200.16.0-10.200.55.255 (set elements only, no traffic); the two
 * lab pods are workloads too, with the one rule between them last in decision order, so every new
 * connection between them walks the whole chain.
 */
function buildPolicy(variant: number, applications: string[] = []): { policy: Policy; inventory: Inventory } {
  rng = seededRandom();
  const workloads: Workload[] = [];
  for (let i = 0; i < WORKLOADS; i++) workloads.push(workload(`svc${i % SERVICES}-${i}`, `svc${i % SERVICES}`, `10.200.${16 + (i >> 8)}.${i & 255}`));
  workloads.push(workload('client', 'bench-client', LAB.hosts.client), workload('server', 'bench-server', LAB.hosts.server));
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
  const server = lab.spawn('server', 'taskset', ['-c', SERVER_CPU, 'redis-server', '--bind', LAB.hosts.server, '--port', String(REDIS_PORT), '--protected-mode', 'no', '--save', '', '--appendonly', 'no']);
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
    `  server { listen ${LAB.hosts.server}:${HTTP_PORT}; location / { return 200 "ok\\n"; } }`, '}', '',
  ].join('\n'));
  lab.spawn('server', 'taskset', ['-c', SERVER_CPU, 'nginx', '-p', dir, '-c', join(dir, 'nginx.conf')]);
  for (let i = 0; i < 100; i++) {
    const r = await lab.run('client', 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '1', `http://${LAB.hosts.server}:${HTTP_PORT}/`]).catch(() => undefined);
    if (r?.stdout === '200') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('nginx did not answer in the server pod within 10 s');
}

/** Requests per second of wrk (one thread, 50 keep-alive connections, 8 s) from the client pod. */
async function wrkRps(lab: Lab): Promise<number> {
  const r = await lab.run('client', 'taskset', ['-c', CLIENT_CPU, 'wrk', '-t1', '-c50', '-d8s', `http://${LAB.hosts.server}:${HTTP_PORT}/`]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (m === null) throw new Error(`wrk said: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

/** Requests per second of redis-benchmark GET from the client pod (keepalive 1: long-lived connections; 0: a connection per request). */
async function redisRps(lab: Lab, keepalive: 0 | 1, requests: number): Promise<number> {
  const r = await lab.run('client', 'taskset', ['-c', CLIENT_CPU, 'redis-benchmark', '-h', LAB.hosts.server, '-p', String(REDIS_PORT), '-t', 'get', '-n', String(requests), '-c', '50', '-k', String(keepalive), '-q']);
  const m = /GET: ([\d.]+) requests per second/.exec(r.stdout.replace(/\r/g, '\n'));
  if (m === null) throw new Error(`redis-benchmark said: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

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
  const lab = await createLab(LAB);
  try {
    const target = { netns: lab.node.namespace };
    await enableBridgeFiltering(target);
    let t = process.hrtime.bigint();
    await applyScript(first.text, target);
    console.log(`first load (nft -f, empty namespace): ${ms(t).toFixed(0)} ms`);
    // A policy change: one rule's port range widened; compile and replace the whole table.
    t = process.hrtime.bigint();
    const changed = build(RULES / 2);
    await applyScript(changed.text, target);
    console.log(`policy change → new table in force (compile + ruleset + atomic replace): ${ms(t).toFixed(0)} ms`);
    const listed = await listTable(target);
    console.log(`table listed back: ${((listed ?? '').length / 1e6).toFixed(1)} MB`);

    await startRedis(lab);
    const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-nginx-'));
    await startNginx(lab, dir);
    const rounds = 7;
    const keep: Record<'none' | 'palisade', number[]> = { none: [], palisade: [] };
    const fresh: Record<'none' | 'palisade', number[]> = { none: [], palisade: [] };
    const http: Record<'none' | 'palisade', number[]> = { none: [], palisade: [] };
    for (let i = 0; i < rounds; i++) {
      for (const mode of ['none', 'palisade'] as const) {
        if (mode === 'none') await removeTable(target);
        else await applyScript(changed.text, target);
        keep[mode].push(await redisRps(lab, 1, 400_000));
        fresh[mode].push(await redisRps(lab, 0, 2_000));
        http[mode].push(await wrkRps(lab));
      }
    }
    const line = (what: string, x: Record<'none' | 'palisade', number[]>): string =>
      `${what}: no table ${median(x.none).toFixed(0)} req/s, Palisade's table ${median(x.palisade).toFixed(0)} req/s, ratio ${(median(x.palisade) / median(x.none)).toFixed(3)} (median of ${rounds}; ratio per round ${x.palisade.map((p, i) => (p / (x.none[i] as number)).toFixed(3)).join(' ')})`;
    console.log(line('redis GET, 50 long-lived connections', keep));
    console.log(line('redis GET, a new connection per request', fresh));
    console.log(line('wrk HTTP GET to nginx, 50 keep-alive connections', http));

    // The same two connections when their rule names applications: redirected to the L7 proxy,
    // identified, decided and spliced by it (Node), against no table.
    const l7 = build(-1, ['redis', 'http']);
    const proxy = await startProxyHost({ port: PROXY_PORT, netns: lab.node.namespace, input: { policy: l7.policy, inventory: l7.inventory, udp: l7.udp }, onDecision: () => undefined, say: (m) => console.log(`proxy: ${m}`) });
    const through: Record<string, number[]> = { keep: [], fresh: [], http: [] };
    try {
      await applyScript(l7.text, target);
      for (let i = 0; i < 3; i++) {
        through.keep?.push(await redisRps(lab, 1, 200_000));
        through.fresh?.push(await redisRps(lab, 0, 2_000));
        through.http?.push(await wrkRps(lab));
      }
    } finally {
      await proxy.stop();
    }
    const viaProxy = (what: string, xs: number[], none: number[]): string =>
      `${what} through the L7 proxy: ${median(xs).toFixed(0)} req/s, ratio to no table ${(median(xs) / median(none)).toFixed(3)} (median of 3)`;
    console.log(viaProxy('redis GET, 50 long-lived connections', through.keep ?? [], keep.none));
    console.log(viaProxy('redis GET, a new connection per request', through.fresh ?? [], fresh.none));
    console.log(viaProxy('wrk HTTP GET to nginx, 50 keep-alive connections', through.http ?? [], http.none));
    await removeTable(target);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  } finally {
    await lab.destroy();
  }
}

await main();
