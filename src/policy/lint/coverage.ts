// Which earlier rules take a rule's connections: the space a rule matches (from × to × port ×
// application) is cut into cells that each earlier rule wholly matches or wholly misses, and each
// cell goes to the first earlier rule that matches it. A rule whose every cell is taken never
// decides anything; lint reads shadowed and redundant rules from that.

import type { PortRange, Rule } from '../../model/policy.js';
import { sideHolds, sidesOverlap, type EndpointSpace } from './endpoints.js';

type Proto = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'other';
const PROTOS: readonly Proto[] = ['tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'other'];
const TOP: Record<Proto, number> = { tcp: 65535, udp: 65535, sctp: 65535, icmp: 255, icmpv6: 255, other: 0 };

/** Inclusive intervals of port numbers (or ICMP types) per protocol. */
type PortSpace = Map<Proto, [number, number][]>;

function portSpace(ports: readonly PortRange[]): PortSpace {
  const space: PortSpace = new Map();
  const add = (proto: Proto, first: number, last: number): void => {
    space.set(proto, [...(space.get(proto) ?? []), [first, last]]);
  };
  if (ports.length === 0 || ports.some((p) => p.proto === 'any')) {
    for (const proto of PROTOS) add(proto, 0, TOP[proto]);
    return space;
  }
  for (const p of ports) {
    const proto = p.proto as Proto;
    if (p.first === undefined) add(proto, 0, TOP[proto]);
    else add(proto, p.first, p.last ?? p.first);
  }
  return space;
}

function portsOverlap(a: PortSpace, b: PortSpace): boolean {
  for (const [proto, list] of a) {
    for (const [f, l] of list) if ((b.get(proto) ?? []).some(([bf, bl]) => f <= bl && bf <= l)) return true;
  }
  return false;
}

interface Segment {
  proto: Proto;
  first: number;
  last: number;
}

/** The rule's ports cut at every boundary of the others', so each piece is in or out of each. */
function segments(space: PortSpace, others: readonly PortSpace[]): Segment[] {
  const out: Segment[] = [];
  for (const [proto, list] of space) {
    const cuts = new Set<number>();
    for (const [f, l] of [...list, ...others.flatMap((o) => o.get(proto) ?? [])]) {
      cuts.add(f);
      cuts.add(l + 1);
    }
    const sorted = [...cuts].sort((a, b) => a - b);
    for (const [f, l] of list) {
      const inside = sorted.filter((c) => c > f && c <= l);
      let start = f;
      for (const c of [...inside, l + 1]) {
        out.push({ proto, first: start, last: c - 1 });
        start = c;
      }
    }
  }
  return out;
}

function portsHold(space: PortSpace, seg: Segment): boolean {
  return (space.get(seg.proto) ?? []).some(([f, l]) => f <= seg.first && seg.last <= l);
}

/** Stands for every application no rule names, and for sessions whose application stays unknown. */
const OTHER_APP = '';

function appsOverlap(a: Rule, b: Rule): boolean {
  return a.applications.length === 0 || b.applications.length === 0 || a.applications.some((x) => b.applications.includes(x));
}

function appHolds(rule: Rule, app: string): boolean {
  return rule.applications.length === 0 || rule.applications.includes(app);
}

/** Some connection matches both rules. */
export function rulesOverlap(space: EndpointSpace, a: Rule, b: Rule): boolean {
  // Cheapest first: ports and applications do not depend on the size of the inventory.
  return (
    appsOverlap(a, b) &&
    portsOverlap(portSpace(a.ports), portSpace(b.ports)) &&
    sidesOverlap(space, a.from, b.from) &&
    sidesOverlap(space, a.to, b.to)
  );
}

/** Atoms of one side grouped by which earlier rules hold for them, one representative each. */
function classes(space: EndpointSpace, atoms: readonly string[], sideOf: (e: Rule) => readonly string[], earlier: readonly Rule[]): boolean[][] {
  const seen = new Map<string, boolean[]>();
  for (const atom of atoms) {
    const sig = earlier.map((e) => sideHolds(space, sideOf(e), atom));
    seen.set(sig.map((b) => (b ? '1' : '0')).join(''), sig);
  }
  return [...seen.values()];
}

/** Beyond this many cells a rule is not analysed: a finding is never worth a stalled check. */
const MAX_CELLS = 200_000;

export interface Cover {
  /** Earlier rules that are the first match for some of the rule's connections, in order. */
  takers: Rule[];
}

/**
 * When every connection the rule matches is first matched by an earlier rule: those rules.
 * Undefined when some connection reaches the rule, the rule matches nothing, or it is too large
 * to analyse. `before` is the enabled rules ahead of it in decision order.
 */
export function coverOf(space: EndpointSpace, rule: Rule, before: readonly Rule[]): Cover | undefined {
  const fromAtoms = space.atoms(rule.from);
  const toAtoms = space.atoms(rule.to);
  if (fromAtoms.length === 0 || toAtoms.length === 0) return undefined;
  const earlier = before.filter((e) => rulesOverlap(space, rule, e));
  if (earlier.length === 0) return undefined;
  const fromClasses = classes(space, fromAtoms, (e) => e.from, earlier);
  const toClasses = classes(space, toAtoms, (e) => e.to, earlier);
  const ports = earlier.map((e) => portSpace(e.ports));
  const segs = segments(portSpace(rule.ports), ports);
  const apps = rule.applications.length > 0 ? rule.applications : [...new Set(earlier.flatMap((e) => e.applications)), OTHER_APP];
  if (fromClasses.length * toClasses.length * segs.length * apps.length > MAX_CELLS) return undefined;
  const taken = new Set<number>();
  for (const f of fromClasses) {
    for (const t of toClasses) {
      for (const seg of segs) {
        for (const app of apps) {
          const first = earlier.findIndex((e, i) => f[i] && t[i] && portsHold(ports[i] as PortSpace, seg) && appHolds(e, app));
          if (first < 0) return undefined;
          taken.add(first);
        }
      }
    }
  }
  return { takers: earlier.filter((_, i) => taken.has(i)) };
}
