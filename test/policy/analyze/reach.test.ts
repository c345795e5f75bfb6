import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IpProto } from '../../../src/model/flow.js';
import type { Group, Mode, Policy, PortRange, Rule } from '../../../src/model/policy.js';
import type { Inventory, Workload } from '../../../src/model/workload.js';
import { compile } from '../../../src/policy/compile.js';
import { analyzeReach } from '../../../src/policy/analyze/reach.js';
import { appsContain } from '../../../src/policy/analyze/space.js';
import { loadShop } from './shop.js';

const label = (key: string, value: string): Group['selectors'][number] => ({ criteria: [{ kind: 'label', req: { key, op: 'eq', values: [value] } }] });

function workload(i: number, app: string, tier: string): Workload {
  return { id: `ns/w${i}`, name: `w${i}`, namespace: 'ns', kind: 'Pod', labels: { app, tier }, node: 'n1', image: 'img', service: app, addresses: [{ ip: `10.0.0.${i + 1}` }] };
}

const PORTS: PortRange[][] = [
  [],
  [{ proto: 'tcp', first: 80 }],
  [{ proto: 'tcp', first: 80, last: 90 }],
  [{ proto: 'udp', first: 53 }, { proto: 'tcp', first: 53 }],
  [{ proto: 'tcp' }],
  [{ proto: 'icmp', first: 8 }],
  [{ proto: 'any' }],
];
const GROUPS = ['any', 'workloads', 'external', 'ga', 'gb', 'gc', 'gx'];
const MODE = fc.constantFrom<Mode>('discover', 'monitor', 'protect');

const ruleArb = fc.record({
  from: fc.subarray(GROUPS, { minLength: 1, maxLength: 2 }),
  to: fc.subarray(GROUPS, { minLength: 1, maxLength: 2 }),
  ports: fc.constantFrom(...PORTS),
  applications: fc.constantFrom<string[]>([], ['http'], ['redis', 'http']),
  action: fc.constantFrom<Rule['action']>('allow', 'deny'),
  priority: fc.integer({ min: 0, max: 3 }),
});

