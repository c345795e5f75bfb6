// Policy + inventory → an immutable structure that decides a connection with little work. Group
// membership is precomputed per address slot (a workload or node at one address) and per block of
// external addresses as a bitset; endpoints with equal membership share a profile, and each
// profile lists the rules that can involve it, sorted once and bucketed by port, so decide()
// walks a handful of rules.

import { canonicalIp, formatIp, parseAddressSpec, parseIp, parseIpv4, rangeContains, unmapV4, type IpAddr, type IpRange } from '../model/address.js';
import type { Connection } from '../model/connection.js';
import { compareRules, MODES, RESERVED_GROUPS, type Criterion, type Mode, type Policy, type Rule } from '../model/policy.js';
import type { Verdict } from '../model/verdict.js';
import type { Inventory, Workload } from '../model/workload.js';
import {
  assemblePendingVerdict,
  assembleVerdict,
  describeService,
  pendingReason,
  pendingSideVerdict,
  reasonHead,
  reasonSubject,
  sideVerdict,
  type Outcome,
  type SideVerdict,
  VerdictCache,
} from './decide.js';
import { explainDecision, type Explanation } from './explain.js';
import { fqdnMatches, isIdentityCriterion, leaseEnd, leaseStart, matchesIdentity, selectEnv, type Resolver } from './select.js';

export type { Resolver } from './select.js';

export interface CompileOptions {
  /** Clock for connections without `at` (milliseconds since the epoch). Default Date.now. */
  now?: () => number;
  /**
   * Entries of the cache of recent verdicts between known endpoints (rounded up to a power of
   * two; 0: no cache). Default DEFAULT_VERDICT_CACHE.
   */
  verdictCache?: number;
}

/**
 * Enough for the busy pairs of a node's traffic, small enough (about 200 KiB besides the verdict
 * parts it keeps alive) to stay out of the way when traffic does not repeat.
 */
export const DEFAULT_VERDICT_CACHE = 4096;

export interface CompiledPolicy {
  readonly defaultMode: Mode;
  /** Enabled rules in decision order (DESIGN.md, Order). */
  readonly rules: readonly Rule[];
  /** Group names: the reserved ones, then the policy's in document order. */
  readonly groups: readonly string[];
  decide(conn: Connection, dns?: Resolver): Verdict;
  explain(conn: Connection, dns?: Resolver): Explanation;
  /**
   * Groups the workload is in at any of its leased addresses, without DNS names (fqdn criteria do
   * not hold); a workload without addresses by identity alone. Empty for an unknown id.
   */
  groupsOfWorkload(id: string): readonly string[];
  /** Workloads for which groupsOfWorkload names the group, in inventory order. */
  workloadsOfGroup(name: string): readonly string[];
  /** Strictest mode among groupsOfWorkload that set one, else the policy's default. */
  modeOfWorkload(id: string): Mode;
}

/** An endpoint as decide sees it: its slot (or external) and the groups it is in at this moment. */
export interface Membership {
  /** Canonical address, or the text given when it is no address. */
  ip: string;
  kind: 'workload' | 'node' | 'external';
  /** Groups it is in now: its profile's bits, or `scratch` when a dynamic group added some. */
  bits: Uint32Array;
  scratch: Uint32Array;
  /** Address slot (a workload or node at this address), -1 for external. */
  slot: number;
  profile: number;
  /** A dynamic group (DNS names, IPv6 ranges of externals) holds for it at this moment. */
  dynamic: boolean;
}

interface CompiledSelector {
  /** Position among all compiled selectors: tells profiles apart. */
  id: number;
  group: number;
  identity: Criterion[];
  ranges: IpRange[];
  fqdn: string[];
}

/** A group that holds only if this decision's DNS names (and, for externals, address ranges) say so. */
interface DynamicCheck {
  /** The selector it comes from. */
  id: number;
  group: number;
  ranges: IpRange[];
  fqdn: string[];
}

/**
 * Candidate rules of one profile and direction, ascending rule index, packed in one array so a
 * walk reads sequential memory. [0..C] are offsets (C port classes): bucket c holds the rules
 * whose ports admit class c (so their ports need no check) from [c] to [c + 1] as pairs (rule,
 * check); the rest, walked for every port, run from [C] to the end as (rule, check, proto, first,
 * last), the rule's one port range inline (proto -1: several ranges, look them up). `check` is
 * the one group of the rule's other side left to test (this side's group is certain), or -1:
 * test all its groups.
 */
type RuleIndex = Int32Array;
const WIDE = 5;
/** Integers per IPv4 cell: the address and its entry. */
const V4_CELL = 4;
const RANGE_CHECKS = 1;
const NAME_CHECKS = 2;

/** The membership shared by every endpoint with the same certain and dynamic groups. */
interface Profile {
  /** Groups that hold whatever the decision. */
  bits: Uint32Array;
  dynamic: DynamicCheck[];
  /** The dynamic checks split by what they need: only the address, or DNS names too. */
  rangeChecks: DynamicCheck[];
  nameChecks: DynamicCheck[];
  /** Inline, so an endpoint without dynamic groups never touches the lists: RANGE_CHECKS | NAME_CHECKS. */
  checks: number;
  /** Rules through certain groups, used when no dynamic group holds. */
  egress: RuleIndex;
  ingress: RuleIndex;
  /** Rules through certain and dynamic groups. */
  egressAll: RuleIndex;
  ingressAll: RuleIndex;
  /** Index into MODES while no dynamic group holds. */
  mode: number;
}

interface Lease {
  start: number;
  end: number;
  slot: number;
}

/** What an address may be, while the slots are built. */
interface AddressEntry {
  /** Latest start first, inventory order on a tie. */
  leases: Lease[];
  nodeSlot: number;
}

/**
 * Addresses to slots, flattened so that classifying an IPv4 endpoint touches two records and no
 * strings: a cell of an open-addressing table that holds the address's entry inline, and its
 * leases (start, end, slot). An entry is (first lease, end of leases, node slot or -1).
 */
interface AddressTable {
  v4Mask: number;
  /** Per cell V4_CELL integers: the address as int32, then its entry; first lease -1 marks an empty cell. */
  v4Cells: Int32Array;
  /** IPv6 entries by canonical text. */
  v6: Map<string, number>;
  entries: Int32Array;
  leases: Float64Array;
}

