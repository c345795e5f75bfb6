// Kubernetes NetworkPolicy semantics over a cluster read from manifests: for every ordered pair of
// peers (workloads, and external address ranges cut at every ipBlock boundary), the connections
// that the source's egress policies and the destination's ingress policies both allow.
// Policies are evaluated per class of workloads they treat alike (classes.ts) and per external
// range, then the answer is spelt out per workload pair.

import { formatIpv4 } from '../../model/address.js';
import { classify, type Classification, type WorkloadClass } from './classes.js';
import type { Cluster } from './cluster.js';
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
import type { ContainerPort, Ipv4Range, NetworkPolicy, PolicyPort } from './resources.js';

const IPV4_MAX = 0xffffffff;

/** One line of the answer: src may open connections to dst on these protocols and ports. */
export interface Reach {
  src: string;
  dst: string;
  connections: ConnectionSet;
}

/** A piece of the address space outside the cluster, one peer of the answer. */
export interface ExternalPeer {
  id: string;
  range: Ipv4Range;
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
export function externalPeers(policies: readonly NetworkPolicy[], direction: 'ingress' | 'egress'): ExternalPeer[] {
  const blocks: Ipv4Range[] = [];
  for (const policy of policies) {
    for (const rule of policy[direction]) {
      for (const peer of rule.peers ?? []) if (peer.kind === 'ipBlock') blocks.push(...peer.ranges);
    }
  }
  return cutAddressSpace(blocks).map((range) => ({ id: externalId(range), range }));
}

/**
 * The ports one rule allows towards a destination declaring `declared` (undefined for an
 * address). A named port means the port declared under that name for that protocol; when there
 * is none, the entry allows nothing.
 */
export function rulePorts(ports: readonly PolicyPort[] | undefined, declared: readonly ContainerPort[] | undefined): ConnectionSet {
  if (ports === undefined) return allConnections();
  let out = noConnections();
  for (const { protocol, port } of ports) {
    if (port.kind === 'all') out = union(out, portRange(protocol, MIN_PORT, MAX_PORT));
    else if (port.kind === 'range') out = union(out, portRange(protocol, port.first, port.last));
    else {
      const named = declared?.find((p) => p.name === port.name);
      if (named !== undefined && named.protocol === protocol) out = union(out, portRange(protocol, named.port, named.port));
    }
  }
  return out;
}

/**
 * Ends are what policies are evaluated between: the workload classes first (0 to classes - 1),
 * then the external peers of one side. Sources and destinations number their externals apart.
 */
type End = number;

/**
 * What one class's policies of one direction allow with the other ends: `everyone` with any end,
 * more with the ends in `byEnd` (whose entries include `everyone`). Rules admitting every peer
 * go to `everyone`, so a class open to all costs one entry, not one per end.
 */
interface Allowance {
  everyone: ConnectionSet;
  byEnd: Map<End, ConnectionSet>;
}

const allowedWith = (allowance: Allowance, end: End): ConnectionSet => allowance.byEnd.get(end) ?? allowance.everyone;

/** Of a class no policy restricts in that direction; its set is compared by identity to skip intersections. */
const UNRESTRICTED: Allowance = { everyone: allConnections(), byEnd: new Map() };

/** The ends external peers fill: those wholly inside one of `ranges` (a contiguous run, as they are cut at every boundary). */
function externalEnds(externals: readonly ExternalPeer[], ranges: readonly Ipv4Range[], firstEnd: End): End[] {
  const out: End[] = [];
  for (const r of ranges) {
    let lo = 0;
    let hi = externals.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((externals[mid] as ExternalPeer).range.first < r.first) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < externals.length && (externals[i] as ExternalPeer).range.last <= r.last; i++) out.push(firstEnd + i);
  }
  return out;
}

/**
 * The allowance of every class in one direction. The other ends are sources for ingress and
 * destinations for egress; named ports resolve against the destination, which is the class
 * itself for ingress and the other end for egress.
 */
function allowances(
  direction: 'ingress' | 'egress',
  classes: readonly WorkloadClass[],
  admitted: Classification['admitted'],
  policyIndex: ReadonlyMap<NetworkPolicy, number>,
  externals: readonly ExternalPeer[],
): Allowance[] {
  const every: End[] = Array.from({ length: classes.length + externals.length }, (_, i) => i);
  /** The ends a rule admits, worked out once per rule rather than once per class it restricts. */
  const admittedEnds = new Map<string, readonly End[]>();
  return classes.map((cls) => {
    if (cls.selectedBy[direction].length === 0) return UNRESTRICTED;
    let everyone = noConnections();
    const byEnd = new Map<End, ConnectionSet>();
    for (const policy of cls.selectedBy[direction]) {
      const p = policyIndex.get(policy) as number;
      policy[direction].forEach((rule, r) => {
        const resolvesPerEnd = direction === 'egress' && rule.ports?.some((port) => port.port.kind === 'named') === true;
        const fixed = resolvesPerEnd ? undefined : rulePorts(rule.ports, direction === 'ingress' ? cls.ports : undefined);
        if (rule.peers === undefined && fixed !== undefined) {
          everyone = union(everyone, fixed);
          return;
        }
        const key = `${p}/${r}`;
        let ends = admittedEnds.get(key);
        if (ends === undefined) {
          const ranges = (rule.peers ?? []).flatMap((peer) => (peer.kind === 'ipBlock' ? peer.ranges : []));
          ends = rule.peers === undefined ? every : [...((admitted[p]?.[direction][r] ?? []) as End[]), ...externalEnds(externals, ranges, classes.length)];
          admittedEnds.set(key, ends);
        }
        for (const end of ends) {
          const ports = fixed ?? rulePorts(rule.ports, end < classes.length ? (classes[end] as WorkloadClass).ports : undefined);
          const known = byEnd.get(end);
          byEnd.set(end, known === undefined ? ports : union(known, ports));
        }
      });
    }
    if (!isEmpty(everyone)) for (const [end, set] of byEnd) byEnd.set(end, union(set, everyone));
    return { everyone, byEnd };
  });
}

