// Random policies and inventories for the export property tests: a few namespaces and workloads
// with overlapping labels, groups over every criterion kind, rules with ports, applications,
// priorities and both actions. Small on purpose, so counterexamples shrink to something readable.

import fc from 'fast-check';
import type { Criterion, Group, LabelRequirement, Mode, Policy, PortRange, Rule } from '../../src/model/policy.js';
import type { Inventory, Workload } from '../../src/model/workload.js';

const NAMESPACES = ['shop', 'data'];
const APPS = ['web', 'api', 'db'];

/** Workloads that labels tell apart within their namespace, as NetworkPolicy needs. */
export const arbitraryInventory: fc.Arbitrary<Inventory> = fc
  .uniqueArray(fc.record({ ns: fc.constantFrom(...NAMESPACES), app: fc.constantFrom(...APPS), tier: fc.option(fc.constantFrom('front', 'back'), { nil: undefined }) }), {
    minLength: 1,
    maxLength: 6,
    selector: (s) => `${s.ns}/${s.app}/${s.tier ?? ''}`,
  })
  .map((specs): Inventory => {
    const workloads = specs.map((s, i): Workload => ({
      id: `${s.ns}/w${i}`,
      name: `w${i}`,
      namespace: s.ns,
      kind: 'Pod',
      labels: s.tier === undefined ? { app: s.app } : { app: s.app, tier: s.tier },
      node: i % 2 === 0 ? 'node-a' : 'node-b',
      image: `registry.local/${s.app}:1`,
      service: s.app,
      addresses: [{ ip: `10.1.0.${i + 1}` }],
    }));
    return {
      workloads,
      namespaces: [
        { name: 'shop', labels: { team: 'store' } },
        { name: 'data', labels: { team: 'platform', pci: 'cde' } },
      ],
      nodes: [{ name: 'node-a', addresses: ['10.1.0.200'] }],
      services: [],
    };
  });

const labelReq: fc.Arbitrary<LabelRequirement> = fc.oneof(
  fc.constantFrom(...APPS).map((v) => ({ key: 'app', op: 'eq' as const, values: [v] })),
  fc.constantFrom(...APPS).map((v) => ({ key: 'app', op: 'neq' as const, values: [v] })),
  fc.constant<LabelRequirement>({ key: 'tier', op: 'exists', values: [] }),
  fc.subarray(APPS, { minLength: 1 }).map((vs) => ({ key: 'app', op: 'in' as const, values: vs })),
);

/** Criteria of the kinds every target can say something about; `extended` adds the others. */
export function arbitraryCriterion(extended: boolean): fc.Arbitrary<Criterion> {
  const basic: fc.Arbitrary<Criterion>[] = [
    labelReq.map((req) => ({ kind: 'label' as const, req })),
    fc.constantFrom(...NAMESPACES).map((name) => ({ kind: 'namespace' as const, name })),
  ];
  if (!extended) return fc.oneof(...basic);
  return fc.oneof(
    ...basic,
    fc.constant<Criterion>({ kind: 'namespaceLabel', req: { key: 'pci', op: 'eq', values: ['cde'] } }),
    fc.constantFrom(...APPS).map((name): Criterion => ({ kind: 'service', name })),
    fc.constant<Criterion>({ kind: 'image', glob: 'registry.local/db:*' }),
    fc.constant<Criterion>({ kind: 'node', name: 'node-a' }),
    fc.constantFrom('10.1.0.0/30', '192.168.0.0/16', '10.1.0.200', '8.8.8.8').map((spec): Criterion => ({ kind: 'address', spec })),
  );
}

const port: fc.Arbitrary<PortRange> = fc.oneof(
  fc.record({ proto: fc.constantFrom('tcp' as const, 'udp' as const), first: fc.integer({ min: 1, max: 12 }), span: fc.integer({ min: 0, max: 4 }) }).map((p) => ({ proto: p.proto, first: p.first * 10, last: p.first * 10 + p.span })),
  fc.constant<PortRange>({ proto: 'tcp' }),
  fc.constant<PortRange>({ proto: 'icmp', first: 8, last: 8 }),
  fc.constant<PortRange>({ proto: 'any' }),
);

export interface ArbitraryPolicyOptions {
  extended: boolean;
  deny: boolean;
  reserved: readonly string[];
  modes: boolean;
  applications: readonly string[];
}

export function arbitraryPolicy(opts: ArbitraryPolicyOptions): fc.Arbitrary<Policy> {
  const selector = fc.array(arbitraryCriterion(opts.extended), { minLength: 1, maxLength: 2 }).map((criteria) => ({ criteria }));
  const mode: fc.Arbitrary<Mode | undefined> = opts.modes ? fc.option(fc.constantFrom<Mode>('discover', 'monitor', 'protect'), { nil: undefined }) : fc.constant(undefined);
  const groups = fc.array(fc.record({ selectors: fc.array(selector, { minLength: 1, maxLength: opts.extended ? 2 : 1 }), mode }), { minLength: 1, maxLength: 4 }).map((gs) =>
    gs.map((g, i): Group => ({ name: `g${i}`, selectors: g.selectors, ...(g.mode !== undefined ? { mode: g.mode } : {}) })),
  );
  return groups.chain((gs) => {
    const names = [...gs.map((g) => g.name), ...opts.reserved];
    const rule = fc.record({
      from: fc.constantFrom(...names),
      to: fc.constantFrom(...names),
      ports: fc.array(port, { maxLength: 2 }),
      applications: opts.applications.length > 0 ? fc.subarray([...opts.applications], { maxLength: 1 }) : fc.constant([] as string[]),
      action: opts.deny ? fc.constantFrom<Rule['action']>('allow', 'deny') : fc.constant<Rule['action']>('allow'),
      priority: opts.deny ? fc.integer({ min: 0, max: 3 }) : fc.constant(0),
    });
    return fc.array(rule, { maxLength: 5 }).map((rs): Policy => ({
      groups: gs,
      rules: rs.map((r, i): Rule => ({ id: `r${i}`, from: [r.from], to: [r.to], ports: r.ports, applications: r.applications, action: r.action, priority: r.priority, source: 'user' })),
      defaultMode: 'protect',
    }));
  });
}