/** Elementary IPv4 intervals of the address-only groups: bounds[i] <= a < bounds[i + 1] has profile[i]. */
interface V4Index {
  bounds: Float64Array;
  profile: Int32Array;
}

const ANY = 0;
const WORKLOADS = 1;
const NODES = 2;
const EXTERNAL = 3;
/** Protocols by code: a port class key is code * 65536 + port. */
const PROTOS = ['any', 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'other'] as const;
const PROTO_CODE = Object.fromEntries(PROTOS.map((p, code) => [p, code])) as Record<(typeof PROTOS)[number], number>;
/** Outcomes of a side by index; PENDING: a rule naming applications may still match. */
const OUTCOMES: readonly Outcome[] = ['allow', 'deny', 'default'];
const ALLOW = 0;
const DENY = 1;
const DEFAULT = 2;
const PENDING = 3;
const NO_RULE_HEAD = reasonHead(undefined);
const PORT_MIN = -0x80000000;
const PORT_MAX = 0x7fffffff;
/** A port range up to this many ports is bucketed port by port; wider ones are walked always. */
const MAX_BUCKETED_SPAN = 64;
/** A group in more than 1/BROAD_SHARE of the profiles has its rules in shared lists. */
const BROAD_SHARE = 4;
/** Per-profile rule lists may hold this many entries in all; beyond, the broadest groups are shared. */
const INDEX_BUDGET = 16_000_000;

const setBit = (bits: Uint32Array, g: number): void => {
  bits[g >>> 5] = (bits[g >>> 5] as number) | (1 << (g & 31));
};
const hasBit = (bits: Uint32Array, g: number): boolean => ((bits[g >>> 5] as number) & (1 << (g & 31))) !== 0;
const portKey = (proto: number, port: number): number => proto * 65536 + port;
const v4Hash = (v: number, mask: number): number => (Math.imul(v, 0x9e3779b1) >>> 7) & mask;

function buildAddressTable(addresses: Map<string, AddressEntry>): AddressTable {
  const size = 2 ** Math.ceil(Math.log2(Math.max(16, addresses.size * 2)));
  const leaseCount = [...addresses.values()].reduce((n, e) => n + e.leases.length, 0);
  const table: AddressTable = {
    v4Mask: size - 1,
    v4Cells: new Int32Array(V4_CELL * size).fill(-1),
    v6: new Map(),
    entries: new Int32Array(3 * addresses.size),
    leases: new Float64Array(3 * leaseCount),
  };
  let e = 0;
  let l = 0;
  for (const [ip, entry] of addresses) {
    table.entries[3 * e] = l;
    for (const lease of entry.leases) {
      table.leases[l++] = lease.start;
      table.leases[l++] = lease.end;
      table.leases[l++] = lease.slot;
    }
    table.entries[3 * e + 1] = l;
    table.entries[3 * e + 2] = entry.nodeSlot;
    const v4 = parseIpv4(ip);
    if (v4 === undefined) table.v6.set(ip, e);
    else {
      let cell = v4Hash(v4, table.v4Mask);
      while ((table.v4Cells[V4_CELL * cell + 1] as number) >= 0) cell = (cell + 1) & table.v4Mask;
      table.v4Cells[V4_CELL * cell] = v4 | 0;
      table.v4Cells.set(table.entries.subarray(3 * e, 3 * e + 3), V4_CELL * cell + 1);
    }
    e++;
  }
  return table;
}

/** Where the address's entry starts in v4Cells, or -1 for an address the table does not hold. */
function v4Entry(table: AddressTable, v4: number): number {
  const key = v4 | 0;
  for (let cell = v4Hash(v4, table.v4Mask); ; cell = (cell + 1) & table.v4Mask) {
    const i = V4_CELL * cell;
    if ((table.v4Cells[i + 1] as number) < 0) return -1;
    if (table.v4Cells[i] === key) return i + 1;
  }
}

/** Key of the first indexable identity criterion: the selector can only hold for workloads sharing it. */
function selectorKey(identity: Criterion[]): string | undefined {
  for (const c of identity) {
    if (c.kind === 'label' && c.req.op === 'eq' && c.req.values[0] !== undefined) return `l\0${c.req.key}\0${c.req.values[0]}`;
    if (c.kind === 'namespace') return `n\0${c.name}`;
    if (c.kind === 'service') return `s\0${c.name}`;
    if (c.kind === 'node') return `d\0${c.name}`;
  }
  return undefined;
}

function workloadKeys(w: Workload): string[] {
  const keys = [`n\0${w.namespace}`, `s\0${w.service}`, `d\0${w.node}`];
  for (const k of Object.keys(w.labels)) keys.push(`l\0${k}\0${w.labels[k]}`);
  return keys;
}

function inRanges(ranges: IpRange[], addr: IpAddr | undefined): boolean {
  for (const r of ranges) if (addr === undefined || !rangeContains(r, addr)) return false;
  return true;
}

/** Every pattern matches one of the names. */
function namesMatch(patterns: string[], names: readonly string[]): boolean {
  for (const p of patterns) {
    let found = false;
    for (const n of names) if ((found = fqdnMatches(p, n))) break;
    if (!found) return false;
  }
  return true;
}

/** Port classes a rule is bucketed under, or undefined when it must be walked for every port. */
function bucketKeys(rule: Rule): number[] | undefined {
  if (rule.ports.length === 0) return undefined;
  const keys: number[] = [];
  for (const p of rule.ports) {
    const last = p.last ?? p.first;
    if (p.proto === 'any' || p.first === undefined || last === undefined) return undefined;
    if (!Number.isInteger(p.first) || !Number.isInteger(last) || p.first < 0 || last > 65535) return undefined;
    if (last - p.first >= MAX_BUCKETED_SPAN) return undefined;
    for (let port = p.first; port <= last; port++) keys.push(portKey(PROTO_CODE[p.proto], port));
  }
  return keys;
}

/**
 * `rules` maps each candidate rule to what remains to check of its groups (see RuleIndex);
 * `portRange` gives a rule's single [proto, first, last], or undefined when it has several.
 */
