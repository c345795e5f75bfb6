// Analysis at cluster scale: 5,000 workloads in 500 services, 5,000 rules. Measures symbolic
// reachability (every class pair), exposure (transitive closure and ranking) and `palisade
// check`-style assertions, then the Kubernetes NetworkPolicy import (src/export/kubernetes) of a
// cluster of the same size: Deployments with a policy per service or per workload, and Pods of
// ReplicaSets (so assembling checks that an owner's pods look alike). Goal: each under 5 s.
// Figures go to docs/BENCHMARKS.md.

import type { Group, Mode, Policy, PortRange, Rule } from '../src/model/policy.js';
import type { Inventory, Namespace, Workload } from '../src/model/workload.js';
import { assembleCluster } from '../src/export/kubernetes/cluster.js';
import { readManifestText } from '../src/export/kubernetes/manifests.js';
import type { Problem } from '../src/export/kubernetes/problems.js';
import { computeReach } from '../src/export/kubernetes/reach.js';
import { compile } from '../src/policy/compile.js';
import { applicationCatalog } from '../src/policy/document/applications.js';
import { checkAssertions, parseAssertions } from '../src/policy/analyze/assertions.js';
import { analyzeExposure, DEFAULT_WEIGHTS } from '../src/policy/analyze/exposure.js';
import { analyzeReach } from '../src/policy/analyze/reach.js';
import { seededRandom } from './random.js';

const WORKLOADS = 5_000;
const SERVICES = 500;
const NAMESPACES = 50;
const RULES = 5_000;
/** The Kubernetes import also runs at these smaller sizes, to show how it grows. */
const K8S_SIZES = [500, 1_000, 2_000, WORKLOADS];

// Deterministic, so every run measures the same input.
const { int } = seededRandom();
const PORTS = [80, 443, 5432, 3306, 6379, 8080, 9090, 5672, 27017, 53];
const APPS = ['http', 'tls', 'postgresql', 'mysql', 'redis', 'dns'];
const nsOf = (svc: number): string => `ns${svc % NAMESPACES}`;

function buildInventory(): Inventory {
  const namespaces: Namespace[] = Array.from({ length: NAMESPACES }, (_, i) => ({ name: `ns${i}`, labels: { team: `t${i % 10}`, ...(i % 10 === 0 ? { pci: 'cde' } : {}) } }));
  const workloads: Workload[] = Array.from({ length: WORKLOADS }, (_, i) => {
    const svc = i % SERVICES;
    const ns = nsOf(svc);
    return {
      id: `${ns}/svc${svc}-${i}`,
      name: `svc${svc}-${i}`,
      namespace: ns,
      kind: 'Pod',
      labels: { app: `svc${svc}`, ...(svc % 25 === 0 ? { data: 'sensitive' } : {}) },
      node: `n${i % 100}`,
      image: `registry.local/svc${svc}:1`,
      service: `svc${svc}`,
      addresses: [{ ip: `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` }],
    };
  });
  return { workloads, namespaces, nodes: [], services: [] };
}

function buildPolicy(): Policy {
  const groups: Group[] = [];
  for (let s = 0; s < SERVICES; s++) groups.push({ name: `svc${s}`, selectors: [{ criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: [`svc${s}`] } }] }] });
  const modes: Mode[] = ['protect', 'monitor', 'discover'];
  for (let n = 0; n < NAMESPACES; n++) groups.push({ name: `ns${n}`, selectors: [{ criteria: [{ kind: 'namespace', name: `ns${n}` }] }], mode: modes[n % 3] as Mode });
  const rules: Rule[] = [];
  for (let r = 0; r < RULES; r++) {
    // Mostly service to service; some namespace-wide rules and denies, as teams write them.
    const wide = r % 20 === 0;
    const from = wide ? `ns${int(0, NAMESPACES - 1)}` : `svc${int(0, SERVICES - 1)}`;
    const to = wide ? `ns${int(0, NAMESPACES - 1)}` : `svc${int(0, SERVICES - 1)}`;
    const port = PORTS[int(0, PORTS.length - 1)] as number;
    const ports: PortRange[] = r % 7 === 0 ? [{ proto: 'tcp', first: 8000, last: 8100 }] : [{ proto: 'tcp', first: port }];
    rules.push({
      id: `r${r}`,
      from: [r % 50 === 0 ? 'external' : from],
      to: [to],
      ports,
      applications: r % 3 === 0 ? [APPS[int(0, APPS.length - 1)] as string] : [],
      action: r % 10 === 0 ? 'deny' : 'allow',
      priority: int(0, 3),
      source: 'user',
    });
  }
  return { groups, rules, defaultMode: 'discover' };
}

