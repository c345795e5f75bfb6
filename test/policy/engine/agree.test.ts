import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Connection } from '../../../src/model/connection.js';
import type { Criterion, Group, LabelRequirement, Policy, PortRange, Rule } from '../../../src/model/policy.js';
import type { AddressLease, Inventory, Workload } from '../../../src/model/workload.js';
import { canonicalIp, parseIp, type IpAddr } from '../../../src/model/address.js';
import { compile } from '../../../src/policy/compile.js';
import {
  inGroup,
  inReservedGroup,
  isIdentityCriterion,
  isReservedGroup,
  leaseEnd,
  leaseStart,
  matchesIdentity,
  selectEnv,
  type Resolver,
} from '../../../src/policy/select.js';
import { referenceDecide } from './reference.js';

// A small universe so that random policies, inventories and connections collide often: shared
// addresses, overlapping lease windows, the same address spelled several ways.
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.9', '::ffff:10.0.0.1', 'fd00::1', 'fd00:0:0::1', '8.8.8.8', 'not-an-ip'];
const TIMES = [0, 100, 200, 300];
const iso = (ms: number): string => new Date(ms).toISOString();
const NOW = 150;
const LABEL_KEYS = ['app', 'tier', 'env'];
const LABEL_VALUES = ['x', 'y', 'z'];
const GROUP_NAMES = ['g1', 'g2', 'g3', 'g4', 'any', 'workloads', 'external'];
const RULE_GROUPS = ['g1', 'g2', 'g3', 'g4', 'any', 'workloads', 'nodes', 'external', 'nosuch'];
const NAMES = ['db.example.com', 'api.example.com', 'example.com', 'evil.test'];

const labels = fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), { maxKeys: 3 });

const lease: fc.Arbitrary<AddressLease> = fc.record(
  {
    ip: fc.constantFrom(...IPS),
    since: fc.oneof(fc.constantFrom(...TIMES).map(iso), fc.constant('yesterday')),
    until: fc.constantFrom(...TIMES).map(iso),
  },
  { requiredKeys: ['ip'] },
);

const workloadArb = (i: number): fc.Arbitrary<Workload> =>
  fc.record({
    name: fc.constantFrom('api', 'db', 'web'),
    namespace: fc.constantFrom('a', 'b'),
    labels,
    node: fc.constantFrom('n1', 'n2'),
    image: fc.constantFrom('reg/api:1', 'reg/db:2', 'other/api:1'),
    service: fc.constantFrom('s1', 's2'),
    addresses: fc.array(lease, { maxLength: 3 }),
  }).map((w) => ({ id: `${w.namespace}/${w.name}-${i}`, kind: 'Pod', ...w }));

const inventoryArb: fc.Arbitrary<Inventory> = fc.record({
  workloads: fc.integer({ min: 0, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => workloadArb(i)))),
  namespaces: fc.constantFrom([], [{ name: 'a', labels: { team: 'x' } }], [{ name: 'a', labels: { team: 'x' } }, { name: 'b', labels: {} }]),
  nodes: fc.array(fc.record({ name: fc.constantFrom('n1', 'n2'), addresses: fc.array(fc.constantFrom(...IPS), { maxLength: 2 }) }), { maxLength: 2 }),
  services: fc.constant([]),
});

const requirement: fc.Arbitrary<LabelRequirement> = fc.oneof(
  fc.record({ key: fc.constantFrom(...LABEL_KEYS, 'team'), op: fc.constantFrom('eq' as const, 'neq' as const), values: fc.tuple(fc.constantFrom(...LABEL_VALUES)) }),
  fc.record({ key: fc.constantFrom(...LABEL_KEYS), op: fc.constant('exists' as const), values: fc.constant<string[]>([]) }),
  fc.record({ key: fc.constantFrom(...LABEL_KEYS), op: fc.constant('in' as const), values: fc.subarray(LABEL_VALUES, { minLength: 1 }) }),
);

const criterion: fc.Arbitrary<Criterion> = fc.oneof(
  requirement.map((req) => ({ kind: 'label' as const, req })),
  fc.constantFrom('a', 'b', 'c').map((name) => ({ kind: 'namespace' as const, name })),
  requirement.map((req) => ({ kind: 'namespaceLabel' as const, req })),
  fc.constantFrom('s1', 's2').map((name) => ({ kind: 'service' as const, name })),
  fc.constantFrom('reg/*', '*api*', 'reg/db:?', 'other/api:1').map((glob) => ({ kind: 'image' as const, glob })),
  fc.constantFrom('n1', 'n2').map((name) => ({ kind: 'node' as const, name })),
  fc
    .constantFrom('10.0.0.0/30', '10.0.0.1', '10.0.0.2-10.0.0.9', 'fd00::/64', '::ffff:10.0.0.0/120', '0.0.0.0/0', 'bad')
    .map((spec) => ({ kind: 'address' as const, spec })),
  fc.constantFrom('db.example.com', '*.example.com', 'API.Example.COM.').map((pattern) => ({ kind: 'fqdn' as const, pattern })),
);

const groupArb: fc.Arbitrary<Group> = fc.record(
  {
    name: fc.constantFrom(...GROUP_NAMES),
    selectors: fc.array(fc.record({ criteria: fc.array(criterion, { maxLength: 3 }) }), { maxLength: 2 }),
    mode: fc.constantFrom('discover' as const, 'monitor' as const, 'protect' as const),
  },
  { requiredKeys: ['name', 'selectors'] },
);