function buildRuleIndex(
  rules: Map<number, number>,
  ruleClasses: (Int32Array | undefined)[],
  classCount: number,
  portRange: (r: number) => ArrayLike<number> | undefined,
): RuleIndex {
  const sorted = Int32Array.from(rules.keys()).sort();
  const counts = new Int32Array(classCount + 1);
  for (const r of sorted) for (const c of ruleClasses[r] ?? [classCount]) counts[c] = (counts[c] as number) + 1;
  let at = classCount + 1;
  const offsets = new Int32Array(classCount + 1);
  for (let c = 0; c < classCount; c++) {
    offsets[c] = at;
    at += 2 * (counts[c] as number);
  }
  offsets[classCount] = at;
  const index = new Int32Array(at + WIDE * (counts[classCount] as number));
  index.set(offsets);
  const fill = offsets.slice();
  for (const r of sorted) {
    const check = rules.get(r) as number;
    const classes = ruleClasses[r];
    if (classes === undefined) {
      const i = fill[classCount] as number;
      index[i] = r;
      index[i + 1] = check;
      index.set(portRange(r) ?? [-1, 0, 0], i + 2);
      fill[classCount] = i + WIDE;
      continue;
    }
    for (const c of classes) {
      const i = fill[c] as number;
      index[i] = r;
      index[i + 1] = check;
      fill[c] = i + 2;
    }
  }
  return index;
}

/** Elementary intervals of IPv4 ranges: starts[i] up to the next start holds groups[i]. */
function v4Intervals(entries: { group: number; first: number; last: number }[]): { starts: number[]; groups: number[][] } {
  const starts = [...new Set(entries.flatMap((e) => [e.first, e.last + 1]))].sort((a, b) => a - b);
  const at = new Map(starts.map((p, i) => [p, i]));
  const groups: number[][] = starts.map(() => []);
  for (const e of entries) {
    const end = at.get(e.last + 1) as number;
    for (let i = at.get(e.first) as number; i < end; i++) groups[i]?.push(e.group);
  }
  return { starts, groups };
}

interface CompiledGroups {
  names: string[];
  index: Map<string, number>;
  /** Index into MODES, -1 for a group without a mode. */
  modes: Int8Array;
  selectors: CompiledSelector[];
}

/** Reserved groups first (fixed indices), then the policy's; a repeated name keeps its first definition. */
function compileGroups(policy: Policy): CompiledGroups {
  const names: string[] = [...RESERVED_GROUPS];
  const index = new Map(names.map((n, i) => [n, i]));
  const modes: (Mode | undefined)[] = names.map(() => undefined);
  const selectors: CompiledSelector[] = [];
  const seen = new Set<string>();
  for (const g of policy.groups) {
    if (seen.has(g.name)) continue;
    seen.add(g.name);
    const reserved = index.get(g.name);
    if (reserved !== undefined) {
      modes[reserved] = g.mode;
      continue;
    }
    const group = names.length;
    names.push(g.name);
    index.set(g.name, group);
    modes.push(g.mode);
    for (const s of g.selectors) {
      const ranges = s.criteria.flatMap((c) => (c.kind === 'address' ? [parseAddressSpec(c.spec)] : []));
      // An address that does not parse holds for no endpoint, so neither does its selector.
      if (ranges.some((r) => r === undefined)) continue;
      selectors.push({
        id: selectors.length,
        group,
        identity: s.criteria.filter(isIdentityCriterion),
        ranges: ranges as IpRange[],
        fqdn: s.criteria.flatMap((c) => (c.kind === 'fqdn' ? [c.pattern] : [])),
      });
    }
  }
  return { names, index, modes: Int8Array.from(modes, (m) => (m === undefined ? -1 : MODES.indexOf(m))), selectors };
}

/** Finds, per workload, the selectors whose identity criteria hold, trying only plausible ones. */
function identityMatcher(selectors: CompiledSelector[], inventory: Inventory): (w: Workload) => CompiledSelector[] {
  const env = selectEnv(inventory);
  const byKey = new Map<string, CompiledSelector[]>();
  const unkeyed: CompiledSelector[] = [];
  const identityFree: CompiledSelector[] = [];
  for (const s of selectors) {
    const key = s.identity.length === 0 ? undefined : selectorKey(s.identity);
    if (s.identity.length === 0) identityFree.push(s);
    else if (key === undefined) unkeyed.push(s);
    else {
      const list = byKey.get(key);
      if (list) list.push(s);
      else byKey.set(key, [s]);
    }
  }
  return (w) => {
    const out = identityFree.slice();
    const tried = new Set<CompiledSelector>();
    const consider = (s: CompiledSelector): void => {
      if (tried.has(s)) return;
      tried.add(s);
      if (s.identity.every((c) => matchesIdentity(c, w, env))) out.push(s);
    };
    for (const key of workloadKeys(w)) byKey.get(key)?.forEach(consider);
    unkeyed.forEach(consider);
    return out;
  };
}