function time<T>(what: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return out;
}

const inventory = buildInventory();
const policy = buildPolicy();
console.log(`Palisade policy: ${WORKLOADS} workloads, ${SERVICES} services, ${NAMESPACES} namespaces, ${RULES} rules`);
const t0 = performance.now();
const compiled = time('compile', () => compile(policy, inventory));
const reach = time('reach: classes', () => analyzeReach(policy, inventory, compiled));
const edges = time('reach: every class pair', () => reach.edges());
const segments = edges.reduce((s, e) => s + e.segments.length, 0);
console.log(`  ${reach.classes.length} classes, ${edges.length} class pairs with something allowed, ${segments} allowed segments`);
const report = time('exposure', () => analyzeExposure(reach, { weights: DEFAULT_WEIGHTS, externalWeight: 100 }, inventory));
console.log(`  riskiest: ${report[0]?.workload} risk ${report[0]?.risk}`);
console.log(`reach + exposure: ${((performance.now() - t0) / 1000).toFixed(2)} s (compile included)`);
const assertionText = `assertions:
  - only: { into: { namespace: ns0 }, from: { namespace: ns1 } }
  - deny: { from: external, to: { namespaceLabels: "pci=cde" }, ports: tcp/5432 }
  - allow: { from: { service: svc1 }, to: { service: svc2 } }
`;
const { assertions } = parseAssertions(assertionText, 'bench.yaml', compiled.groups, applicationCatalog(APPS));
const results = time('check: 3 assertions', () => checkAssertions(reach, inventory, assertions));
console.log(`  ${results.filter((r) => r.holds).length} hold, ${results.filter((r) => !r.holds).length} fail`);
console.log(`heap used: ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MiB`);

/** The namespaces and a Deployment per workload, as Kubernetes manifests; `svc${n}` names a service of 10 workloads. */
function workloadManifests(workloads: number, withPorts: boolean): string[] {
  const services = Math.max(1, Math.round(workloads / 10));
  const docs: string[] = [];
  for (let n = 0; n < NAMESPACES; n++) docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns${n}\n  labels: { team: t${n % 10} }`);
  for (let i = 0; i < workloads; i++) {
    const svc = i % services;
    const ports = withPorts ? `, ports: [{ name: web, containerPort: ${8080 + (i % 4)} }]` : '';
    docs.push(`apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc${svc}-${i}\n  namespace: ${nsOf(svc)}\nspec:\n  selector: { matchLabels: { app: svc${svc}, i: "${i}" } }\n  template:\n    metadata:\n      labels: { app: svc${svc}, i: "${i}" }\n    spec:\n      containers: [{ name: c, image: "svc${svc}:1"${ports} }]`);
  }
  return docs;
}

/**
 * The namespaces and the pods of a ReplicaSet per service, 10 each, as `kubectl get pods` lists
 * them: every pod carries its own name label, which no selector reads.
 */
function podManifests(pods: number): string[] {
  const services = Math.max(1, Math.round(pods / 10));
  const docs: string[] = [];
  for (let n = 0; n < NAMESPACES; n++) docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns${n}\n  labels: { team: t${n % 10} }`);
  for (let i = 0; i < pods; i++) {
    const svc = i % services;
    docs.push(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: svc${svc}-${i}\n  namespace: ${nsOf(svc)}\n  labels: { app: svc${svc}, pod: p${i} }\n  ownerReferences: [{ kind: ReplicaSet, name: svc${svc}, controller: true }]\nspec:\n  containers: [{ name: c, image: "svc${svc}:1" }]`);
  }
  return docs;
}

/** A NetworkPolicy per service, each with ingress rules from single services. */
function perServiceManifests(workloads: number, workloadDocs: string[] = workloadManifests(workloads, false)): string {
  const services = Math.max(1, Math.round(workloads / 10));
  const rulesPerPolicy = Math.max(1, Math.round(RULES / SERVICES));
  const docs = [...workloadDocs];
  for (let s = 0; s < services; s++) {
    const ingress: string[] = [];
    for (let r = 0; r < rulesPerPolicy; r++) {
      const peer = int(0, services - 1);
      ingress.push(`    - from:\n        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ${nsOf(peer)} } }\n          podSelector: { matchLabels: { app: svc${peer} } }\n      ports: [{ protocol: TCP, port: ${PORTS[int(0, PORTS.length - 1)]} }]`);
    }
    docs.push(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: svc${s}\n  namespace: ${nsOf(s)}\nspec:\n  podSelector: { matchLabels: { app: svc${s} } }\n  policyTypes: [Ingress]\n  ingress:\n${ingress.join('\n')}`);
  }
  return docs.join('\n---\n');
}