/** One peer of the answer with the end it belongs to. */
interface Placed {
  id: string;
  end: End;
}

const byId = (a: Placed, b: Placed): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Every ordered pair with something allowed, sorted by source then destination id (plain code
 * unit order). No pair of a workload with itself, and none between two external ranges.
 */
export function computeReach(cluster: Cluster): Reach[] {
  const { classes, admitted } = classify(cluster);
  const sourceExternals = externalPeers(cluster.policies, 'ingress');
  const destinationExternals = externalPeers(cluster.policies, 'egress');
  const policyIndex = new Map(cluster.policies.map((p, i) => [p, i]));
  const ingress = allowances('ingress', classes, admitted, policyIndex, sourceExternals);
  const egress = allowances('egress', classes, admitted, policyIndex, destinationExternals);
  const C = classes.length;
  const sourceEnds = C + sourceExternals.length;
  const destinationEnds = C + destinationExternals.length;

  // Which classes may admit each source, so a source only meets the destinations that may answer.
  const openIngress: End[] = [];
  const ingressAdmits: End[][] = Array.from({ length: sourceEnds }, () => []);
  ingress.forEach((allowance, d) => {
    if (!isEmpty(allowance.everyone)) openIngress.push(d);
    else for (const s of allowance.byEnd.keys()) (ingressAdmits[s] as End[]).push(d);
  });
  const allDestinationExternals = Array.from({ length: destinationExternals.length }, (_, i) => C + i);

  /** The destinations one source end reaches and how; the same for every member of a class. */
  const reached = (s: End): Map<End, ConnectionSet> => {
    const out = new Map<End, ConnectionSet>();
    const leaving = s < C ? (egress[s] as Allowance) : undefined;
    const candidates =
      leaving !== undefined && isEmpty(leaving.everyone)
        ? leaving.byEnd.keys()
        : [...openIngress, ...(ingressAdmits[s] as End[]), ...(leaving !== undefined ? allDestinationExternals : [])];
    for (const d of candidates) {
      const allowedOut = leaving === undefined ? undefined : allowedWith(leaving, d);
      const allowedIn = d < C ? allowedWith(ingress[d] as Allowance, s) : undefined;
      // undefined: an external end, which no policy restricts.
      const openOut = allowedOut === undefined || allowedOut === UNRESTRICTED.everyone;
      const openIn = allowedIn === undefined || allowedIn === UNRESTRICTED.everyone;
      const both = openOut ? allowedIn ?? allowedOut : openIn ? allowedOut : intersect(allowedOut, allowedIn);
      if (both !== undefined && !isEmpty(both)) out.set(d, both);
    }
    return out;
  };

  const placeWorkloads = (): Placed[] => classes.flatMap((cls, c) => cls.members.map((w) => ({ id: w.id, end: c })));
  const sources = [...placeWorkloads(), ...sourceExternals.map((e, i) => ({ id: e.id, end: C + i }))].sort(byId);
  const destinations = [...placeWorkloads(), ...destinationExternals.map((e, i) => ({ id: e.id, end: C + i }))].sort(byId);
  /** Per destination end, the positions of its peers in id order. */
  const ranksOf: number[][] = Array.from({ length: destinationEnds }, () => []);
  destinations.forEach((d, rank) => (ranksOf[d.end] as number[]).push(rank));

  /** Per source end, the destinations in id order with their connections, built on first use. */
  const rows = new Map<End, { ranks: Int32Array; connections: ConnectionSet[] }>();
  const connectionsAt: ConnectionSet[] = new Array<ConnectionSet>(destinations.length);
  const rowOf = (s: End): { ranks: Int32Array; connections: ConnectionSet[] } => {
    let row = rows.get(s);
    if (row !== undefined) return row;
    const ranks: number[] = [];
    for (const [d, connections] of reached(s)) {
      for (const rank of ranksOf[d] as number[]) {
        ranks.push(rank);
        connectionsAt[rank] = connections;
      }
    }
    const sorted = Int32Array.from(ranks).sort();
    row = { ranks: sorted, connections: Array.from(sorted, (rank) => connectionsAt[rank] as ConnectionSet) };
    rows.set(s, row);
    return row;
  };

  const out: Reach[] = [];
  for (const src of sources) {
    const { ranks, connections } = rowOf(src.end);
    ranks.forEach((rank, i) => {
      const dst = (destinations[rank] as Placed).id;
      if (dst !== src.id) out.push({ src: src.id, dst, connections: connections[i] as ConnectionSet });
    });
  }
  return out;
}
