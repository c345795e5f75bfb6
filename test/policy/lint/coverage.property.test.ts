import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareRules, type Group, type Policy, type PortRange, type Rule } from '../../../src/model/policy.js';
import type { Inventory, Workload } from '../../../src/model/workload.js';
import { coverOf, rulesOverlap } from '../../../src/policy/lint/coverage.js';
import { inventorySpace, membershipOf } from '../../../src/policy/lint/endpoints.js';

// A reference for coverOf: enumerate every concrete connection of a small world and find the
// first earlier rule that matches each one the rule matches.

const workload = (name: string, app: string, tier: string, ip: string): Workload => ({
  id: `shop/${name}`,
  name,
  namespace: 'shop',
  kind: 'Pod',
  labels: { app, tier },
  node: 'n1',
  image: 'img',
  service: name,
  addresses: [{ ip }],
});

const INVENTORY: Inventory = {
  workloads: [workload('w1', 'a', 'x', '10.0.0.1'), workload('w2', 'a', 'y', '10.0.0.2'), workload('w3', 'b', 'x', '10.0.0.3'), workload('w4', 'b', 'y', '10.0.0.4')],
  namespaces: [],
  nodes: [{ name: 'n1', addresses: ['10.0.1.1'] }],
  services: [],
};

const label = (key: string, value: string): Group['selectors'][number] => ({ criteria: [{ kind: 'label', req: { key, op: 'eq', values: [value] } }] });
const GROUPS: Group[] = [
  ...['any', 'workloads', 'nodes', 'external'].map((name) => ({ name, selectors: [], reserved: true })),
  { name: 'a', selectors: [label('app', 'a')] },
  { name: 'b', selectors: [label('app', 'b')] },
  { name: 'x', selectors: [label('tier', 'x')] },
  { name: 'y', selectors: [label('tier', 'y')] },
  { name: 'ax', selectors: [label('app', 'a'), label('tier', 'x')] },
];

type Ep = { kind: 'workload'; w: Workload } | { kind: 'node' } | { kind: 'external' };
const ENDPOINTS: Ep[] = [...INVENTORY.workloads.map((w) => ({ kind: 'workload' as const, w })), { kind: 'node' }, { kind: 'external' }];

function inGroup(name: string, ep: Ep): boolean {
  if (name === 'any') return true;
  if (name === 'workloads' || name === 'nodes' || name === 'external') return ep.kind === name.replace(/s$/, '');
  if (ep.kind !== 'workload') return false;
  const { app, tier } = ep.w.labels;
  return name === 'ax' ? app === 'a' || tier === 'x' : name === app || name === tier;
}

const SERVICES: { proto: string; port: number }[] = [
  // Every port a generated range can start or end at, one beyond, and the last port.
  ...[...Array.from({ length: 13 }, (_, i) => i), 65535].flatMap((port) => [{ proto: 'tcp', port }, { proto: 'udp', port }]),
  { proto: 'sctp', port: 7 },
  { proto: 'icmp', port: 8 },
  { proto: 'other', port: 0 },
];
const APPS = ['http', 'postgresql', undefined];

function portsMatch(ports: readonly PortRange[], s: { proto: string; port: number }): boolean {
  if (ports.length === 0) return true;
  return ports.some((p) => p.proto === 'any' || (p.proto === s.proto && (p.first === undefined || (p.first <= s.port && s.port <= (p.last ?? p.first)))));
}

function matches(r: Rule, c: { from: Ep; to: Ep; s: { proto: string; port: number }; app: string | undefined }): boolean {
  const appOk = r.applications.length === 0 || (c.app !== undefined && r.applications.includes(c.app));
  return r.from.some((g) => inGroup(g, c.from)) && r.to.some((g) => inGroup(g, c.to)) && portsMatch(r.ports, c.s) && appOk;
}

function reference(rule: Rule, before: readonly Rule[]): string[] | undefined {
  const takers = new Set<number>();
  let any = false;
  for (const from of ENDPOINTS)
    for (const to of ENDPOINTS)
      for (const s of SERVICES)
        for (const app of APPS) {
          const c = { from, to, s, app };
          if (!matches(rule, c)) continue;
          any = true;
          const first = before.findIndex((e) => matches(e, c));
          if (first < 0) return undefined;
          takers.add(first);
        }
  return any ? before.filter((_, i) => takers.has(i)).map((r) => r.id) : undefined;
}

const groupNames = fc.uniqueArray(fc.constantFrom(...GROUPS.map((g) => g.name)), { minLength: 1, maxLength: 2 });
const portRange: fc.Arbitrary<PortRange> = fc.oneof(
  fc.constant<PortRange>({ proto: 'any' }),
  fc.constant<PortRange>({ proto: 'udp' }),
  fc.constant<PortRange>({ proto: 'icmp' }),
  fc.tuple(fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 3 })).map(([proto, first, span]) => ({ proto, first, last: first + span })),
);
const ruleArb = fc.record({
  from: groupNames,
  to: groupNames,
  ports: fc.array(portRange, { maxLength: 2 }),
  applications: fc.uniqueArray(fc.constantFrom('http', 'postgresql'), { maxLength: 2 }),
  action: fc.constantFrom<'allow' | 'deny'>('allow', 'deny'),
  priority: fc.integer({ min: 0, max: 2 }),
});

test('coverOf names exactly the earlier rules that first match the rule\'s connections', () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 6 }), (drafts) => {
      const rules: Rule[] = drafts.map((d, i) => ({ ...d, id: `r${i}`, source: 'user' }));
      const policy: Policy = { groups: GROUPS, rules, defaultMode: 'discover' };
      const space = inventorySpace(policy, INVENTORY, membershipOf(policy, INVENTORY));
      const ordered = [...rules].sort(compareRules);
      ordered.forEach((rule, i) => {
        const before = ordered.slice(0, i);
        assert.deepEqual(coverOf(space, rule, before)?.takers.map((r) => r.id), reference(rule, before), `rule ${rule.id}`);
      });
    }),
    { numRuns: 300 },
  );
});

test('rulesOverlap holds exactly when some connection matches both rules', () => {
  fc.assert(
    fc.property(ruleArb, ruleArb, (a, b) => {
      const [ra, rb]: Rule[] = [a, b].map((d, i) => ({ ...d, id: `r${i}`, source: 'user' }));
      const policy: Policy = { groups: GROUPS, rules: [ra as Rule, rb as Rule], defaultMode: 'discover' };
      const space = inventorySpace(policy, INVENTORY, membershipOf(policy, INVENTORY));
      let both = false;
      for (const from of ENDPOINTS)
        for (const to of ENDPOINTS)
          for (const s of SERVICES)
            for (const app of APPS) if (matches(ra as Rule, { from, to, s, app }) && matches(rb as Rule, { from, to, s, app })) both = true;
      assert.equal(rulesOverlap(space, ra as Rule, rb as Rule), both);
    }),
    { numRuns: 500 },
  );
});