const portArb: fc.Arbitrary<PortRange> = fc.oneof(
  fc.record({ proto: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const, 'any' as const) }),
  fc
    .record({ proto: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const, 'icmpv6' as const, 'sctp' as const, 'any' as const), first: fc.integer({ min: 0, max: 8 }), span: fc.integer({ min: 0, max: 4 }) })
    .map(({ proto, first, span }) => ({ proto, first, last: first + span })),
);

const ruleArb = (i: number): fc.Arbitrary<Rule> =>
  fc.record({
    id: fc.constantFrom(`r${i}`, `r${i % 3}`),
    from: fc.subarray(RULE_GROUPS, { minLength: 1, maxLength: 2 }),
    to: fc.subarray(RULE_GROUPS, { minLength: 1, maxLength: 2 }),
    ports: fc.array(portArb, { maxLength: 2 }),
    applications: fc.oneof(fc.constant<string[]>([]), fc.subarray(['http', 'mysql', 'Any'], { minLength: 1 })),
    action: fc.constantFrom('allow' as const, 'deny' as const),
    priority: fc.integer({ min: 0, max: 3 }),
    source: fc.constant('user' as const),
    disabled: fc.boolean(),
  });

const policyArb: fc.Arbitrary<Policy> = fc.record({
  groups: fc.array(groupArb, { maxLength: 6 }),
  rules: fc.integer({ min: 0, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(i)))),
  defaultMode: fc.constantFrom('discover' as const, 'monitor' as const, 'protect' as const),
});

const connArb: fc.Arbitrary<Connection> = fc.record(
  {
    ipProto: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const, 'icmpv6' as const, 'sctp' as const, 'other' as const),
    client: fc.record({ ip: fc.constantFrom(...IPS), port: fc.integer({ min: 0, max: 9 }) }),
    server: fc.record({ ip: fc.constantFrom(...IPS), port: fc.integer({ min: 0, max: 9 }) }),
    app: fc.constantFrom('http', 'mysql', 'HTTP', 'dns', 'unknown'),
    appPending: fc.boolean(),
    at: fc.constantFrom(...TIMES, 50, 250),
  },
  { requiredKeys: ['ipProto', 'client', 'server'] },
);

const dnsArb: fc.Arbitrary<Resolver | undefined> = fc.option(
  fc.dictionary(fc.constantFrom('10.0.0.1', '10.0.0.2', 'fd00::1', '8.8.8.8', 'not-an-ip'), fc.subarray(NAMES)).map(
    (table): Resolver => ({ namesOf: (ip) => table[ip] ?? [] }),
  ),
  { nil: undefined },
);

const now = (): number => NOW;

test('compiled decisions equal the reference implementation on every verdict field', () => {
  fc.assert(
    fc.property(policyArb, inventoryArb, dnsArb, fc.array(connArb, { minLength: 1, maxLength: 12 }), (policy, inventory, dns, conns) => {
      const compiled = compile(policy, inventory, { now });
      for (const c of conns) assert.deepEqual(compiled.decide(c, dns), referenceDecide(policy, inventory, c, dns, now));
    }),
    { numRuns: 1500 },
  );
});

test('explain carries the same verdict as decide', () => {
  fc.assert(
    fc.property(policyArb, inventoryArb, dnsArb, connArb, (policy, inventory, dns, c) => {
      const compiled = compile(policy, inventory, { now });
      assert.deepEqual(compiled.explain(c, dns).verdict, compiled.decide(c, dns));
    }),
    { numRuns: 300 },
  );
});

/** groupsOfWorkload as its documentation states it, evaluated with the select.ts definitions. */
function referenceGroupsOf(policy: Policy, inventory: Inventory, w: Workload): Set<string> {
  const env = selectEnv(inventory);
  const names = new Set<string>(['any', 'workloads', ...policy.groups.map((g) => g.name)]);
  const groupNamed = (name: string): Group | undefined => policy.groups.find((g) => g.name === name);
  const leased = w.addresses.filter((l) => canonicalIp(l.ip) !== undefined && leaseStart(l) < leaseEnd(l));
  const out = new Set<string>();
  for (const name of names) {
    if (leased.length === 0) {
      const g = groupNamed(name);
      const holds = isReservedGroup(name)
        ? name === 'any' || name === 'workloads'
        : g !== undefined && g.selectors.some((s) => s.criteria.every((c) => isIdentityCriterion(c) && matchesIdentity(c, w, env)));
      if (holds) out.add(name);
      continue;
    }
    for (const l of leased) {
      const ip = canonicalIp(l.ip) as string;
      const ep = { kind: 'workload' as const, ip, addr: parseIp(ip) as IpAddr, workload: w, lease: l };
      const g = groupNamed(name);
      if (isReservedGroup(name) ? inReservedGroup(name, ep) : g !== undefined && inGroup(g, ep, env)) out.add(name);
    }
  }
  return out;
}

test('groupsOfWorkload and workloadsOfGroup follow the select.ts definitions over every leased address', () => {
  fc.assert(
    fc.property(policyArb, inventoryArb, (policy, inventory) => {
      const compiled = compile(policy, inventory);
      const firstIds = new Set<string>();
      for (const w of inventory.workloads) {
        if (firstIds.has(w.id)) continue;
        firstIds.add(w.id);
        const expected = referenceGroupsOf(policy, inventory, w);
        assert.deepEqual(new Set(compiled.groupsOfWorkload(w.id)), expected);
        for (const g of compiled.groups) assert.equal(compiled.workloadsOfGroup(g).includes(w.id), expected.has(g));
      }
    }),
    { numRuns: 500 },
  );
});
