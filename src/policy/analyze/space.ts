// The space of what a connection can be, as exact sets: per IP protocol an interval of ports (ICMP
// types), times a set of applications. Reachability carves rule regions out of this space in
// decision order, so no port is ever enumerated.

import type { IpProto } from '../../model/flow.js';
import type { PortRange } from '../../model/policy.js';

export const SPACE_PROTOS: readonly IpProto[] = ['tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'other'];

/** Ports of tcp/udp/sctp, types of icmp/icmpv6; `other` carries no port and is one point. */
const DOMAIN: Record<IpProto, readonly [number, number]> = {
  tcp: [0, 65535],
  udp: [0, 65535],
  sctp: [0, 65535],
  icmp: [0, 255],
  icmpv6: [0, 255],
  other: [0, 0],
};

/**
 * A set of applications over the registry's lower-case names plus "not identified". `except`
 * false: exactly `names`; `except` true: everything but `names`, unidentified sessions included.
 */
export interface AppSet {
  except: boolean;
  /** Sorted, lower-case, unique. */
  names: readonly string[];
}

export const ANY_APP: AppSet = { except: true, names: [] };

export interface Cell {
  proto: IpProto;
  first: number;
  last: number;
  apps: AppSet;
}

export function appSet(names: readonly string[]): AppSet {
  const lower = names.map((n) => n.toLowerCase());
  if (lower.length === 0 || lower.includes('any')) return ANY_APP;
  return { except: false, names: [...new Set(lower)].sort() };
}

const only = (names: Iterable<string>): AppSet => ({ except: false, names: [...new Set(names)].sort() });

export function intersectApps(a: AppSet, b: AppSet): AppSet {
  if (!a.except && !b.except) return only(a.names.filter((n) => b.names.includes(n)));
  if (!a.except) return only(a.names.filter((n) => !b.names.includes(n)));
  if (!b.except) return only(b.names.filter((n) => !a.names.includes(n)));
  return { except: true, names: [...new Set([...a.names, ...b.names])].sort() };
}

export function subtractApps(a: AppSet, b: AppSet): AppSet {
  return intersectApps(a, { except: !b.except, names: b.names });
}

export function isEmptyApps(a: AppSet): boolean {
  return !a.except && a.names.length === 0;
}

export function sameApps(a: AppSet, b: AppSet): boolean {
  return a.except === b.except && a.names.length === b.names.length && a.names.every((n, i) => n === b.names[i]);
}

/** `app` undefined is a session whose application was never identified. */
export function appsContain(a: AppSet, app: string | undefined): boolean {
  if (app === undefined) return a.except;
  return a.except !== a.names.includes(app.toLowerCase());
}

/** An application in the set, for a counterexample; undefined means "not identified". */
export function sampleApp(a: AppSet): string | undefined {
  return a.except ? undefined : a.names[0];
}

/** `any`, `http, tls`, `any except http`. */
export function describeApps(a: AppSet): string {
  if (a.except) return a.names.length === 0 ? 'any' : `any except ${a.names.join(', ')}`;
  return a.names.join(', ');
}

/** Everything a connection can be. */
export function fullSpace(): Cell[] {
  return SPACE_PROTOS.map((proto) => ({ proto, first: DOMAIN[proto][0], last: DOMAIN[proto][1], apps: ANY_APP }));
}

/**
 * The cells of a rule's ports and applications, read the way compile.ts reads them: no ports is
 * any; an entry without a first port is the whole protocol; `any` with ports spans every protocol.
 */
export function ruleCells(ports: readonly PortRange[], applications: readonly string[]): Cell[] {
  const apps = appSet(applications);
  const out: Cell[] = [];
  for (const p of ports.length === 0 ? [{ proto: 'any' as const }] : ports) {
    const protos = p.proto === 'any' ? SPACE_PROTOS : [p.proto];
    for (const proto of protos) {
      const [lo, hi] = DOMAIN[proto];
      const first = p.first === undefined ? lo : Math.max(lo, p.first);
      const last = p.first === undefined ? hi : Math.min(hi, p.last ?? p.first);
      if (first <= last) out.push({ proto, first, last, apps });
    }
  }
  return out;
}

/** Splits cells into the part inside the region and the part outside it. */
export function cut(cells: readonly Cell[], region: readonly Cell[]): { inside: Cell[]; outside: Cell[] } {
  const inside: Cell[] = [];
  let rest: Cell[] = cells.slice();
  for (const r of region) {
    const next: Cell[] = [];
    for (const c of rest) {
      if (c.proto !== r.proto || c.last < r.first || c.first > r.last) {
        next.push(c);
        continue;
      }
      const lo = Math.max(c.first, r.first);
      const hi = Math.min(c.last, r.last);
      if (c.first < lo) next.push({ ...c, last: lo - 1 });
      if (c.last > hi) next.push({ ...c, first: hi + 1 });
      const within = intersectApps(c.apps, r.apps);
      const without = subtractApps(c.apps, r.apps);
      if (!isEmptyApps(within)) inside.push({ proto: c.proto, first: lo, last: hi, apps: within });
      if (!isEmptyApps(without)) next.push({ proto: c.proto, first: lo, last: hi, apps: without });
    }
    rest = next;
  }
  return { inside, outside: rest };
}

export function cellContains(c: Cell, proto: IpProto, port: number, app: string | undefined): boolean {
  return c.proto === proto && c.first <= port && port <= c.last && appsContain(c.apps, app);
}

/** `tcp/8080`, `tcp/8000-8080`, `tcp/any`, `icmp type 8`, `other`. */
export function describeCell(c: Pick<Cell, 'proto' | 'first' | 'last'>): string {
  if (c.proto === 'other') return 'other';
  const [lo, hi] = DOMAIN[c.proto];
  const icmp = c.proto === 'icmp' || c.proto === 'icmpv6';
  if (c.first === lo && c.last === hi) return icmp ? c.proto : `${c.proto}/any`;
  const span = c.first === c.last ? `${c.first}` : `${c.first}-${c.last}`;
  return icmp ? `${c.proto} type ${span}` : `${c.proto}/${span}`;
}

/** Order for output: protocol as listed, then port. */
export function compareCells(a: Cell, b: Cell): number {
  return SPACE_PROTOS.indexOf(a.proto) - SPACE_PROTOS.indexOf(b.proto) || a.first - b.first || a.last - b.last;
}