/**
 * A NetworkPolicy per workload, selecting it alone, restricting both directions: ingress from a
 * service on a named port, from every namespace of a team or from an address block with a hole;
 * egress to a service in any namespace, or to an address block.
 */
function perWorkloadManifests(workloads: number): string {
  const services = Math.max(1, Math.round(workloads / 10));
  const docs = workloadManifests(workloads, true);
  for (let i = 0; i < workloads; i++) {
    const peer = int(0, services - 1);
    const kind = i % 10;
    const net = int(0, 200);
    const from =
      kind === 0
        ? `namespaceSelector: { matchLabels: { team: t${int(0, 9)} } }`
        : kind === 1
          ? `ipBlock: { cidr: 10.${net}.0.0/16, except: [10.${net}.${int(0, 255)}.0/24] }`
          : `namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ${nsOf(peer)} } }\n          podSelector: { matchExpressions: [{ key: app, operator: In, values: [svc${peer}, svc${int(0, services - 1)}] }] }`;
    const to = kind === 2 ? `ipBlock: { cidr: 172.${16 + int(0, 15)}.0.0/16 }` : `namespaceSelector: {}\n          podSelector: { matchLabels: { app: svc${int(0, services - 1)} } }`;
    const ingress = `    - from:\n        - ${from}\n      ports: [{ protocol: TCP, port: ${kind === 1 ? PORTS[int(0, PORTS.length - 1)] : 'web'} }]`;
    const egress = `    - to:\n        - ${to}\n      ports: [{ protocol: TCP, port: ${kind === 2 ? 443 : 'web'} }]`;
    docs.push(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: w${i}\n  namespace: ${nsOf(i % services)}\nspec:\n  podSelector: { matchLabels: { i: "${i}" } }\n  policyTypes: [Ingress, Egress]\n  ingress:\n${ingress}\n  egress:\n${egress}`);
  }
  return docs.join('\n---\n');
}

function importCluster(text: string): void {
  const problems: Problem[] = [];
  const objects = time('  read manifests', () => readManifestText('bench.yaml', text, problems));
  const cluster = time('  assemble cluster', () => assembleCluster(objects, problems));
  const reachList = time('  compute reach', () => computeReach(cluster));
  console.log(`  ${reachList.length} pairs with something allowed; ${problems.filter((p) => p.severity === 'error').length} errors`);
}

for (const size of K8S_SIZES) {
  const services = Math.max(1, Math.round(size / 10));
  const text = perServiceManifests(size);
  console.log(`Kubernetes NetworkPolicy import: ${size} Deployments, ${services} NetworkPolicies with ${services * Math.max(1, Math.round(RULES / SERVICES))} ingress rules`);
  importCluster(text);
}
console.log(`Kubernetes NetworkPolicy import: ${WORKLOADS} Deployments, ${WORKLOADS} NetworkPolicies (one per Deployment) with an ingress and an egress rule each`);
importCluster(perWorkloadManifests(WORKLOADS));
console.log(`Kubernetes NetworkPolicy import: ${WORKLOADS} Pods of ${SERVICES} ReplicaSets, ${SERVICES} NetworkPolicies with ${RULES} ingress rules`);
importCluster(perServiceManifests(WORKLOADS, podManifests(WORKLOADS)));
