// The endpoints a rule side stands for, cut into atoms that either wholly hold a group or wholly
// do not, so lint can ask "does this side cover that one" exactly. With an inventory the atoms are
// its workloads and nodes plus external address spaces; without one they are the group names.

import { parseAddressSpec, parseIp, type IpAddr } from '../../model/address.js';
import type { Criterion, Group, Policy, Selector } from '../../model/policy.js';
import type { Inventory, Node, Workload } from '../../model/workload.js';
import {
  fqdnMatches,
  isIdentityCriterion,
  isReservedGroup,
  matchesIdentity,
  matchesSelector,
  selectEnv,
  type Endpoint,
  type SelectEnv,
} from '../select.js';

export interface EndpointSpace {
  /** The atoms a rule side (group names, OR) stands for. */
  atoms(groups: readonly string[]): readonly string[];
  /** The group holds for every endpoint of the atom. */
  holds(group: string, atom: string): boolean;
}

/** A rule side holds for the atom when any of its groups does. */
export function sideHolds(space: EndpointSpace, side: readonly string[], atom: string): boolean {
  return side.some((g) => space.holds(g, atom));
}

/** Some endpoint is on both sides. */
export function sidesOverlap(space: EndpointSpace, a: readonly string[], b: readonly string[]): boolean {
  return space.atoms(a).some((x) => sideHolds(space, b, x)) || space.atoms(b).some((x) => sideHolds(space, a, x));
}

/** A selector that can only ever match workloads (it has a criterion about identity). */
export function isIdentitySelector(s: Selector): boolean {
  return s.criteria.some(isIdentityCriterion);
}

/** A selector of addresses and names only: it may match endpoints outside the inventory. */
export function isExternalSelector(s: Selector): boolean {
  return s.criteria.length > 0 && !isIdentitySelector(s);
}

/** The criterion `narrow` implies `wide`: everything `narrow` holds for, `wide` holds for. */
function implies(narrow: Criterion, wide: Criterion): boolean {
  if (narrow.kind === 'address' && wide.kind === 'address') {
    const n = parseAddressSpec(narrow.spec);
    const w = parseAddressSpec(wide.spec);
    return n !== undefined && w !== undefined && n.version === w.version && n.first >= w.first && n.last <= w.last;
  }
  if (narrow.kind === 'fqdn' && wide.kind === 'fqdn') {
    if (narrow.pattern.toLowerCase() === wide.pattern.toLowerCase()) return true;
    // `*.a.example` lies under `*.example`; an exact name lies under a matching wildcard.
    const name = narrow.pattern.startsWith('*.') ? `x${narrow.pattern.slice(1)}` : narrow.pattern;
    return wide.pattern.startsWith('*.') && fqdnMatches(wide.pattern, name);
  }
  return false;
}

/** Every endpoint of `narrow` is one of `wide`: each criterion of `wide` follows from one of `narrow`. */
function selectorWithin(narrow: Selector, wide: Selector): boolean {
  return wide.criteria.every((w) => narrow.criteria.some((n) => implies(n, w)));
}

function leaseEndpoints(w: Workload): Endpoint[] {
  const out: Endpoint[] = [];
  for (const lease of w.addresses) {
    const addr = parseIp(lease.ip);
    if (addr !== undefined) out.push({ kind: 'workload', ip: lease.ip, addr, workload: w, lease });
  }
  return out;
}

/**
 * The selector holds for the workload at any of its addresses, or, for a workload without
 * addresses, by identity alone (as compile's membership queries count it). DNS names are unknown
 * to lint, so fqdn criteria hold for no workload.
 */
export function selectorHoldsWorkload(s: Selector, w: Workload, env: SelectEnv): boolean {
  const endpoints = leaseEndpoints(w);
  if (endpoints.length === 0) return s.criteria.every((c) => matchesIdentity(c, w, env));
  return endpoints.some((ep) => matchesSelector(s, ep, env));
}

export function selectorHoldsNode(s: Selector, node: Node, env: SelectEnv): boolean {
  return node.addresses.some((ip) => {
    const addr: IpAddr | undefined = parseIp(ip);
    return addr !== undefined && matchesSelector(s, { kind: 'node', ip, addr, node }, env);
  });
}