class Compiled implements CompiledPolicy {
  readonly defaultMode: Mode;
  readonly rules: readonly Rule[];
  readonly groups: readonly string[];
  private readonly inventory: Inventory;
  private readonly now: () => number;
  private readonly words: number;
  private readonly groupIndex: Map<string, number>;
  private readonly groupMode: Int8Array;
  private readonly modeGroups: number[] = [];
  // Rules, flattened: ports as [proto, first, last] triples, groups as from then to.
  private readonly portOff: Int32Array;
  private readonly ports: Int32Array;
  private readonly groupOff: Int32Array;
  private readonly ruleGroups: Int32Array;
  private readonly apps: (string[] | undefined)[] = [];
  private readonly portClass = new Map<number, number>();
  // Endpoints: addresses to slots, slots and external address blocks to profiles.
  private readonly table: AddressTable;
  /** Per slot (profile, workload index or -1, node index or -1); a list while building. */
  private readonly slots: Int32Array;
  private readonly profiles: Profile[] = [];
  private readonly profileKeys = new Map<string, number>();
  private readonly classCount: number;
  private readonly emptyIndex: RuleIndex;
  private readonly externalV4: V4Index;
  /** Profile of an external address in no IPv4 interval (IPv6, or no address at all). */
  private readonly externalProfile: number;
  private readonly sharedEgress: RuleIndex;
  private readonly sharedIngress: RuleIndex;
  private readonly workloadIndex = new Map<string, number>();
  private readonly workloadBits: Uint32Array[] = [];
  // Verdict pieces, shared by every decision that needs them (decide.ts): per rule its part of the
  // reason; per slot its name in reasons and the workload it stands for; per slot, side, mode and
  // outcome its SideVerdict, built on first use; per port class its service as reasons write it.
  private readonly reasonHeads: string[];
  private readonly pendingReasons: (string | undefined)[];
  private readonly slotNames: string[];
  /** Slots of one workload id share the number (the id's first inventory index); -1 for a node. */
  private readonly slotWorkload: Int32Array;
  private readonly sideVerdicts: (SideVerdict | undefined)[];
  private readonly classServices: string[] = [];
  /** Lower-case application names rules name, numbered from 1: part of a cached verdict's key. */
  private readonly appCodes = new Map<string, number>();
  private readonly cache: VerdictCache | undefined;
  // decide() is synchronous, so one scratch membership per endpoint serves every call.
  private readonly client: Membership;
  private readonly server: Membership;

  constructor(policy: Policy, inventory: Inventory, opts: CompileOptions) {
    this.defaultMode = policy.defaultMode;
    this.inventory = inventory;
    this.now = opts.now ?? Date.now;
    const groups = compileGroups(policy);
    this.groups = groups.names;
    this.groupIndex = groups.index;
    this.groupMode = groups.modes;
    this.groupMode.forEach((m, g) => m >= 0 && this.modeGroups.push(g));
    const groupCount = this.groups.length;
    this.words = (groupCount + 31) >>> 5;
    this.client = this.freshMembership();
    this.server = this.freshMembership();

    // Rules.
    this.rules = policy.rules.filter((r) => !r.disabled).sort(compareRules);
    const ruleCount = this.rules.length;
    this.portOff = new Int32Array(ruleCount + 1);
    this.groupOff = new Int32Array(2 * ruleCount + 1);
    const ports: number[] = [];
    const ruleGroups: number[] = [];
    const fromRules: number[][] = this.groups.map(() => []);
    const toRules: number[][] = this.groups.map(() => []);
    // The only group of a rule's from (to) side, else -1.
    const soleFrom: number[] = [];
    const soleTo: number[] = [];
    const ruleClasses: (Int32Array | undefined)[] = [];
    const classOf = (key: number): number => {
      let c = this.portClass.get(key);
      if (c === undefined) {
        this.portClass.set(key, (c = this.portClass.size));
        this.classServices.push(describeService(PROTOS[Math.floor(key / 65536)] as Connection['ipProto'], key % 65536));
      }
      return c;
    };
    this.rules.forEach((rule, r) => {
      for (const p of rule.ports.length === 0 ? [{ proto: 'any' as const }] : rule.ports) {
        // No first port means the whole protocol (`tcp/any`, `icmp`), whatever `last` says.
        if (p.first === undefined) ports.push(PROTO_CODE[p.proto], PORT_MIN, PORT_MAX);
        else ports.push(PROTO_CODE[p.proto], p.first, p.last ?? p.first);
      }
      this.portOff[r + 1] = ports.length;
      // A rule naming an unknown group can never match through it.
      const from = new Set(rule.from.flatMap((n) => this.groupIndex.get(n) ?? []));
      const to = new Set(rule.to.flatMap((n) => this.groupIndex.get(n) ?? []));
      ruleGroups.push(...from);
      this.groupOff[2 * r + 1] = ruleGroups.length;
      ruleGroups.push(...to);
      this.groupOff[2 * r + 2] = ruleGroups.length;
      soleFrom.push(from.size === 1 ? ([...from][0] as number) : -1);
      soleTo.push(to.size === 1 ? ([...to][0] as number) : -1);
      if (from.size > 0 && to.size > 0) {
        for (const g of from) fromRules[g]?.push(r);
        for (const g of to) toRules[g]?.push(r);
      }
      const apps = rule.applications.map((a) => a.toLowerCase());
      this.apps.push(apps.length === 0 || apps.includes('any') ? undefined : apps);
      const keys = bucketKeys(rule);
      ruleClasses.push(keys && Int32Array.from(new Set(keys), classOf));
    });
    this.ports = Int32Array.from(ports);
    this.ruleGroups = Int32Array.from(ruleGroups);
    for (const apps of this.apps) for (const a of apps ?? []) if (!this.appCodes.has(a)) this.appCodes.set(a, this.appCodes.size + 1);
    const cacheEntries = opts.verdictCache ?? DEFAULT_VERDICT_CACHE;
    this.cache = cacheEntries > 0 ? new VerdictCache(cacheEntries) : undefined;
    this.reasonHeads = this.rules.map(reasonHead);
    this.pendingReasons = this.rules.map((rule, r) => (this.apps[r] === undefined ? undefined : pendingReason(rule)));

    // Endpoints.
    const identityFree = groups.selectors.filter((s) => s.identity.length === 0);
    this.classCount = this.portClass.size;
    const portRange = (r: number): ArrayLike<number> | undefined => {
      const from = this.portOff[r] as number;
      return (this.portOff[r + 1] as number) - from === 3 ? this.ports.subarray(from, from + 3) : undefined;
    };
    const index = (rules: Map<number, number>): RuleIndex => buildRuleIndex(rules, ruleClasses, this.classCount, portRange);
    this.emptyIndex = index(new Map());
    const built = this.buildSlots(groups.selectors, identityFree);
    this.slots = Int32Array.from(built.slots);
    const slotCount = built.slots.length / 3;
    this.slotNames = Array.from({ length: slotCount }, (_, slot) => {
      const wi = this.slots[3 * slot + 1] as number;
      return wi >= 0 ? (this.inventory.workloads[wi] as Workload).name : `node ${this.inventory.nodes[this.slots[3 * slot + 2] as number]?.name}`;
    });
    this.slotWorkload = Int32Array.from({ length: slotCount }, (_, slot) => {
      const wi = this.slots[3 * slot + 1] as number;
      return wi >= 0 ? (this.workloadIndex.get((this.inventory.workloads[wi] as Workload).id) as number) : -1;
    });
    this.sideVerdicts = new Array<SideVerdict | undefined>(slotCount * 2 * MODES.length * (PENDING + 1)).fill(undefined);
    this.table = buildAddressTable(built.addresses);
    const external = this.buildExternal(identityFree);
    this.externalV4 = external.v4;
    this.externalProfile = external.profile;
    this.profileKeys.clear();

    // Rule lists per profile. Should they outgrow the budget, the groups costing most move to
    // shared lists that every endpoint walks as well.
    const profilesIn = new Int32Array(groupCount);
    const certainIn = new Int32Array(groupCount);
    for (const p of this.profiles) {
      for (let g = 0; g < groupCount; g++) if (hasBit(p.bits, g)) certainIn[g] = (certainIn[g] as number) + 1;
      for (const c of p.dynamic) profilesIn[c.group] = (profilesIn[c.group] as number) + 2;
    }
    certainIn.forEach((n, g) => (profilesIn[g] = (profilesIn[g] as number) + n));
    const weight = (rules: number[]): number => rules.reduce((sum, r) => sum + (ruleClasses[r]?.length ?? 1), 0);
    const cost = Array.from({ length: groupCount }, (_, g) => (weight(fromRules[g] ?? []) + weight(toRules[g] ?? [])) * (profilesIn[g] as number));
    let total = cost.reduce((a, b) => a + b, 0);
    // A group most profiles are in (`any`, `workloads`) would copy its rules into nearly every
    // list; shared once, the per-profile lists stay small enough to stay in the caches.
    const broad = Uint8Array.from(certainIn, (n) => (n > this.profiles.length / BROAD_SHARE ? 1 : 0));
    broad.forEach((b, g) => (total -= b * (cost[g] as number)));
    for (const g of [...cost.keys()].sort((a, b) => (cost[b] as number) - (cost[a] as number))) {
      if (total <= INDEX_BUDGET) break;
      broad[g] = 1;
      total -= cost[g] as number;
    }
    const broadGroups = [...broad.keys()].filter((g) => broad[g]);
    const allChecked = (rules: number[]): Map<number, number> => new Map(rules.map((r) => [r, -1]));
    const sharedEgress = allChecked(broadGroups.flatMap((g) => fromRules[g] ?? []));
    const sharedIngress = allChecked(broadGroups.flatMap((g) => toRules[g] ?? []));
    this.sharedEgress = index(sharedEgress);
    this.sharedIngress = index(sharedIngress);
    /** Rules through certain groups need only their other side checked; through dynamic ones, all. */
    const own = (certain: number[], dynamic: number[], byGroup: number[][], shared: Map<number, number>, sole: number[]): RuleIndex => {
      const rules = new Map<number, number>();
      for (const g of dynamic) if (!broad[g]) for (const r of byGroup[g] ?? []) if (!shared.has(r)) rules.set(r, -1);
      for (const g of certain) if (!broad[g]) for (const r of byGroup[g] ?? []) if (!shared.has(r)) rules.set(r, sole[r] as number);
      return index(rules);
    };
    for (const p of this.profiles) {
      const certain: number[] = [];
      for (let g = 0; g < groupCount; g++) if (hasBit(p.bits, g)) certain.push(g);
      const dynamic = p.dynamic.map((c) => c.group);
      p.egress = own(certain, [], fromRules, sharedEgress, soleTo);
      p.ingress = own(certain, [], toRules, sharedIngress, soleFrom);
      p.egressAll = dynamic.length === 0 ? p.egress : own(certain, dynamic, fromRules, sharedEgress, soleTo);
      p.ingressAll = dynamic.length === 0 ? p.ingress : own(certain, dynamic, toRules, sharedIngress, soleFrom);
      p.mode = this.rankOf(p.bits);
    }
  }