const caseArb = fc.record({
  rules: fc.array(ruleArb, { maxLength: 8 }),
  modes: fc.record({ ga: fc.option(MODE), gb: fc.option(MODE), gx: fc.option(MODE) }),
  defaultMode: MODE,
  workloads: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('x', 'y')), { minLength: 2, maxLength: 5 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function build(c: Case): { policy: Policy; inventory: Inventory } {
  const group = (name: string, sel: Group['selectors'][number], mode: Mode | null | undefined): Group => (mode ? { name, selectors: [sel], mode } : { name, selectors: [sel] });
  const groups: Group[] = [
    group('ga', label('app', 'a'), c.modes.ga),
    group('gb', label('app', 'b'), c.modes.gb),
    group('gc', label('app', 'c'), undefined),
    group('gx', label('tier', 'x'), c.modes.gx),
  ];
  const rules: Rule[] = c.rules.map((r, i) => ({ ...r, id: `r${i}`, source: 'user' }));
  const workloads = c.workloads.map(([app, tier], i) => workload(i, app, tier));
  return { policy: { groups, rules, defaultMode: c.defaultMode }, inventory: { workloads, namespaces: [], nodes: [], services: [] } };
}

const PROBES: { proto: IpProto; port: number }[] = [
  { proto: 'tcp', port: 80 },
  { proto: 'tcp', port: 85 },
  { proto: 'tcp', port: 91 },
  { proto: 'tcp', port: 53 },
  { proto: 'tcp', port: 0 },
  { proto: 'udp', port: 53 },
  { proto: 'udp', port: 65535 },
  { proto: 'icmp', port: 8 },
  { proto: 'icmp', port: 0 },
  { proto: 'sctp', port: 80 },
  { proto: 'other', port: 0 },
];
const APPS = [undefined, 'http', 'redis', 'dns'];

test('reachability agrees with decide on every sampled concrete connection', () => {
  fc.assert(
    fc.property(caseArb, fc.nat(), (c, seed) => {
      const { policy, inventory } = build(c);
      const compiled = compile(policy, inventory, { now: () => 0 });
      const reach = analyzeReach(policy, inventory, compiled);
      const external = reach.endpoints.find((e) => e.id === 'external');
      assert.ok(external);
      const clients = [...reach.endpoints.filter((e) => e.kind === 'workload'), external];
      for (const client of clients) {
        for (const server of reach.endpoints.filter((e) => e.kind === 'workload' && e.id !== client.id)) {
          const probe = PROBES[(seed + client.cls + server.cls) % PROBES.length] as (typeof PROBES)[number];
          for (const app of APPS) {
            const clientIp = client.workload?.addresses[0]?.ip ?? '203.0.113.9';
            const serverIp = server.workload?.addresses[0]?.ip as string;
            const verdict = compiled.decide({ ipProto: probe.proto, client: { ip: clientIp, port: 40000 }, server: { ip: serverIp, port: probe.port }, ...(app ? { app } : {}), at: 0 });
            const seg = reach.segmentAt(client.cls, server.cls, probe.proto, probe.port, app);
            assert.ok(seg, `no segment for ${client.id} → ${server.id} ${probe.proto}/${probe.port}`);
            assert.equal(seg.rule?.id ?? 'default', verdict.ruleId, `${client.id} → ${server.id} ${probe.proto}/${probe.port} ${app}`);
            assert.equal(seg.allowed, verdict.allowed, `${client.id} → ${server.id} ${probe.proto}/${probe.port} ${app}: ${verdict.reason}`);
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('the segments of a class pair cover the whole connection space exactly once', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const { policy, inventory } = build(c);
      const reach = analyzeReach(policy, inventory, compile(policy, inventory, { now: () => 0 }));
      for (let ci = 0; ci < reach.classes.length; ci++) {
        for (let si = 0; si < reach.classes.length; si++) {
          const segs = reach.segments(ci, si);
          if (segs === undefined) continue;
          for (const probe of PROBES) {
            for (const app of APPS) {
              const holding: readonly unknown[] = segs.filter((s) => s.proto === probe.proto && s.first <= probe.port && probe.port <= s.last && appsContain(s.apps, app));
              assert.equal(holding.length, 1);
            }
          }
        }
      }
    }),
    { numRuns: 100 },
  );
});

test('a deny at higher priority carves its ports out of a later allow', () => {
  const policy: Policy = {
    groups: [{ name: 'ga', selectors: [label('app', 'a')] }, { name: 'gb', selectors: [label('app', 'b')], mode: 'protect' }],
    rules: [
      { id: 'allow-range', from: ['ga'], to: ['gb'], ports: [{ proto: 'tcp', first: 8000, last: 8100 }], applications: [], action: 'allow', priority: 0, source: 'user' },
      { id: 'deny-one', from: ['any'], to: ['gb'], ports: [{ proto: 'tcp', first: 8080 }], applications: [], action: 'deny', priority: 5, source: 'user' },
    ],
    defaultMode: 'discover',
  };
  const inventory: Inventory = { workloads: [workload(0, 'a', 'x'), workload(1, 'b', 'x')], namespaces: [], nodes: [], services: [] };
  const reach = analyzeReach(policy, inventory, compile(policy, inventory));
  const [a, b] = reach.endpoints;
  const allowed = reach.segments(a?.cls as number, b?.cls as number)?.filter((s) => s.allowed).map((s) => `${s.proto}/${s.first}-${s.last} ${s.rule?.id}`);
  assert.deepEqual(allowed, ['tcp/8000-8079 allow-range', 'tcp/8081-8100 allow-range']);
});

test('traffic no rule allows into a monitored workload is reported as allowed only because nothing is in protect', async () => {
  const { reach } = await loadShop();
  const external = reach.endpoints.find((e) => e.id === 'external');
  const api = reach.endpoints.find((e) => e.id === 'shop/api');
  assert.ok(external && api);
  const seg = reach.segmentAt(external.cls, api.cls, 'tcp', 8080, 'http');
  assert.equal(seg?.allowed, true);
  assert.equal(seg?.unenforced, true);
  assert.equal(seg?.rule, undefined);
});

test('an fqdn group gives externals known by that name a class of their own', async () => {
  const { reach } = await loadShop();
  const provider = reach.endpoints.find((e) => e.id === 'external api.stripe.example');
  assert.ok(provider);
  assert.ok(provider.groups.includes('payment-provider'));
});
