// The class-based reachability must answer exactly what evaluating every pair does. Random small
// clusters are built as typed values (not YAML) so that they reach corners manifests rarely
// do: overlapping ipBlocks, named ports missing or on the wrong protocol, namespaces the cluster
// does not list, selectors with every operator.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classify } from '../../../src/export/kubernetes/classes.js';
import type { Cluster } from '../../../src/export/kubernetes/cluster.js';
import { computeReach } from '../../../src/export/kubernetes/reach.js';
import type {
  ClusterNamespace,
  ClusterWorkload,
  ContainerPort,
  Ipv4Range,
  NetworkPolicy,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
} from '../../../src/export/kubernetes/resources.js';
import type { LabelSelector, SelectorRequirement } from '../../../src/export/kubernetes/selector.js';
import { clusterFrom, deployment, policy } from './fixtures.js';
import { referenceReach } from './reference-reach.js';

const NAMESPACES = ['a', 'b', 'c'];
/** `d` has workloads and policies but no Namespace object, so it has no labels at all. */
const WORKLOAD_NAMESPACES = [...NAMESPACES, 'd'];
const KEYS = ['app', 'tier', 'team', 'kubernetes.io/metadata.name'];
const VALUES = ['x', 'y', 'a', 'b'];
const PORT_NAMES = ['http', 'dns', 'metrics'];

const labels = fc.dictionary(fc.constantFrom('app', 'tier', 'team'), fc.constantFrom(...VALUES), { maxKeys: 3 });

const requirement: fc.Arbitrary<SelectorRequirement> = fc.oneof(
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 2 }) }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const), values: fc.constant([]) }),
);
const selector: fc.Arbitrary<LabelSelector> = fc.record({ requirements: fc.array(requirement, { maxLength: 2 }) });

const containerPort: fc.Arbitrary<ContainerPort> = fc.record(
  { name: fc.constantFrom(...PORT_NAMES), port: fc.constantFrom(53, 80, 8080), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) },
  { requiredKeys: ['port', 'protocol'] },
);

/** Ranges that nest, overlap and abut, so the address space is cut in many ways. */
const IP_RANGES: Ipv4Range[][] = [
  [{ first: 0, last: 0xffffffff }],
  [{ first: 0x0a000000, last: 0x0affffff }],
  [{ first: 0x0a010000, last: 0x0a01ffff }],
  [{ first: 0x0a000000, last: 0x0a00ffff }, { first: 0x0a020000, last: 0x0affffff }],
  [{ first: 0x0a01ff00, last: 0x0b0000ff }],
  [],
];

const peer: fc.Arbitrary<Omit<PolicyPeer, 'field'>> = fc.oneof(
  fc.record({ kind: fc.constant('pods' as const), namespaceSelector: selector, podSelector: selector }, { requiredKeys: ['kind', 'podSelector'] }),
  fc.record({ kind: fc.constant('ipBlock' as const), ranges: fc.constantFrom(...IP_RANGES) }),
);

const policyPort: fc.Arbitrary<PolicyPort> = fc.record({
  protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const),
  port: fc.oneof(
    fc.constant({ kind: 'all' as const }),
    fc.tuple(fc.constantFrom(53, 80, 8080), fc.nat(30)).map(([first, more]) => ({ kind: 'range' as const, first, last: first + more })),
    fc.constantFrom(...PORT_NAMES).map((name) => ({ kind: 'named' as const, name })),
  ),
});

const rule = fc.record(
  { peers: fc.array(peer, { minLength: 1, maxLength: 2 }), ports: fc.array(policyPort, { minLength: 1, maxLength: 2 }) },
  { requiredKeys: [] },
);

const policyShape = fc.record({
  namespace: fc.constantFrom(...WORKLOAD_NAMESPACES),
  podSelector: selector,
  restrictsIngress: fc.boolean(),
  restrictsEgress: fc.boolean(),
  ingress: fc.array(rule, { maxLength: 3 }),
  egress: fc.array(rule, { maxLength: 3 }),
});

