// `export --verify`: the NetworkPolicy export read back by the NetworkPolicy reader (export/
// kubernetes) over the same inventory, turned into Namespaces and Pods, and compared pair by pair
// with what the Palisade policy enforces (enforced.ts). Any difference is listed, never hidden.

import type { Inventory } from '../model/workload.js';
import type { Policy } from '../model/policy.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { assembleCluster } from './kubernetes/cluster.js';
import { formatConnections, isEmpty, noConnections, type ConnectionSet } from './kubernetes/connections.js';
import type { ManifestObject } from './kubernetes/manifests.js';
import { formatProblem, hasErrors, type Problem } from './kubernetes/problems.js';
import { computeReach } from './kubernetes/reach.js';
import { describeRange, enforcedCells, exportPeers, hasPerimeter, l4Connections, type ExportPeer } from './enforced.js';
import type { Manifest } from './manifest.js';

export interface Difference {
  client: string;
  server: string;
  expected: ConnectionSet;
  got: ConnectionSet;
}

export interface Verification {
  /** Pairs compared: every ordered pair of peers with a perimeter on one side. */
  pairs: number;
  differences: Difference[];
}

const spell = (set: ConnectionSet): string => (isEmpty(set) ? 'nothing' : formatConnections(set));

/** `shop/web => 0.0.0.0-10.199.255.255: expected TCP 8080, got nothing`. */
export function formatDifference(d: Difference): string {
  return `${d.client} => ${d.server}: expected ${spell(d.expected)}, got ${spell(d.got)}`;
}

function inMemory(kind: string, body: Record<string, unknown>, index: number): ManifestObject {
  return { kind, body, file: '(export)', where: `document ${index + 1}`, locate: () => undefined };
}

/** The inventory as the reader sees a cluster: Namespaces with their labels, one Pod per workload. */
export function inventoryObjects(inventory: Inventory): ManifestObject[] {
  const objects: ManifestObject[] = [];
  const namespaces = new Map(inventory.namespaces.map((ns) => [ns.name, ns.labels]));
  for (const w of inventory.workloads) if (!namespaces.has(w.namespace)) namespaces.set(w.namespace, {});
  for (const [name, labels] of namespaces) {
    objects.push(inMemory('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...labels } } }, objects.length));
  }
  const seen = new Set<string>();
  for (const w of inventory.workloads) {
    if (seen.has(w.id)) continue;
    seen.add(w.id);
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: w.name, namespace: w.namespace, labels: { ...w.labels } }, spec: { containers: [{ name: w.name, image: w.image }] } };
    objects.push(inMemory('Pod', body, objects.length));
  }
  return objects;
}

/** Fails (with every problem the reader found) when the export does not read back: a writer bug. */
export function verifyNetworkPolicies(policy: Policy, inventory: Inventory, compiled: CompiledPolicy, manifests: readonly Manifest[]): Verification {
  const problems: Problem[] = [];
  const objects = inventoryObjects(inventory);
  for (const m of manifests) objects.push(inMemory(m.kind, m as unknown as Record<string, unknown>, objects.length));
  const cluster = assembleCluster(objects, problems);
  if (hasErrors(problems)) throw new Error(`the NetworkPolicy export does not read back:\n${problems.map(formatProblem).join('\n')}`);
  const got = new Map<string, ConnectionSet>();
  for (const r of computeReach(cluster)) got.set(`${r.src}\n${r.dst}`, r.connections);

  // Reader ids: `namespace/name[Pod]` for workloads, `first-last[External]` for IPv4 ranges cut at
  // the export's ipBlocks, each of which is a union of our pieces.
  const podId = new Map(cluster.workloads.map((w) => [`${w.namespace}/${w.name}`, w.id]));
  const externals = [...new Set(computeReachIds(got))].map((id) => ({ id, range: parseExternal(id) })).filter((e) => e.range !== undefined);
  const readerId = (p: ExportPeer): string | undefined => {
    if (p.kind === 'workload') return podId.get(`${p.workload.namespace}/${p.workload.name}`);
    if (p.range.version !== 4) return undefined;
    const first = p.range.first;
    return externals.find((e) => (e.range as [number, number])[0] <= first && first <= (e.range as [number, number])[1])?.id ?? `external ${describeRange(p.range)}`;
  };

  const peers = exportPeers(policy, inventory, compiled).filter((p) => p.kind === 'workload' || p.range.version === 4);
  const differences: Difference[] = [];
  let pairs = 0;
  for (const c of peers) {
    for (const s of peers) {
      if (!hasPerimeter(c, s)) continue;
      pairs++;
      const expected = l4Connections(enforcedCells(compiled.rules, c.groups, s.groups));
      const src = readerId(c);
      const dst = readerId(s);
      const actual = src === undefined || dst === undefined ? noConnections() : (got.get(`${src}\n${dst}`) ?? noConnections());
      if (formatConnectionsOrEmpty(expected) !== formatConnectionsOrEmpty(actual)) {
        differences.push({ client: c.kind === 'workload' ? c.id : describeRange(c.range), server: s.kind === 'workload' ? s.id : describeRange(s.range), expected, got: actual });
      }
    }
  }
  return { pairs, differences };
}

const formatConnectionsOrEmpty = (set: ConnectionSet): string => (isEmpty(set) ? '' : formatConnections(set));

function computeReachIds(got: ReadonlyMap<string, ConnectionSet>): string[] {
  return [...got.keys()].flatMap((k) => k.split('\n')).filter((id) => id.endsWith('[External]'));
}

/** `10.0.0.0-10.0.0.255[External]` → [first, last] as numbers. */
function parseExternal(id: string): [number, number] | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)\[External\]$/.exec(id);
  if (m === null) return undefined;
  const num = (t: string): number => t.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  return [num(m[1] as string), num(m[2] as string)];
}