  private freshMembership(): Membership {
    return {
      ip: '',
      kind: 'external',
      bits: new Uint32Array(this.words),
      scratch: new Uint32Array(this.words),
      slot: -1,
      profile: -1,
      dynamic: false,
    };
  }

  /** The profile with exactly this membership, shared with every endpoint that has it. */
  private internProfile(bits: Uint32Array, dynamic: DynamicCheck[]): number {
    const key = `${bits.join(',')}|${dynamic.map((c) => c.id).join(',')}`;
    let p = this.profileKeys.get(key);
    if (p === undefined) {
      p = this.profiles.length;
      this.profileKeys.set(key, p);
      const rangeChecks = dynamic.filter((c) => c.fqdn.length === 0);
      const nameChecks = dynamic.filter((c) => c.fqdn.length > 0);
      const checks = (rangeChecks.length > 0 ? RANGE_CHECKS : 0) | (nameChecks.length > 0 ? NAME_CHECKS : 0);
      this.profiles.push({ bits, dynamic, rangeChecks, nameChecks, checks, egress: this.emptyIndex, ingress: this.emptyIndex, egressAll: this.emptyIndex, ingressAll: this.emptyIndex, mode: -1 });
    }
    return p;
  }

  /** Each (workload, address) and (node, address) pair becomes a slot with a membership profile. */
  private buildSlots(selectors: CompiledSelector[], identityFree: CompiledSelector[]): { addresses: Map<string, AddressEntry>; slots: number[] } {
    const addresses = new Map<string, AddressEntry>();
    const slots: number[] = [];
    const holdingSelectors = identityMatcher(selectors, this.inventory);
    const profileAt = (base: number, holding: CompiledSelector[], addr: IpAddr): number => {
      const bits = new Uint32Array(this.words);
      setBit(bits, ANY);
      setBit(bits, base);
      const fqdn: DynamicCheck[] = [];
      for (const s of holding) {
        if (!inRanges(s.ranges, addr)) continue;
        if (s.fqdn.length === 0) setBit(bits, s.group);
        else fqdn.push({ id: s.id, group: s.group, ranges: [], fqdn: s.fqdn });
      }
      return this.internProfile(bits, fqdn.filter((c) => !hasBit(bits, c.group)));
    };
    const addSlot = (workload: number, node: number, profile: number): number => {
      slots.push(profile, workload, node);
      return slots.length / 3 - 1;
    };
    const entryOf = (ip: string): AddressEntry => {
      let e = addresses.get(ip);
      if (!e) addresses.set(ip, (e = { leases: [], nodeSlot: -1 }));
      return e;
    };
    this.inventory.workloads.forEach((w, wi) => {
      if (!this.workloadIndex.has(w.id)) this.workloadIndex.set(w.id, wi);
      const holding = holdingSelectors(w);
      const union = new Uint32Array(this.words);
      const slotsByIp = new Map<string, number>();
      for (const lease of w.addresses) {
        const ip = canonicalIp(lease.ip);
        const start = leaseStart(lease);
        const end = leaseEnd(lease);
        // A lease that can never hold (unreadable or empty window) gives no slot.
        if (ip === undefined || !(start < end)) continue;
        let slot = slotsByIp.get(ip);
        if (slot === undefined) {
          slot = addSlot(wi, -1, profileAt(WORKLOADS, holding, parseIp(ip) as IpAddr));
          const bits = (this.profiles[slots[3 * slot] as number] as Profile).bits;
          bits.forEach((word, i) => (union[i] = (union[i] as number) | word));
          slotsByIp.set(ip, slot);
        }
        entryOf(ip).leases.push({ start, end, slot });
      }
      if (slotsByIp.size === 0) {
        setBit(union, ANY);
        setBit(union, WORKLOADS);
        for (const s of holding) if (s.ranges.length === 0 && s.fqdn.length === 0) setBit(union, s.group);
      }
      this.workloadBits.push(union);
    });
    // Stable sort: at an equal start the lease listed first stays first.
    for (const e of addresses.values()) e.leases.sort((a, b) => b.start - a.start);
    this.inventory.nodes.forEach((n, ni) => {
      for (const text of n.addresses) {
        const ip = canonicalIp(text);
        if (ip === undefined) continue;
        const e = entryOf(ip);
        if (e.nodeSlot < 0) e.nodeSlot = addSlot(-1, ni, profileAt(NODES, identityFree, parseIp(ip) as IpAddr));
      }
    });
    return { addresses, slots };
  }

