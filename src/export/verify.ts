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
  // at the export's ipBlocks of one direction. A range of ours may meet several of the reader's
  // (a hand-edited export cuts where the policy does not): each part is compared on its own, and
  // a part no reader range with connections covers has none.
  const podId = new Map(cluster.workloads.map((w) => [`${w.namespace}/${w.name}`, w.id]));
  const externals = (side: 0 | 1): { id: string; range: IpRange & { version: 4 } }[] =>
    [...new Set([...got.keys()].map((k) => k.split('\n')[side] as string))].flatMap((id) => {
      const range = parseExternal(id);
      return range === undefined ? [] : [{ id, range }];
    });
  const readerRanges = [externals(0), externals(1)] as const;
  const partsOf = (p: ExportPeer, side: 0 | 1): { id: string | undefined; label: string }[] => {
    if (p.kind === 'workload') return [{ id: podId.get(`${p.workload.namespace}/${p.workload.name}`), label: p.id }];
    const { first, last } = p.range as IpRange & { version: 4 };
    const out: { id: string | undefined; label: string }[] = [];
    let covered = 0;
    for (const e of readerRanges[side]) {
      const lo = Math.max(first, e.range.first);
      const hi = Math.min(last, e.range.last);
      if (lo > hi) continue;
      covered += hi - lo + 1;
      out.push({ id: e.id, label: describeRange({ version: 4, first: lo, last: hi }) });
    }
    if (covered < last - first + 1) out.push({ id: undefined, label: describeRange(p.range) });
    return out;
  };

  const peers = exportPeers(policy, inventory, compiled).filter((p) => p.kind === 'workload' || p.range.version === 4);
  const differences: Difference[] = [];
  let pairs = 0;
  for (const c of peers) {
    for (const s of peers) {
      if (!hasPerimeter(c, s)) continue;
      pairs++;
      const expected = l4Connections(enforcedCells(compiled.rules, c.groups, s.groups));
      for (const src of partsOf(c, 0)) {
        for (const dst of partsOf(s, 1)) {
          const actual = src.id === undefined || dst.id === undefined ? noConnections() : (got.get(`${src.id}\n${dst.id}`) ?? noConnections());
          if (formatConnectionsOrEmpty(expected) !== formatConnectionsOrEmpty(actual)) differences.push({ client: src.label, server: dst.label, expected, got: actual });
        }
      }
    }
  }
  return { pairs, differences };
}

const formatConnectionsOrEmpty = (set: ConnectionSet): string => (isEmpty(set) ? '' : formatConnections(set));

/** `10.0.0.0-10.0.0.255[External]` → the range. */
function parseExternal(id: string): (IpRange & { version: 4 }) | undefined {
  const m = /^([^-]+)-([^-]+)\[External\]$/.exec(id);
  const first = m === null ? undefined : parseIpv4(m[1] as string);
  const last = m === null ? undefined : parseIpv4(m[2] as string);
  return first === undefined || last === undefined ? undefined : { version: 4, first, last };
}
