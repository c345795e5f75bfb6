// Exact sets of allowed connections (per protocol, disjoint port intervals) for the NetworkPolicy
// reachability analysis: rules union into them, egress and ingress intersect, and the connlist
// writer prints them. Kept exact so unions and intersections never over- or under-approximate.

/** The transport protocols a NetworkPolicy speaks of, in the order the connlist prints them. */
export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

/** An inclusive interval of ports, first <= last. */
export interface PortInterval {
  readonly first: number;
  readonly last: number;
}

/** Per protocol: ascending, disjoint, non-adjacent intervals (so equal sets have one spelling). */
export type ConnectionSet = Readonly<Record<Protocol, readonly PortInterval[]>>;

const FULL: readonly PortInterval[] = [{ first: MIN_PORT, last: MAX_PORT }];

export function noConnections(): ConnectionSet {
  return { SCTP: [], TCP: [], UDP: [] };
}

export function allConnections(): ConnectionSet {
  return { SCTP: FULL, TCP: FULL, UDP: FULL };
}

/** One protocol on the ports first..last (clamped to 1-65535). */
export function portRange(protocol: Protocol, first: number, last: number): ConnectionSet {
  const lo = Math.max(first, MIN_PORT);
  const hi = Math.min(last, MAX_PORT);
  const set = { SCTP: [] as PortInterval[], TCP: [] as PortInterval[], UDP: [] as PortInterval[] };
  if (lo <= hi) set[protocol] = [{ first: lo, last: hi }];
  return set;
}

function unionIntervals(a: readonly PortInterval[], b: readonly PortInterval[]): PortInterval[] {
  const all = [...a, ...b].sort((x, y) => x.first - y.first);
  const out: PortInterval[] = [];
  for (const iv of all) {
    const prev = out[out.length - 1];
    if (prev !== undefined && iv.first <= prev.last + 1) {
      if (iv.last > prev.last) out[out.length - 1] = { first: prev.first, last: iv.last };
    } else {
      out.push(iv);
    }
  }
  return out;
}

function intersectIntervals(a: readonly PortInterval[], b: readonly PortInterval[]): PortInterval[] {
  const out: PortInterval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as PortInterval;
    const y = b[j] as PortInterval;
    const first = Math.max(x.first, y.first);
    const last = Math.min(x.last, y.last);
    if (first <= last) out.push({ first, last });
    if (x.last < y.last) i++;
    else j++;
  }
  return out;
}

export function union(a: ConnectionSet, b: ConnectionSet): ConnectionSet {
  return {
    SCTP: unionIntervals(a.SCTP, b.SCTP),
    TCP: unionIntervals(a.TCP, b.TCP),
    UDP: unionIntervals(a.UDP, b.UDP),
  };
}

export function intersect(a: ConnectionSet, b: ConnectionSet): ConnectionSet {
  return {
    SCTP: intersectIntervals(a.SCTP, b.SCTP),
    TCP: intersectIntervals(a.TCP, b.TCP),
    UDP: intersectIntervals(a.UDP, b.UDP),
  };
}

export function isEmpty(set: ConnectionSet): boolean {
  return PROTOCOLS.every((p) => set[p].length === 0);
}

function isFull(intervals: readonly PortInterval[]): boolean {
  const only = intervals[0];
  return intervals.length === 1 && only !== undefined && only.first === MIN_PORT && only.last === MAX_PORT;
}

export function isAll(set: ConnectionSet): boolean {
  return PROTOCOLS.every((p) => isFull(set[p]));
}

/**
 * The connlist spelling: `All Connections`, or `SCTP 7070,TCP 8080-8081,UDP 9090` (protocols in
 * that order, only those with ports, ranges ascending). The empty set has no spelling here.
 */
export function formatConnections(set: ConnectionSet): string {
  if (isAll(set)) return 'All Connections';
  const parts: string[] = [];
  for (const p of PROTOCOLS) {
    const ranges = set[p].map((iv) => (iv.first === iv.last ? `${iv.first}` : `${iv.first}-${iv.last}`));
    if (ranges.length > 0) parts.push(`${p} ${ranges.join(',')}`);
  }
  return parts.join(',');
}