  /**
   * External addresses: IPv4 ranges of address-only groups cut the address space into intervals,
   * each with a profile; IPv6 ranges and fqdn criteria stay dynamic.
   */
  private buildExternal(identityFree: CompiledSelector[]): { v4: V4Index; profile: number } {
    const base = new Uint32Array(this.words);
    setBit(base, ANY);
    setBit(base, EXTERNAL);
    const dynamic: DynamicCheck[] = [];
    const v4: { group: number; first: number; last: number }[] = [];
    for (const s of identityFree) {
      if (s.fqdn.length > 0 || s.ranges.some((r) => r.version === 6)) dynamic.push(s);
      else if (s.ranges.length === 0) setBit(base, s.group);
      else {
        // An address in every range is in their intersection.
        let first = 0;
        let last = 0xffffffff;
        for (const r of s.ranges) {
          first = Math.max(first, r.first as number);
          last = Math.min(last, r.last as number);
        }
        if (first <= last) v4.push({ group: s.group, first, last });
      }
    }
    const live = dynamic.filter((c) => !hasBit(base, c.group));
    const { starts, groups } = v4Intervals(v4);
    const profile = Int32Array.from(groups, (list) => {
      const bits = base.slice();
      for (const g of list) setBit(bits, g);
      return this.internProfile(bits, live.filter((c) => !hasBit(bits, c.group)));
    });
    return { v4: { bounds: Float64Array.from(starts), profile }, profile: this.internProfile(base, live) };
  }

  /** Strictest mode among the groups set in bits, as an index into MODES. */
  private rankOf(bits: Uint32Array): number {
    let best = -1;
    for (const g of this.modeGroups) if (hasBit(bits, g) && (this.groupMode[g] as number) > best) best = this.groupMode[g] as number;
    return best >= 0 ? best : MODES.indexOf(this.defaultMode);
  }

  /** Classifies one endpoint at `at` into `out`, with the groups it is in now. */
  private classify(ipText: string, at: number, dns: Resolver | undefined, out: Membership): Membership {
    const t = this.table;
    // Dotted quads that parse are canonical already; anything else is parsed and reformatted.
    let ip = ipText;
    let v4 = parseIpv4(ipText);
    let v6: IpAddr | undefined;
    // The address's entry: at `entry` in `entries`, -1 when the table does not hold it.
    let entries = t.v4Cells;
    let entry = -1;
    if (v4 !== undefined) entry = v4Entry(t, v4);
    else {
      const parsed = parseIp(ipText);
      if (parsed !== undefined) {
        const a = unmapV4(parsed);
        ip = formatIp(a);
        if (a.version === 4) entry = v4Entry(t, (v4 = a.value));
        else {
          // Outside its leases a known address is external, and its address groups need it.
          v6 = a;
          const e = t.v6.get(ip);
          if (e !== undefined) (entries = t.entries), (entry = 3 * e);
        }
      }
    }
    let slot = -1;
    if (entry >= 0) {
      for (let l = entries[entry] as number, end = entries[entry + 1] as number; l < end; l += 3) {
        if ((t.leases[l] as number) <= at && at < (t.leases[l + 1] as number)) {
          slot = t.leases[l + 2] as number;
          break;
        }
      }
      if (slot < 0) slot = entries[entry + 2] as number;
    }
    let profile: number;
    out.ip = ip;
    out.slot = slot;
    if (slot >= 0) {
      profile = this.slots[3 * slot] as number;
      out.kind = (this.slots[3 * slot + 1] as number) >= 0 ? 'workload' : 'node';
    } else {
      profile = v4 !== undefined ? this.externalV4Profile(v4) : this.externalProfile;
      out.kind = 'external';
    }
    const p = this.profiles[profile] as Profile;
    out.profile = profile;
    out.bits = p.bits;
    out.dynamic = false;
    if (p.checks === 0 || (p.checks === NAME_CHECKS && dns === undefined)) return out;
    // Dynamic groups: only external addresses have range checks, so only they need the address.
    const addr: IpAddr | undefined = v4 !== undefined ? { version: 4, value: v4 } : v6;
    for (const c of p.rangeChecks) if (inRanges(c.ranges, addr)) this.addDynamic(out, c.group);
    if (dns === undefined || p.nameChecks.length === 0) return out;
    const names = dns.namesOf(ip);
    if (names.length === 0) return out;
    for (const c of p.nameChecks) if (inRanges(c.ranges, addr) && namesMatch(c.fqdn, names)) this.addDynamic(out, c.group);
    return out;
  }