/** Members of each user group in the inventory, as atom keys (`w:<id>`, `n:<node>`). */
export interface Membership {
  members: Map<string, Set<string>>;
  env: SelectEnv;
}

export function membershipOf(policy: Policy, inventory: Inventory): Membership {
  const env = selectEnv(inventory);
  const members = new Map<string, Set<string>>();
  for (const g of policy.groups) {
    if (g.reserved || isReservedGroup(g.name)) continue;
    const set = new Set<string>();
    for (const w of inventory.workloads) if (g.selectors.some((s) => selectorHoldsWorkload(s, w, env))) set.add(`w:${w.id}`);
    for (const n of inventory.nodes) if (g.selectors.some((s) => selectorHoldsNode(s, n, env))) set.add(`n:${n.name}`);
    members.set(g.name, set);
  }
  return { members, env };
}

const EXTERNAL_REST = 'x:*';

/** Atoms: workloads, nodes, each external selector of a group, and the rest of the outside. */
export function inventorySpace(policy: Policy, inventory: Inventory, membership: Membership): EndpointSpace {
  const groups = new Map<string, Group>(policy.groups.map((g) => [g.name, g]));
  const allWorkloads = inventory.workloads.map((w) => `w:${w.id}`);
  const allNodes = inventory.nodes.map((n) => `n:${n.name}`);
  const externalSelector = (atom: string): Selector | undefined => {
    const hash = atom.lastIndexOf('#');
    return groups.get(atom.slice(2, hash))?.selectors[Number(atom.slice(hash + 1))];
  };
  const atomsOfGroup = (name: string): string[] => {
    switch (name) {
      case 'any':
        return [...allWorkloads, ...allNodes, EXTERNAL_REST];
      case 'workloads':
        return allWorkloads;
      case 'nodes':
        return allNodes;
      case 'external':
        return [EXTERNAL_REST];
    }
    const group = groups.get(name);
    const out = [...(membership.members.get(name) ?? [])];
    group?.selectors.forEach((s, i) => {
      if (isExternalSelector(s)) out.push(`x:${name}#${i}`);
    });
    return out;
  };
  // Rules name the same few sides over and over; their atoms are worked out once.
  const sides = new Map<string, readonly string[]>();
  return {
    atoms: (side) => {
      const key = side.join('\0');
      let atoms = sides.get(key);
      if (atoms === undefined) {
        atoms = [...new Set(side.flatMap(atomsOfGroup))];
        sides.set(key, atoms);
      }
      return atoms;
    },
    holds: (group, atom) => {
      switch (group) {
        case 'any':
          return true;
        case 'workloads':
          return atom.startsWith('w:');
        case 'nodes':
          return atom.startsWith('n:');
        case 'external':
          return atom.startsWith('x:');
      }
      if (!atom.startsWith('x:')) return membership.members.get(group)?.has(atom) ?? false;
      const narrow = atom === EXTERNAL_REST ? undefined : externalSelector(atom);
      const g = groups.get(group);
      return narrow !== undefined && g !== undefined && g.selectors.some((s) => isExternalSelector(s) && selectorWithin(narrow, s));
    },
  };
}

/**
 * Without an inventory only names are known: a group covers itself, `workloads` covers groups that
 * can only match workloads, `any` covers everything. Two different groups are taken to be apart,
 * so findings without an inventory are never guesses.
 */
export function nameSpace(policy: Policy): EndpointSpace {
  const groups = new Map<string, Group>(policy.groups.map((g) => [g.name, g]));
  const workloadOnly = (name: string): boolean => {
    const g = groups.get(name);
    return g !== undefined && g.selectors.length > 0 && g.selectors.every(isIdentitySelector);
  };
  return {
    atoms: (side) => [...new Set(side.flatMap((g) => (g === 'any' ? ['workloads', 'nodes', 'external'] : [g])))],
    holds: (group, atom) => {
      if (group === 'any' || group === atom) return true;
      return group === 'workloads' && !isReservedGroup(atom) && workloadOnly(atom);
    },
  };
}
