// The straightforward NetworkPolicy reachability: every ordered pair of peers, each policy and
// rule evaluated for that pair. Quadratic in workloads, so src/ groups workloads into classes
// instead; this stays as the reference the property test compares the fast path against.

import { peerMatchesPod, policySelects, type Cluster } from '../../../src/export/kubernetes/cluster.js';
import { allConnections, intersect, isEmpty, noConnections, union, type ConnectionSet } from '../../../src/export/kubernetes/connections.js';
import { externalPeers, rulePorts, type ExternalPeer, type Reach } from '../../../src/export/kubernetes/reach.js';
import type { ClusterNamespace, ClusterWorkload, NetworkPolicy, PolicyRule } from '../../../src/export/kubernetes/resources.js';

type Peer =
  | {
      kind: 'workload';
      id: string;
      workload: ClusterWorkload;
      namespace: ClusterNamespace;
      selectedBy: Readonly<Record<'ingress' | 'egress', readonly NetworkPolicy[]>>;
    }
  | ({ kind: 'external' } & ExternalPeer);

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

function ruleAdmits(rule: PolicyRule, policy: NetworkPolicy, peer: Peer): boolean {
  if (rule.peers === undefined) return true;
  return rule.peers.some((p) => {
    if (p.kind === 'ipBlock') {
      return peer.kind === 'external' && p.ranges.some((r) => r.first <= peer.range.first && peer.range.last <= r.last);
    }
    return peer.kind === 'workload' && peerMatchesPod(p, policy, peer.namespace, peer.workload.labels);
  });
}

function allowedBy(direction: 'ingress' | 'egress', selected: Peer & { kind: 'workload' }, other: Peer): ConnectionSet {
  const policies = selected.selectedBy[direction];
  if (policies.length === 0) return allConnections();
  const dst = direction === 'ingress' ? selected : other;
  let out = noConnections();
  for (const policy of policies) {
    for (const rule of policy[direction]) {
      if (ruleAdmits(rule, policy, other)) out = union(out, rulePorts(rule.ports, dst.kind === 'workload' ? dst.workload.ports : undefined));
    }
  }
  return out;
}

function allowedConnections(src: Peer, dst: Peer): ConnectionSet {
  const egress = src.kind === 'workload' ? allowedBy('egress', src, dst) : allConnections();
  if (isEmpty(egress)) return egress;
  const ingress = dst.kind === 'workload' ? allowedBy('ingress', dst, src) : allConnections();
  return intersect(egress, ingress);
}

export function referenceReach(cluster: Cluster): Reach[] {
  const workloads = cluster.workloads.map((w) => workloadPeer(cluster, w));
  const external = (direction: 'ingress' | 'egress'): Peer[] => externalPeers(cluster.policies, direction).map((e) => ({ kind: 'external', ...e }));
  const sources = [...workloads, ...external('ingress')];
  const destinations = [...workloads, ...external('egress')];
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
