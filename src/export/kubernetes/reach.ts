// Kubernetes NetworkPolicy semantics over a cluster read from manifests: for every ordered pair of
// peers (workloads, and external address ranges cut at every ipBlock boundary), the connections
// that the source's egress policies and the destination's ingress policies both allow.

import { formatIpv4 } from '../../model/address.js';
import { peerMatchesPod, policySelects, type Cluster } from './cluster.js';
import {
  allConnections,
  intersect,
  isEmpty,
  MAX_PORT,
  MIN_PORT,
  noConnections,
  portRange,
  union,
  type ConnectionSet,
} from './connections.js';
import type { ClusterNamespace, ClusterWorkload, Ipv4Range, NetworkPolicy, PolicyPort, PolicyRule } from './resources.js';

const IPV4_MAX = 0xffffffff;

export type Peer =
  | {
      kind: 'workload';
      id: string;
      workload: ClusterWorkload;
      namespace: ClusterNamespace;
      /** The policies that select it, per direction they restrict; none = unrestricted that way. */
      selectedBy: Readonly<Record<'ingress' | 'egress', readonly NetworkPolicy[]>>;
    }
  | { kind: 'external'; id: string; range: Ipv4Range };

/** A workload as a peer, with the policies that restrict it worked out once. */
function workloadPeer(cluster: Cluster, workload: ClusterWorkload): Peer {
  const selecting = cluster.policies.filter((p) => policySelects(p, workload.namespace, workload.labels));
  return {
    kind: 'workload',
    id: workload.id,
    workload,
    namespace: cluster.namespaces.get(workload.namespace) ?? { name: workload.namespace, labels: {} },
    selectedBy: { ingress: selecting.filter((p) => p.restrictsIngress), egress: selecting.filter((p) => p.restrictsEgress) },
  };
}

/** One line of the answer: src may open connections to dst on these protocols and ports. */
export interface Reach {
  src: string;
  dst: string;
  connections: ConnectionSet;
}

/** `first-last[External]`: the connlist spelling of an address range. */
function externalId(range: Ipv4Range): string {
  return `${formatIpv4(range.first)}-${formatIpv4(range.last)}[External]`;
}

/**
 * The whole IPv4 space cut at every boundary of the given ranges, in address order. Every
 * ipBlock then holds each piece wholly or not at all, so one piece is one peer.
 */
export function cutAddressSpace(blocks: readonly Ipv4Range[]): Ipv4Range[] {
  const starts = new Set<number>([0]);
  for (const b of blocks) {
    starts.add(b.first);
    if (b.last < IPV4_MAX) starts.add(b.last + 1);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  return sorted.map((first, i) => ({ first, last: i + 1 < sorted.length ? (sorted[i + 1] as number) - 1 : IPV4_MAX }));
}

/** The external peers on one side: cut by the ipBlocks of every policy's rules of that direction. */
function externalPeers(policies: readonly NetworkPolicy[], direction: 'ingress' | 'egress'): Peer[] {
  const blocks: Ipv4Range[] = [];
  for (const policy of policies) {
    for (const rule of policy[direction]) {
      for (const peer of rule.peers ?? []) if (peer.kind === 'ipBlock') blocks.push(...peer.ranges);
    }
  }
  return cutAddressSpace(blocks).map((range) => ({ kind: 'external', id: externalId(range), range }));
}

/**
 * The ports one rule allows towards `dst`. A named port means the port `dst` declares under
 * that name for that protocol; when it declares none, the entry allows nothing.
 */
function rulePorts(ports: readonly PolicyPort[] | undefined, dst: Peer): ConnectionSet {
  if (ports === undefined) return allConnections();
  let out = noConnections();
  for (const { protocol, port } of ports) {
    if (port.kind === 'all') out = union(out, portRange(protocol, MIN_PORT, MAX_PORT));
    else if (port.kind === 'range') out = union(out, portRange(protocol, port.first, port.last));
    else if (dst.kind === 'workload') {
      const declared = dst.workload.ports.find((p) => p.name === port.name);
      if (declared !== undefined && declared.protocol === protocol) out = union(out, portRange(protocol, declared.port, declared.port));
    }
  }
  return out;
}

/** Whether a rule of `policy` admits `peer` as the other end (source of ingress, destination of egress). */
function ruleAdmits(rule: PolicyRule, policy: NetworkPolicy, peer: Peer): boolean {
  if (rule.peers === undefined) return true;
  return rule.peers.some((p) => {
    if (p.kind === 'ipBlock') {
      return peer.kind === 'external' && p.ranges.some((r) => r.first <= peer.range.first && peer.range.last <= r.last);
    }
    return peer.kind === 'workload' && peerMatchesPod(p, policy, peer.namespace, peer.workload.labels);
  });
}

/**
 * What the policies of one direction allow between `selected` (the workload they restrict) and
 * `other`. Named ports resolve against the destination: `selected` for ingress, `other` for egress.
 */
function allowedBy(direction: 'ingress' | 'egress', selected: Peer & { kind: 'workload' }, other: Peer): ConnectionSet {
  const policies = selected.selectedBy[direction];
  if (policies.length === 0) return allConnections();
  const dst = direction === 'ingress' ? selected : other;
  let out = noConnections();
  for (const policy of policies) {
    for (const rule of policy[direction]) {
      if (ruleAdmits(rule, policy, other)) out = union(out, rulePorts(rule.ports, dst));
    }
  }
  return out;
}

/** The connections src may open to dst: its egress allowance and dst's ingress allowance, both. */
function allowedConnections(src: Peer, dst: Peer): ConnectionSet {
  const egress = src.kind === 'workload' ? allowedBy('egress', src, dst) : allConnections();
  if (isEmpty(egress)) return egress;
  const ingress = dst.kind === 'workload' ? allowedBy('ingress', dst, src) : allConnections();
  return intersect(egress, ingress);
}

/**
 * Every ordered pair with something allowed, sorted by source then destination id (plain code
 * unit order). No pair of a workload with itself, and none between two external ranges.
 */
export function computeReach(cluster: Cluster): Reach[] {
  const workloads = cluster.workloads.map((w) => workloadPeer(cluster, w));
  const sources = [...workloads, ...externalPeers(cluster.policies, 'ingress')];
  const destinations = [...workloads, ...externalPeers(cluster.policies, 'egress')];
  const out: Reach[] = [];
  for (const src of sources) {
    for (const dst of destinations) {
      if (src.id === dst.id || (src.kind === 'external' && dst.kind === 'external')) continue;
      const connections = allowedConnections(src, dst);
      if (!isEmpty(connections)) out.push({ src: src.id, dst: dst.id, connections });
    }
  }
  return out.sort((a, b) => (a.src !== b.src ? (a.src < b.src ? -1 : 1) : a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}
