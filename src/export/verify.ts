// `export --verify`: the NetworkPolicy export read back by the NetworkPolicy reader (export/
// kubernetes) over the same inventory, turned into Namespaces and Pods, and compared pair by pair
// with what the Palisade policy enforces (enforced.ts). Any difference is listed, never hidden.

import { parseIpv4, type IpRange } from '../model/address.js';
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

  // Reader ids: `namespace/name[Pod]` for workloads, `first-last[External]` for IPv4 ranges cut
  // at the export's ipBlocks of one direction, each of which is a union of our pieces.
  const podId = new Map(cluster.workloads.map((w) => [`${w.namespace}/${w.name}`, w.id]));
  const externals = (side: 0 | 1): { id: string; range: IpRange }[] =>
    [...new Set([...got.keys()].map((k) => k.split('\n')[side] as string))].flatMap((id) => {
      const range = parseExternal(id);
      return range === undefined ? [] : [{ id, range }];
    });
  const sources = externals(0);
  const destinations = externals(1);
  const readerId = (p: ExportPeer, side: 0 | 1): string | undefined => {
    if (p.kind === 'workload') return podId.get(`${p.workload.namespace}/${p.workload.name}`);
    const first = p.range.first;
    return (side === 0 ? sources : destinations).find((e) => e.range.first <= first && first <= e.range.last)?.id;
  };

  const peers = exportPeers(policy, inventory, compiled).filter((p) => p.kind === 'workload' || p.range.version === 4);
  const differences: Difference[] = [];
  let pairs = 0;
  for (const c of peers) {
    for (const s of peers) {
      if (!hasPerimeter(c, s)) continue;
      pairs++;
      const expected = l4Connections(enforcedCells(compiled.rules, c.groups, s.groups));
      const src = readerId(c, 0);
      const dst = readerId(s, 1);
      const actual = src === undefined || dst === undefined ? noConnections() : (got.get(`${src}\n${dst}`) ?? noConnections());
      if (formatConnectionsOrEmpty(expected) !== formatConnectionsOrEmpty(actual)) {
        differences.push({ client: c.kind === 'workload' ? c.id : describeRange(c.range), server: s.kind === 'workload' ? s.id : describeRange(s.range), expected, got: actual });
      }
    }
  }
  return { pairs, differences };
}

const formatConnectionsOrEmpty = (set: ConnectionSet): string => (isEmpty(set) ? '' : formatConnections(set));

/** `10.0.0.0-10.0.0.255[External]` → the range. */
function parseExternal(id: string): IpRange | undefined {
  const m = /^([^-]+)-([^-]+)\[External\]$/.exec(id);
  const first = m === null ? undefined : parseIpv4(m[1] as string);
  const last = m === null ? undefined : parseIpv4(m[2] as string);
  return first === undefined || last === undefined ? undefined : { version: 4, first, last };
}