const workloadShape = fc.record({ namespace: fc.constantFrom(...WORKLOAD_NAMESPACES), labels, ports: fc.array(containerPort, { maxLength: 3 }) });

const clusterShape = fc.record({
  namespaces: fc.subarray(NAMESPACES).chain((names) => fc.tuple(...names.map((name) => labels.map((l) => ({ name, labels: l }))))),
  workloads: fc.array(workloadShape, { maxLength: 10 }),
  policies: fc.array(policyShape, { maxLength: 5 }),
});

/** Typed values as assembleCluster would give them: field paths and refs filled in. */
function toCluster(shape: typeof clusterShape extends fc.Arbitrary<infer T> ? T : never): Cluster {
  const namespaces = new Map<string, ClusterNamespace>(
    shape.namespaces.map((ns) => [ns.name, { name: ns.name, labels: { ...ns.labels, 'kubernetes.io/metadata.name': ns.name } }]),
  );
  const workloads: ClusterWorkload[] = shape.workloads.map((w, i) => {
    const ref = { file: 'gen.yaml', kind: 'Deployment', namespace: w.namespace, name: `w${i}` };
    return { id: `${w.namespace}/w${i}[Deployment]`, namespace: w.namespace, name: `w${i}`, kind: 'Deployment', labels: w.labels, ports: w.ports, members: [{ labels: w.labels, ref }] };
  });
  const rules = (list: readonly { peers?: Omit<PolicyPeer, 'field'>[]; ports?: PolicyPort[] }[], direction: string): PolicyRule[] =>
    list.map((r, i) => ({
      field: `spec.${direction}[${i}]`,
      ...(r.peers !== undefined ? { peers: r.peers.map((p, j) => ({ ...p, field: `spec.${direction}[${i}].peers[${j}]` }) as PolicyPeer) } : {}),
      ...(r.ports !== undefined ? { ports: r.ports } : {}),
    }));
  const policies: NetworkPolicy[] = shape.policies.map((p, i) => ({
    ...p,
    ref: { file: 'gen.yaml', kind: 'NetworkPolicy', namespace: p.namespace, name: `p${i}` },
    locate: () => undefined,
    name: `p${i}`,
    ingress: rules(p.ingress, 'ingress'),
    egress: rules(p.egress, 'egress'),
  }));
  return { namespaces, workloads, policies };
}

test('per-class reachability equals evaluating every pair, on random clusters', () => {
  fc.assert(
    fc.property(clusterShape, (shape) => {
      const cluster = toCluster(shape);
      assert.deepEqual(computeReach(cluster), referenceReach(cluster));
    }),
    { numRuns: 500 },
  );
});

test('workloads differing only in labels no selector reads share one class', () => {
  const { cluster } = clusterFrom(
    deployment('a-1', { app: 'a', replica: '1' }) +
      deployment('a-2', { app: 'a', replica: '2' }) +
      deployment('b', { app: 'b' }) +
      policy('a', '  podSelector: {matchLabels: {app: a}}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: b}}'),
  );
  const names = classify(cluster).classes.map((c) => c.members.map((w) => w.name));
  assert.deepEqual(names, [['a-1', 'a-2'], ['b']]);
});

test('workloads declaring different named ports fall in different classes, unnamed ports do not matter', () => {
  const { cluster } = clusterFrom(
    deployment('a-1', { app: 'a' }, ['http:80']) + deployment('a-2', { app: 'a' }, ['http:8080']) + deployment('a-3', { app: 'a' }, ['8080']) + deployment('a-4', { app: 'a' }, ['9090']),
  );
  const names = classify(cluster).classes.map((c) => c.members.map((w) => w.name));
  assert.deepEqual(names, [['a-1'], ['a-2'], ['a-3', 'a-4']]);
});