  private addDynamic(m: Membership, group: number): void {
    if (!m.dynamic) {
      m.scratch.set(m.bits);
      m.bits = m.scratch;
      m.dynamic = true;
    }
    setBit(m.bits, group);
  }

  private externalV4Profile(value: number): number {
    const { bounds, profile } = this.externalV4;
    let lo = 0;
    let hi = bounds.length - 1;
    // The last bound at or below the address starts its interval.
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((bounds[mid] as number) <= value) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 ? (profile[hi] as number) : this.externalProfile;
  }

  portsAdmit(r: number, proto: number, port: number): boolean {
    for (let i = this.portOff[r] as number, end = this.portOff[r + 1] as number; i < end; i += 3) {
      const p = this.ports[i] as number;
      if ((p === 0 || p === proto) && port >= (this.ports[i + 1] as number) && port <= (this.ports[i + 2] as number)) return true;
    }
    return false;
  }

  /** The port range stored with a wide entry at i, or the rule's ranges when it has several. */
  private widePortAdmits(index: RuleIndex, i: number, r: number, proto: number, port: number): boolean {
    const p = index[i + 2] as number;
    if (p < 0) return this.portsAdmit(r, proto, port);
    return (p === 0 || p === proto) && port >= (index[i + 3] as number) && port <= (index[i + 4] as number);
  }

  /** Some from-group of rule r holds for the client and some to-group for the server. */
  groupsHold(r: number, client: Uint32Array, server: Uint32Array): boolean {
    const g = this.ruleGroups;
    const mid = this.groupOff[2 * r + 1] as number;
    const end = this.groupOff[2 * r + 2] as number;
    let i = this.groupOff[2 * r] as number;
    while (i < mid && !hasBit(client, g[i] as number)) i++;
    if (i === mid) return false;
    for (i = mid; i < end; i++) if (hasBit(server, g[i] as number)) return true;
    return false;
  }

  /** Applications a rule names, lower-case; undefined when it admits any. */
  applicationsOf(r: number): readonly string[] | undefined {
    return this.apps[r];
  }

  protoCode(ipProto: Connection['ipProto']): number {
    return PROTO_CODE[ipProto];
  }

  /** The port class rules are bucketed under, -1 for a port no bucket names. */
  private portClassOf(proto: number, port: number): number {
    return Number.isInteger(port) && port >= 0 && port <= 65535 ? (this.portClass.get(portKey(proto, port)) ?? -1) : -1;
  }

  /**
   * The first rule that matches, in decision order: its index r when it decides, -2 - r when it
   * names applications DPI is still identifying (pending), -1 when none matches.
   */
  firstMatch(conn: Connection, client: Membership, server: Membership): number {
    const proto = PROTO_CODE[conn.ipProto];
    const port = conn.server.port;
    const c = this.portClassOf(proto, port);
    const cp = this.profiles[client.profile] as Profile;
    const sp = this.profiles[server.profile] as Profile;
    const ce = client.dynamic ? cp.egressAll : cp.egress;
    const si = server.dynamic ? sp.ingressAll : sp.ingress;
    const se = this.sharedEgress;
    const ss = this.sharedIngress;
    const C = this.classCount;
    // Every matching rule is on both sides' lists: walking the shorter side is enough. Sizes of
    // whole lists stand in for the bucket's, so only the walked list is touched.
    const walkClient = ce.length + se.length <= si.length + ss.length;
    const x = walkClient ? ce : si;
    const y = walkClient ? se : ss;
    const other = walkClient ? server.bits : client.bits;
    // Four ascending sequences of (rule, check) pairs merged: x's bucket and wide ones, y's too.
    let p0 = c >= 0 ? (x[c] as number) : 0;
    const e0 = c >= 0 ? (x[c + 1] as number) : 0;
    let p1 = x[C] as number;
    let p2 = c >= 0 ? (y[c] as number) : 0;
    const e2 = c >= 0 ? (y[c + 1] as number) : 0;
    let p3 = y[C] as number;
    for (;;) {
      let r = PORT_MAX;
      let from = -1;
      if (p0 < e0) (r = x[p0] as number), (from = 0);
      if (p1 < x.length && (x[p1] as number) < r) (r = x[p1] as number), (from = 1);
      if (p2 < e2 && (y[p2] as number) < r) (r = y[p2] as number), (from = 2);
      if (p3 < y.length && (y[p3] as number) < r) (r = y[p3] as number), (from = 3);
      let check: number;
      if (from === 0) (check = x[p0 + 1] as number), (p0 += 2);
      else if (from === 2) (check = y[p2 + 1] as number), (p2 += 2);
      else if (from === 1) {
        check = x[p1 + 1] as number;
        p1 += WIDE;
        if (!this.widePortAdmits(x, p1 - WIDE, r, proto, port)) continue;
      } else if (from === 3) {
        check = y[p3 + 1] as number;
        p3 += WIDE;
        if (!this.widePortAdmits(y, p3 - WIDE, r, proto, port)) continue;
      } else return -1;
      if (check >= 0 ? !hasBit(other, check) : !this.groupsHold(r, client.bits, server.bits)) continue;
      const apps = this.apps[r];
      if (apps === undefined || (conn.app !== undefined && apps.includes(conn.app.toLowerCase()))) return r;
      if (conn.appPending) return -2 - r;
    }
  }

