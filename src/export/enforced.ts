// What a policy lets through once every perimeter is in protect, per pair of endpoints of the
// inventory: the allow-only targets (NetworkPolicy) are written from it, and `export --verify`
// compares a re-imported export against it. Addresses outside workloads are cut into pieces that
// every address criterion and node address holds wholly or not at all, so one piece is one peer.

import { formatIp, parseAddressSpec, type IpAddr, type IpRange } from '../model/address.js';
import type { Group, Policy, Rule } from '../model/policy.js';
import type { Inventory, Node, Workload } from '../model/workload.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { cut, fullSpace, ruleCells, type Cell } from '../policy/analyze/space.js';
import { inGroup, inReservedGroup, isReservedGroup, selectEnv, type Endpoint } from '../policy/select.js';
import { MAX_PORT, MIN_PORT, noConnections, portRange, union, type ConnectionSet, type Protocol } from './kubernetes/connections.js';

/** A peer of the export: a workload, or a piece of address space (a node's address or externals). */
export type ExportPeer =
  | { kind: 'workload'; id: string; workload: Workload; groups: ReadonlySet<string> }
  | { kind: 'address'; id: string; range: IpRange; node?: Node; groups: ReadonlySet<string> };

export function groupsByName(policy: Policy): Map<string, Group> {
  const out = new Map<string, Group>();
  for (const g of policy.groups) if (!out.has(g.name)) out.set(g.name, g);
  return out;
}

const V4_MAX = 0xffffffffn;
const V6_MAX = (1n << 128n) - 1n;

function toRange(version: 4 | 6, first: bigint, last: bigint): IpRange {
  return version === 4 ? { version: 4, first: Number(first), last: Number(last) } : { version: 6, first, last };
}

/** The whole space of one IP version cut at every boundary of the given ranges. */
function cutSpace(version: 4 | 6, ranges: readonly IpRange[]): IpRange[] {
  const max = version === 4 ? V4_MAX : V6_MAX;
  const starts = new Set<bigint>([0n]);
  for (const r of ranges) {
    if (r.version !== version) continue;
    starts.add(BigInt(r.first));
    if (BigInt(r.last) < max) starts.add(BigInt(r.last) + 1n);
  }
  const sorted = [...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.map((first, i) => toRange(version, first, i + 1 < sorted.length ? (sorted[i + 1] as bigint) - 1n : max));
}

function firstAddress(range: IpRange): IpAddr {
  return range.version === 4 ? { version: 4, value: range.first } : { version: 6, value: range.first };
}

export function describeRange(range: IpRange): string {
  const first = formatIp(firstAddress(range));
  return range.first === range.last ? first : `${first}-${formatIp(range.version === 4 ? { version: 4, value: range.last } : { version: 6, value: range.last })}`;
}

/** Workloads (in inventory order) and address pieces (IPv4 then IPv6, ascending), with their groups. */
export function exportPeers(policy: Policy, inventory: Inventory, compiled: CompiledPolicy): ExportPeer[] {
  const defs = groupsByName(policy);
  const env = selectEnv(inventory);
  const groupsOf = (ep: Endpoint): Set<string> =>
    new Set(compiled.groups.filter((name) => (isReservedGroup(name) ? inReservedGroup(name, ep) : defs.get(name) !== undefined && inGroup(defs.get(name) as Group, ep, env))));
  const peers: ExportPeer[] = [];
  const seen = new Set<string>();
  for (const w of inventory.workloads) {
    if (seen.has(w.id)) continue;
    seen.add(w.id);
    peers.push({ kind: 'workload', id: w.id, workload: w, groups: new Set(compiled.groupsOfWorkload(w.id)) });
  }
  const bounds: IpRange[] = [];
  for (const g of defs.values()) {
    for (const s of g.selectors) {
      for (const c of s.criteria) {
        const r = c.kind === 'address' ? parseAddressSpec(c.spec) : undefined;
        if (r !== undefined) bounds.push(r);
      }
    }
  }
  const nodeAt = new Map<string, Node>();
  for (const node of inventory.nodes) {
    for (const a of node.addresses) {
      const r = parseAddressSpec(a);
      if (r === undefined || r.first !== r.last) continue;
      bounds.push(r);
      const key = describeRange(r);
      if (!nodeAt.has(key)) nodeAt.set(key, node);
    }
  }
  for (const version of [4, 6] as const) {
    for (const range of cutSpace(version, bounds)) {
      const id = describeRange(range);
      const node = nodeAt.get(id);
      const addr = firstAddress(range);
      const ep: Endpoint = node !== undefined ? { kind: 'node', ip: id, addr, node } : { kind: 'external', ip: formatIp(addr), addr };
      peers.push({ kind: 'address', id, range, ...(node !== undefined ? { node } : {}), groups: groupsOf(ep) });
    }
  }
  return peers;
}

/**
 * The connections the first matching rule allows from a client in `client` groups to a server in
 * `server` groups, every perimeter in protect (what would be enforced). `rules` in decision order.
 */
export function enforcedCells(rules: readonly Rule[], client: ReadonlySet<string>, server: ReadonlySet<string>): Cell[] {
  const allowed: Cell[] = [];
  let rest: Cell[] = fullSpace();
  for (const rule of rules) {
    if (!rule.from.some((g) => client.has(g)) || !rule.to.some((g) => server.has(g))) continue;
    const { inside, outside } = cut(rest, ruleCells(rule.ports, rule.applications));
    if (rule.action === 'allow') allowed.push(...inside);
    rest = outside;
    if (rest.length === 0) break;
  }
  return allowed;
}

const L4: Partial<Record<Cell['proto'], Protocol>> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

/** The TCP, UDP and SCTP part of the cells, whatever their applications: what L3/L4 can enforce. */
export function l4Connections(cells: readonly Cell[]): ConnectionSet {
  let out = noConnections();
  for (const c of cells) {
    const protocol = L4[c.proto];
    if (protocol !== undefined) out = union(out, portRange(protocol, Math.max(c.first, MIN_PORT), Math.min(c.last, MAX_PORT)));
  }
  return out;
}

/** Whether the cells are the whole space with any application: a rule without ports says that. */
export function isWholeSpace(cells: readonly Cell[]): boolean {
  return cut(fullSpace(), cells).outside.length === 0;
}

/** Whether a pair is enforced at all: at least one side must be a workload with a perimeter. */
export function hasPerimeter(client: ExportPeer, server: ExportPeer): boolean {
  return client.id !== server.id && (client.kind === 'workload' || server.kind === 'workload');
}
