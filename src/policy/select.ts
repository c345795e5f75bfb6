// Group membership: which kind of endpoint an address is at a given time (workload, node or
// external) and whether a selector holds for it. The single definition that compile, lint and
// export share; compile precomputes it, these functions state it plainly.

import { canonicalIp, parseAddressSpec, parseIp, rangeContains, type IpAddr } from '../model/address.js';
import type { Criterion, Group, LabelRequirement, ReservedGroup, Selector } from '../model/policy.js';
import { RESERVED_GROUPS } from '../model/policy.js';
import type { AddressLease, Inventory, Labels, Node, Workload } from '../model/workload.js';

/** DNS answers seen on the wire: the names that resolved to an address (canonical form). */
export interface Resolver {
  namesOf(ip: string): readonly string[];
}

/**
 * One side of a connection, classified. `ip` is the canonical address (IPv4-mapped IPv6 reduced
 * to IPv4), or the text as given when it is no address; `addr` is then undefined.
 */
export type Endpoint =
  | { kind: 'workload'; ip: string; addr: IpAddr; workload: Workload; lease: AddressLease }
  | { kind: 'node'; ip: string; addr: IpAddr; node: Node }
  | { kind: 'external'; ip: string; addr: IpAddr | undefined };

/** What criteria need beyond the endpoint: namespace labels and DNS names. */
export interface SelectEnv {
  namespaceLabels(namespace: string): Labels;
  namesOf(ip: string): readonly string[];
}

const NO_LABELS: Labels = Object.freeze({});
const NO_NAMES: readonly string[] = Object.freeze([]);

export function selectEnv(inventory: Inventory, dns?: Resolver): SelectEnv {
  const byName = new Map<string, Labels>();
  for (const ns of inventory.namespaces) if (!byName.has(ns.name)) byName.set(ns.name, ns.labels);
  return {
    namespaceLabels: (name) => byName.get(name) ?? NO_LABELS,
    namesOf: (ip) => (dns ? dns.namesOf(ip) : NO_NAMES),
  };
}

/** Milliseconds of a lease bound; absent since = -Infinity, absent until = +Infinity, unreadable = NaN. */
export function leaseStart(lease: AddressLease): number {
  return lease.since === undefined ? -Infinity : Date.parse(lease.since);
}

export function leaseEnd(lease: AddressLease): number {
  return lease.until === undefined ? Infinity : Date.parse(lease.until);
}

/** since <= at < until. A lease with an unreadable bound never holds. */
export function leaseHolds(lease: AddressLease, at: number): boolean {
  return leaseStart(lease) <= at && at < leaseEnd(lease);
}

/**
 * The endpoint an address is at time `at`: the workload holding a lease on it (the lease that
 * started latest when several hold; the first listed on a tie), else the first node with that
 * address, else external.
 */
export function classifyEndpoint(inventory: Inventory, ipText: string, at: number): Endpoint {
  const parsed = parseIp(ipText);
  if (parsed === undefined) return { kind: 'external', ip: ipText, addr: undefined };
  const ip = canonicalIp(ipText) as string;
  const addr = parseIp(ip) as IpAddr;
  let best: { workload: Workload; lease: AddressLease; start: number } | undefined;
  for (const workload of inventory.workloads) {
    for (const lease of workload.addresses) {
      if (canonicalIp(lease.ip) !== ip || !leaseHolds(lease, at)) continue;
      const start = leaseStart(lease);
      if (best === undefined || start > best.start) best = { workload, lease, start };
    }
  }
  if (best) return { kind: 'workload', ip, addr, workload: best.workload, lease: best.lease };
  for (const node of inventory.nodes) {
    if (node.addresses.some((a) => canonicalIp(a) === ip)) return { kind: 'node', ip, addr, node };
  }
  return { kind: 'external', ip, addr };
}

/** eq/in need the key; neq holds also when the key is absent; exists needs only the key. */
export function matchesLabels(labels: Labels, req: LabelRequirement): boolean {
  const present = Object.hasOwn(labels, req.key);
  const value = present ? labels[req.key] : undefined;
  switch (req.op) {
    case 'eq':
      return present && value === req.values[0];
    case 'neq':
      return !present || value !== req.values[0];
    case 'exists':
      return present;
    case 'in':
      return present && req.values.includes(value as string);
  }
}

/** `*` any run of characters (also none), `?` exactly one, everything else literally. */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === '*') {
      starG = g++;
      starT = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      g++;
      t++;
    } else if (starG >= 0) {
      g = starG + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Exact name, or `*.suffix` for any name strictly below suffix; case and a trailing dot do not matter. */
export function fqdnMatches(pattern: string, name: string): boolean {
  const p = normalizeName(pattern);
  const n = normalizeName(name);
  if (p.startsWith('*.')) return n.length > p.length - 1 && n.endsWith(p.slice(1));
  return n === p;
}

/** Criteria about a workload's identity; they never hold for nodes or externals. */
export function isIdentityCriterion(c: Criterion): boolean {
  return c.kind !== 'address' && c.kind !== 'fqdn';
}

/** An identity criterion against a workload. Address and fqdn criteria are not identity: false. */
export function matchesIdentity(c: Criterion, workload: Workload, env: Pick<SelectEnv, 'namespaceLabels'>): boolean {
  switch (c.kind) {
    case 'label':
      return matchesLabels(workload.labels, c.req);
    case 'namespace':
      return workload.namespace === c.name;
    case 'namespaceLabel':
      return matchesLabels(env.namespaceLabels(workload.namespace), c.req);
    case 'service':
      return workload.service === c.name;
    case 'image':
      return globMatches(c.glob, workload.image);
    case 'node':
      return workload.node === c.name;
    case 'address':
    case 'fqdn':
      return false;
  }
}

export function matchesCriterion(c: Criterion, ep: Endpoint, env: SelectEnv): boolean {
  if (c.kind === 'address') {
    const range = parseAddressSpec(c.spec);
    return range !== undefined && ep.addr !== undefined && rangeContains(range, ep.addr);
  }
  if (c.kind === 'fqdn') return env.namesOf(ep.ip).some((name) => fqdnMatches(c.pattern, name));
  return ep.kind === 'workload' && matchesIdentity(c, ep.workload, env);
}

/** All criteria hold (a selector without criteria holds for every endpoint). */
export function matchesSelector(selector: Selector, ep: Endpoint, env: SelectEnv): boolean {
  return selector.criteria.every((c) => matchesCriterion(c, ep, env));
}

export function isReservedGroup(name: string): name is ReservedGroup {
  return (RESERVED_GROUPS as readonly string[]).includes(name);
}

/** Built-in meaning of the reserved groups, whatever selectors a document gave them. */
export function inReservedGroup(name: ReservedGroup, ep: Endpoint): boolean {
  switch (name) {
    case 'any':
      return true;
    case 'workloads':
      return ep.kind === 'workload';
    case 'nodes':
      return ep.kind === 'node';
    case 'external':
      return ep.kind === 'external';
  }
}

/** Reserved names keep their built-in meaning; other groups hold when any selector does. */
export function inGroup(group: Group, ep: Endpoint, env: SelectEnv): boolean {
  if (isReservedGroup(group.name)) return inReservedGroup(group.name, ep);
  return group.selectors.some((s) => matchesSelector(s, ep, env));
}