  /** The shared SideVerdict of a workload endpoint's perimeter for one outcome (an OUTCOMES index or PENDING). */
  private sideVerdictOf(m: Membership, side: 'egress' | 'ingress', outcome: number): SideVerdict {
    const mode = m.dynamic ? this.rankOf(m.bits) : (this.profiles[m.profile] as Profile).mode;
    const k = ((m.slot * 2 + (side === 'egress' ? 0 : 1)) * MODES.length + mode) * (PENDING + 1) + outcome;
    let v = this.sideVerdicts[k];
    if (v === undefined) {
      const w = this.workloadOf(m) as Workload;
      const s = { workload: w.id, name: w.name, side, mode: MODES[mode] as Mode };
      v = this.sideVerdicts[k] = outcome === PENDING ? pendingSideVerdict(s) : sideVerdict(s, OUTCOMES[outcome] as Outcome);
    }
    return v;
  }

  /** The workload an endpoint is, when it is one. Not stored in the membership: decide rarely needs it. */
  workloadOf(m: Membership): Workload | undefined {
    return m.slot >= 0 ? this.inventory.workloads[this.slots[3 * m.slot + 1] as number] : undefined;
  }

  /** The node name of an endpoint that is a node's address. */
  nodeOf(m: Membership): string | undefined {
    return m.kind === 'node' ? this.inventory.nodes[this.slots[3 * m.slot + 2] as number]?.name : undefined;
  }

  /** How an endpoint reads in a reason: the workload's name, `node <name>`, or the address. */
  private displayName(m: Membership): string {
    return m.slot >= 0 ? (this.slotNames[m.slot] as string) : m.ip;
  }

  verdictFor(conn: Connection, client: Membership, server: Membership, match: number): Verdict {
    const r = match >= 0 ? match : -2 - match;
    const rule = match === -1 ? undefined : (this.rules[r] as Rule);
    const outcome = rule === undefined ? DEFAULT : match <= -2 ? PENDING : rule.action === 'allow' ? ALLOW : DENY;
    const egress = client.kind === 'workload' ? this.sideVerdictOf(client, 'egress', outcome) : undefined;
    const ingress = server.kind === 'workload' ? this.sideVerdictOf(server, 'ingress', outcome) : undefined;
    if (outcome === PENDING) return assemblePendingVerdict((rule as Rule).id, this.pendingReasons[r] as string, egress, ingress, this.defaultMode);
    const port = conn.server.port;
    const c = this.portClassOf(PROTO_CODE[conn.ipProto], port);
    const service = c >= 0 ? (this.classServices[c] as string) : describeService(conn.ipProto, port);
    return assembleVerdict(
      rule === undefined ? 'default' : rule.id,
      rule === undefined ? NO_RULE_HEAD : (this.reasonHeads[r] as string),
      reasonSubject(this.displayName(client), this.displayName(server), service),
      egress,
      ingress,
      egress !== undefined && ingress !== undefined && this.slotWorkload[client.slot] === this.slotWorkload[server.slot],
      this.defaultMode,
    );
  }

  decide(conn: Connection, dns?: Resolver): Verdict {
    const at = conn.at ?? this.now();
    const client = this.classify(conn.client.ip, at, dns, this.client);
    const server = this.classify(conn.server.ip, at, dns, this.server);
    // Between two slots whose groups are certain, nothing but the service and what DPI knows
    // changes the verdict (an external address's verdict names the address: not cached).
    const port = conn.server.port;
    const cache = this.cache;
    if (cache === undefined || client.slot < 0 || server.slot < 0 || client.dynamic || server.dynamic || !(port >= 0 && port <= 65535 && Number.isInteger(port))) {
      return this.verdictFor(conn, client, server, this.firstMatch(conn, client, server));
    }
    const service = portKey(PROTO_CODE[conn.ipProto], port);
    const app = ((conn.app === undefined ? 0 : (this.appCodes.get(conn.app.toLowerCase()) ?? 0)) << 1) | (conn.appPending ? 1 : 0);
    const cached = cache.get(client.slot, server.slot, service, app);
    if (cached !== undefined) return cached;
    const v = this.verdictFor(conn, client, server, this.firstMatch(conn, client, server));
    cache.missed(client.slot, server.slot, service, app, v);
    return v;
  }

  explain(conn: Connection, dns?: Resolver): Explanation {
    const at = conn.at ?? this.now();
    // Fresh memberships: the explanation outlives this call.
    const client = this.classify(conn.client.ip, at, dns, this.freshMembership());
    const server = this.classify(conn.server.ip, at, dns, this.freshMembership());
    const match = this.firstMatch(conn, client, server);
    const verdict = this.verdictFor(conn, client, server, match);
    const rule = match >= 0 ? this.rules[match] : match <= -2 ? this.rules[-2 - match] : undefined;
    return explainDecision(this, conn, client, server, verdict, rule);
  }

  groupNamesOf(bits: Uint32Array): string[] {
    return this.groups.filter((_, g) => hasBit(bits, g));
  }

  /** The mode the groups in bits give, and the group that set it ("default" when none did). */
  modeOf(bits: Uint32Array): { mode: Mode; from: string } {
    let best = -1;
    let from = 'default';
    for (const g of this.modeGroups) {
      if (hasBit(bits, g) && (this.groupMode[g] as number) > best) {
        best = this.groupMode[g] as number;
        from = this.groups[g] as string;
      }
    }
    return best >= 0 ? { mode: MODES[best] as Mode, from } : { mode: this.defaultMode, from };
  }

  groupsOfWorkload(id: string): readonly string[] {
    const wi = this.workloadIndex.get(id);
    return wi === undefined ? [] : this.groupNamesOf(this.workloadBits[wi] as Uint32Array);
  }

  workloadsOfGroup(name: string): readonly string[] {
    const g = this.groupIndex.get(name);
    if (g === undefined) return [];
    return this.inventory.workloads.filter((_, wi) => hasBit(this.workloadBits[wi] as Uint32Array, g)).map((w) => w.id);
  }

  modeOfWorkload(id: string): Mode {
    const wi = this.workloadIndex.get(id);
    return wi === undefined ? this.defaultMode : (MODES[this.rankOf(this.workloadBits[wi] as Uint32Array)] as Mode);
  }
}

/** What explain reads: the compiled policy with its internals. */
export type CompiledView = Compiled;

export function compile(policy: Policy, inventory: Inventory, opts: CompileOptions = {}): CompiledPolicy {
  return new Compiled(policy, inventory, opts);
}
