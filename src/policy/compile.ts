// Policy + inventory → an immutable structure that decides a connection with little work: group
// membership precomputed per address slot (a workload or node at one address) as bitsets, rules
// sorted once and indexed per slot, so decide() walks only rules that can involve the endpoint.

import { canonicalIp, parseAddressSpec, parseIp, rangeContains, unmapV4, type IpAddr, type IpRange } from '../model/address.js';
import type { Connection } from '../model/connection.js';
import { compareRules, MODES, RESERVED_GROUPS, type Criterion, type Mode, type Policy, type Rule } from '../model/policy.js';
import type { Verdict } from '../model/verdict.js';
import type { Inventory, Workload } from '../model/workload.js';
import { describeService, pendingVerdictOf, verdictOf, type Side } from './decide.js';
import { explainDecision, type Explanation } from './explain.js';
import { fqdnMatches, isIdentityCriterion, leaseEnd, leaseStart, matchesIdentity, selectEnv, type Resolver } from './select.js';

export type { Resolver } from './select.js';

export interface CompileOptions {
  /** Clock for connections without `at` (milliseconds since the epoch). Default Date.now. */
  now?: () => number;
}

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

/** An endpoint as decide sees it: a slot, or external, with its group bits at this moment. */
export interface Membership {
  /** Canonical address, or the text given when it is no address. */
  ip: string;
  kind: 'workload' | 'node' | 'external';
  workload: Workload | undefined;
  node: string | undefined;
  bits: Uint32Array;
  /** Address slot (a workload or node at this address), -1 for external. */
  slot: number;
}

interface CompiledSelector {
  group: number;
  identity: Criterion[];
  ranges: IpRange[];
  fqdn: string[];
}

interface FqdnCheck {
  group: number;
  ranges: IpRange[];
  fqdn: string[];
}

/** The membership shared by every slot with the same certain groups and DNS-dependent groups. */
interface Profile {
  bits: Uint32Array;
  fqdn: FqdnCheck[];
  /** Candidate rules not in the shared lists, ascending rule index. */
  egress: Int32Array;
  ingress: Int32Array;
  /** Mode rank when no DNS-dependent group sets a mode, else -1 (computed per decision). */
  mode: number;
}

interface Lease {
  start: number;
  end: number;
  slot: number;
}

interface AddressEntry {
  /** Latest start first, inventory order on a tie. */
  leases: Lease[];
  nodeSlot: number;
}

const ANY = 0;
const WORKLOADS = 1;
const NODES = 2;
const EXTERNAL = 3;
const PROTO_CODE: Record<string, number> = { any: 0, tcp: 1, udp: 2, sctp: 3, icmp: 4, icmpv6: 5, other: 6 };
const PORT_MIN = -0x80000000;
const PORT_MAX = 0x7fffffff;
const EMPTY = new Int32Array(0);

const setBit = (bits: Uint32Array, g: number): void => {
  bits[g >>> 5] = (bits[g >>> 5] as number) | (1 << (g & 31));
};
const hasBit = (bits: Uint32Array, g: number): boolean => ((bits[g >>> 5] as number) & (1 << (g & 31))) !== 0;

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
  for (const p of patterns) if (!names.some((n) => fqdnMatches(p, n))) return false;
  return true;
}

class Compiled implements CompiledPolicy {
  readonly defaultMode: Mode;
  readonly rules: readonly Rule[];
  readonly groups: string[];
  private readonly now: () => number;
  private readonly words: number;
  private readonly groupMode: Int8Array;
  private readonly modeGroups: number[];
  // Rules, flattened: ports as [proto, first, last] triples, groups as from then to.
  private readonly portOff: Int32Array;
  private readonly ports: Int32Array;
  private readonly groupOff: Int32Array;
  private readonly ruleGroups: Int32Array;
  private readonly apps: (string[] | undefined)[];
  // Endpoints.
  private readonly addresses = new Map<string, AddressEntry>();
  private readonly slotProfile: number[] = [];
  private readonly slotWorkload: number[] = [];
  private readonly slotNode: number[] = [];
  private readonly profiles: Profile[] = [];
  private readonly sharedEgress: Int32Array;
  private readonly sharedIngress: Int32Array;
  private readonly externalBits: Uint32Array;
  private readonly externalChecks: FqdnCheck[] = [];
  private readonly externalEgress: Int32Array;
  private readonly externalIngress: Int32Array;
  private readonly inventory: Inventory;
  private readonly workloadIndex = new Map<string, number>();
  private readonly workloadBits: Uint32Array[] = [];
  private readonly groupIndex = new Map<string, number>();
  // Scratch bitsets for DNS-dependent membership; decide is synchronous, so two suffice.
  private readonly clientScratch: Uint32Array;
  private readonly serverScratch: Uint32Array;

  constructor(policy: Policy, inventory: Inventory, opts: CompileOptions) {
    this.defaultMode = policy.defaultMode;
    this.inventory = inventory;
    this.now = opts.now ?? Date.now;

    // Groups: reserved first (fixed indices), then the policy's; a repeated name keeps its first definition.
    this.groups = [...RESERVED_GROUPS];
    RESERVED_GROUPS.forEach((g, i) => this.groupIndex.set(g, i));
    const modes: (Mode | undefined)[] = RESERVED_GROUPS.map(() => undefined);
    const selectors: CompiledSelector[] = [];
    const seen = new Set<string>();
    for (const g of policy.groups) {
      if (seen.has(g.name)) continue;
      seen.add(g.name);
      let index = this.groupIndex.get(g.name);
      if (index === undefined) {
        index = this.groups.length;
        this.groups.push(g.name);
        this.groupIndex.set(g.name, index);
        modes.push(g.mode);
        for (const s of g.selectors) {
          const ranges = s.criteria.filter((c) => c.kind === 'address').map((c) => parseAddressSpec(c.spec));
          // An address that does not parse can hold for no endpoint, so neither can its selector.
          if (ranges.some((r) => r === undefined)) continue;
          selectors.push({
            group: index,
            identity: s.criteria.filter(isIdentityCriterion),
            ranges: ranges as IpRange[],
            fqdn: s.criteria.flatMap((c) => (c.kind === 'fqdn' ? [c.pattern] : [])),
          });
        }
      } else {
        modes[index] = g.mode;
      }
    }
    const groupCount = this.groups.length;
    this.words = (groupCount + 31) >>> 5;
    this.groupMode = Int8Array.from(modes, (m) => (m === undefined ? -1 : MODES.indexOf(m)));
    this.modeGroups = [];
    this.groupMode.forEach((m, g) => m >= 0 && this.modeGroups.push(g));
    this.clientScratch = new Uint32Array(this.words);
    this.serverScratch = new Uint32Array(this.words);

    // Rules.
    this.rules = policy.rules.filter((r) => !r.disabled).sort(compareRules);
    const ruleCount = this.rules.length;
    this.portOff = new Int32Array(ruleCount + 1);
    this.groupOff = new Int32Array(2 * ruleCount + 1);
    const ports: number[] = [];
    const ruleGroups: number[] = [];
    this.apps = [];
    const fromRules: number[][] = this.groups.map(() => []);
    const toRules: number[][] = this.groups.map(() => []);
    this.rules.forEach((rule, r) => {
      for (const p of rule.ports.length === 0 ? [{ proto: 'any' as const }] : rule.ports) {
        // No first port means the whole protocol (`tcp/any`, `icmp`), whatever `last` says.
        if (p.first === undefined) ports.push(PROTO_CODE[p.proto] as number, PORT_MIN, PORT_MAX);
        else ports.push(PROTO_CODE[p.proto] as number, p.first, p.last ?? p.first);
      }
      this.portOff[r + 1] = ports.length;
      // A rule naming an unknown group can never match through it.
      const from = new Set(rule.from.flatMap((n) => this.groupIndex.get(n) ?? []));
      const to = new Set(rule.to.flatMap((n) => this.groupIndex.get(n) ?? []));
      for (const g of from) ruleGroups.push(g);
      this.groupOff[2 * r + 1] = ruleGroups.length;
      for (const g of to) ruleGroups.push(g);
      this.groupOff[2 * r + 2] = ruleGroups.length;
      if (from.size > 0 && to.size > 0) {
        for (const g of from) fromRules[g]?.push(r);
        for (const g of to) toRules[g]?.push(r);
      }
      const apps = rule.applications.map((a) => a.toLowerCase());
      this.apps.push(apps.length === 0 || apps.includes('any') ? undefined : apps);
    });
    this.ports = Int32Array.from(ports);
    this.ruleGroups = Int32Array.from(ruleGroups);

    // Identity membership per workload: only selectors sharing an indexable key are tried.
    const env = selectEnv(inventory);
    const byKey = new Map<string, CompiledSelector[]>();
    const unkeyed: CompiledSelector[] = [];
    const identityFree: CompiledSelector[] = [];
    for (const s of selectors) {
      if (s.identity.length === 0) {
        identityFree.push(s);
        continue;
      }
      const key = selectorKey(s.identity);
      if (key === undefined) unkeyed.push(s);
      else {
        const list = byKey.get(key);
        if (list) list.push(s);
        else byKey.set(key, [s]);
      }
    }
    const holdingSelectors = (w: Workload): CompiledSelector[] => {
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

    // Slots: each (workload, address) and (node, address) pair, with its membership profile.
    const profileKeys = new Map<string, number>();
    const profileSlots: number[] = [];
    const membershipOf = (base: number, holding: CompiledSelector[], addr: IpAddr): { bits: Uint32Array; fqdn: FqdnCheck[] } => {
      const bits = new Uint32Array(this.words);
      setBit(bits, ANY);
      setBit(bits, base);
      const fqdn: FqdnCheck[] = [];
      for (const s of holding) {
        if (!inRanges(s.ranges, addr)) continue;
        if (s.fqdn.length === 0) setBit(bits, s.group);
        else fqdn.push({ group: s.group, ranges: [], fqdn: s.fqdn });
      }
      return { bits, fqdn: fqdn.filter((c) => !hasBit(bits, c.group)) };
    };
    const addSlot = (workload: number, node: number, m: { bits: Uint32Array; fqdn: FqdnCheck[] }): number => {
      const key = `${m.bits.join(',')}|${m.fqdn.map((c) => `${c.group}:${c.fqdn.join(',')}`).join(';')}`;
      let p = profileKeys.get(key);
      if (p === undefined) {
        p = this.profiles.length;
        profileKeys.set(key, p);
        this.profiles.push({ bits: m.bits, fqdn: m.fqdn, egress: EMPTY, ingress: EMPTY, mode: -1 });
        profileSlots.push(0);
      }
      profileSlots[p] = (profileSlots[p] as number) + 1;
      this.slotProfile.push(p);
      this.slotWorkload.push(workload);
      this.slotNode.push(node);
      return this.slotProfile.length - 1;
    };
    const entryOf = (ip: string): AddressEntry => {
      let e = this.addresses.get(ip);
      if (!e) {
        e = { leases: [], nodeSlot: -1 };
        this.addresses.set(ip, e);
      }
      return e;
    };
    inventory.workloads.forEach((w, wi) => {
      if (!this.workloadIndex.has(w.id)) this.workloadIndex.set(w.id, wi);
      const holding = holdingSelectors(w);
      const union = new Uint32Array(this.words);
      const slotsByIp = new Map<string, number>();
      for (const lease of w.addresses) {
        const ip = canonicalIp(lease.ip);
        const start = leaseStart(lease);
        const end = leaseEnd(lease);
        if (ip === undefined || !(start < end)) continue;
        let slot = slotsByIp.get(ip);
        if (slot === undefined) {
          const m = membershipOf(WORKLOADS, holding, parseIp(ip) as IpAddr);
          m.bits.forEach((word, i) => (union[i] = (union[i] as number) | word));
          slot = addSlot(wi, -1, m);
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
    for (const e of this.addresses.values()) e.leases.sort((a, b) => b.start - a.start);
    const nodeHolding = identityFree;
    inventory.nodes.forEach((n, ni) => {
      for (const text of n.addresses) {
        const ip = canonicalIp(text);
        if (ip === undefined) continue;
        const e = entryOf(ip);
        if (e.nodeSlot < 0) e.nodeSlot = addSlot(-1, ni, membershipOf(NODES, nodeHolding, parseIp(ip) as IpAddr));
      }
    });

    // Externals: membership depends on the address and names, so it is computed per decision.
    this.externalBits = new Uint32Array(this.words);
    setBit(this.externalBits, ANY);
    setBit(this.externalBits, EXTERNAL);
    for (const s of identityFree) {
      if (s.ranges.length === 0 && s.fqdn.length === 0) setBit(this.externalBits, s.group);
      else this.externalChecks.push({ group: s.group, ranges: s.ranges, fqdn: s.fqdn });
    }
    const externalGroups = new Set<number>([ANY, EXTERNAL, ...identityFree.map((s) => s.group)]);

    // Candidate rule lists. Rules through groups most slots may be in go to shared lists that
    // every slot walks, so per-slot lists stay short and memory stays linear.
    const mayContain = new Int32Array(groupCount);
    this.profiles.forEach((p, pi) => {
      const n = profileSlots[pi] as number;
      for (let g = 0; g < groupCount; g++) if (hasBit(p.bits, g)) mayContain[g] = (mayContain[g] as number) + n;
      for (const c of p.fqdn) mayContain[c.group] = (mayContain[c.group] as number) + n;
    });
    const broadLimit = Math.max(64, this.slotProfile.length / 16);
    const broad = (g: number): boolean => g === ANY || g === WORKLOADS || g === NODES || (mayContain[g] as number) > broadLimit;
    const collect = (groups: Iterable<number>, index: number[][], skip: Uint8Array | undefined): Int32Array => {
      const rules = new Set<number>();
      for (const g of groups) for (const r of index[g] as number[]) if (!skip || !skip[r]) rules.add(r);
      return Int32Array.from(rules).sort();
    };
    const broadGroups = [...Array(groupCount).keys()].filter(broad);
    this.sharedEgress = collect(broadGroups, fromRules, undefined);
    this.sharedIngress = collect(broadGroups, toRules, undefined);
    const inSharedEgress = new Uint8Array(ruleCount);
    const inSharedIngress = new Uint8Array(ruleCount);
    this.sharedEgress.forEach((r) => (inSharedEgress[r] = 1));
    this.sharedIngress.forEach((r) => (inSharedIngress[r] = 1));
    for (const p of this.profiles) {
      const groups: number[] = p.fqdn.map((c) => c.group);
      for (let g = 0; g < groupCount; g++) if (hasBit(p.bits, g) && !broad(g)) groups.push(g);
      p.egress = collect(groups, fromRules, inSharedEgress);
      p.ingress = collect(groups, toRules, inSharedIngress);
      p.mode = p.fqdn.some((c) => (this.groupMode[c.group] as number) >= 0) ? -1 : this.rankOf(p.bits);
    }
    this.externalEgress = collect(externalGroups, fromRules, undefined);
    this.externalIngress = collect(externalGroups, toRules, undefined);
  }

  /** Strictest mode among the groups set in bits, as an index of MODES. */
  private rankOf(bits: Uint32Array): number {
    let best = -1;
    for (const g of this.modeGroups) if (hasBit(bits, g) && (this.groupMode[g] as number) > best) best = this.groupMode[g] as number;
    return best >= 0 ? best : MODES.indexOf(this.defaultMode);
  }

  /** The slot holding the canonical address at `at`, or -1 for external. */
  private slotAt(entry: AddressEntry, at: number): number {
    for (const l of entry.leases) if (l.start <= at && at < l.end) return l.slot;
    return entry.nodeSlot;
  }

  /** Classifies one endpoint and fills in the groups it is in now; scratch is used when needed. */
  membership(ipText: string, at: number, dns: Resolver | undefined, scratch: Uint32Array): Membership {
    let ip = ipText;
    let entry = this.addresses.get(ip);
    if (entry === undefined) {
      ip = canonicalIp(ipText) ?? ipText;
      if (ip !== ipText) entry = this.addresses.get(ip);
    }
    const slot = entry === undefined ? -1 : this.slotAt(entry, at);
    if (slot < 0) {
      scratch.set(this.externalBits);
      if (this.externalChecks.length > 0) {
        const parsed = parseIp(ip);
        const addr = parsed && unmapV4(parsed);
        let names: readonly string[] | undefined;
        for (const c of this.externalChecks) {
          if (hasBit(scratch, c.group) || !inRanges(c.ranges, addr)) continue;
          if (c.fqdn.length > 0) {
            names ??= dns ? dns.namesOf(ip) : [];
            if (!namesMatch(c.fqdn, names)) continue;
          }
          setBit(scratch, c.group);
        }
      }
      return { ip, kind: 'external', workload: undefined, node: undefined, bits: scratch, slot };
    }
    const profile = this.profiles[this.slotProfile[slot] as number] as Profile;
    let bits = profile.bits;
    if (profile.fqdn.length > 0 && dns) {
      scratch.set(bits);
      bits = scratch;
      const names = dns.namesOf(ip);
      for (const c of profile.fqdn) if (namesMatch(c.fqdn, names)) setBit(bits, c.group);
    }
    const wi = this.slotWorkload[slot] as number;
    if (wi >= 0) return { ip, kind: 'workload', workload: this.inventory.workloads[wi], node: undefined, bits, slot };
    return { ip, kind: 'node', workload: undefined, node: this.inventory.nodes[this.slotNode[slot] as number]?.name, bits, slot };
  }

  private sideOf(m: Membership, side: 'egress' | 'ingress'): Side {
    const w = m.workload as Workload;
    const profileMode = (this.profiles[this.slotProfile[m.slot] as number] as Profile).mode;
    return { workload: w.id, name: w.name, side, mode: MODES[profileMode >= 0 ? profileMode : this.rankOf(m.bits)] as Mode };
  }

  private lists(m: Membership, egress: boolean): [Int32Array, Int32Array] {
    if (m.slot < 0) return [egress ? this.externalEgress : this.externalIngress, EMPTY];
    const p = this.profiles[this.slotProfile[m.slot] as number] as Profile;
    return egress ? [p.egress, this.sharedEgress] : [p.ingress, this.sharedIngress];
  }

  /** Whether rule r's ports admit the connection, and whether its groups hold for both ends. */
  portsAdmit(r: number, proto: number, port: number): boolean {
    for (let i = this.portOff[r] as number, end = this.portOff[r + 1] as number; i < end; i += 3) {
      const p = this.ports[i] as number;
      if ((p === 0 || p === proto) && port >= (this.ports[i + 1] as number) && port <= (this.ports[i + 2] as number)) return true;
    }
    return false;
  }

  groupsHold(r: number, client: Uint32Array, server: Uint32Array): boolean {
    const g = this.ruleGroups;
    let i = this.groupOff[2 * r] as number;
    const mid = this.groupOff[2 * r + 1] as number;
    const end = this.groupOff[2 * r + 2] as number;
    let from = false;
    for (; i < mid; i++) if (hasBit(client, g[i] as number)) { from = true; break; }
    if (!from) return false;
    for (i = mid; i < end; i++) if (hasBit(server, g[i] as number)) return true;
    return false;
  }

  /** Applications a rule names, lower-case; undefined when it admits any. */
  applicationsOf(r: number): readonly string[] | undefined {
    return this.apps[r];
  }

  decide(conn: Connection, dns?: Resolver): Verdict {
    const at = conn.at ?? this.now();
    const client = this.membership(conn.client.ip, at, dns, this.clientScratch);
    const server = this.membership(conn.server.ip, at, dns, this.serverScratch);
    return this.verdictFor(conn, client, server, this.firstMatch(conn, client, server));
  }

  protoCode(ipProto: Connection['ipProto']): number {
    return PROTO_CODE[ipProto] as number;
  }

  /**
   * The first rule that matches, in decision order: its index r when it decides, -2 - r when it
   * names applications DPI is still identifying (pending), -1 when none matches.
   */
  firstMatch(conn: Connection, client: Membership, server: Membership): number {
    const [ca, cb] = this.lists(client, true);
    const [sa, sb] = this.lists(server, false);
    // Every matching rule is on both sides' lists: walking the shorter one is enough.
    const [a, b] = ca.length + cb.length <= sa.length + sb.length ? [ca, cb] : [sa, sb];
    const proto = PROTO_CODE[conn.ipProto] as number;
    const port = conn.server.port;
    let i = 0;
    let j = 0;
    for (;;) {
      let r: number;
      if (i < a.length) r = j < b.length && (b[j] as number) < (a[i] as number) ? (b[j++] as number) : (a[i++] as number);
      else if (j < b.length) r = b[j++] as number;
      else return -1;
      if (!this.portsAdmit(r, proto, port) || !this.groupsHold(r, client.bits, server.bits)) continue;
      const apps = this.apps[r];
      if (apps === undefined || (conn.app !== undefined && apps.includes(conn.app.toLowerCase()))) return r;
      if (conn.appPending) return -2 - r;
    }
  }

  verdictFor(conn: Connection, client: Membership, server: Membership, match: number): Verdict {
    const sides: Side[] = [];
    if (client.kind === 'workload') sides.push(this.sideOf(client, 'egress'));
    if (server.kind === 'workload') sides.push(this.sideOf(server, 'ingress'));
    const facts = {
      rule: match >= 0 ? this.rules[match] : undefined,
      client: displayName(client),
      server: displayName(server),
      service: describeService(conn.ipProto, conn.server.port),
      sides,
      defaultMode: this.defaultMode,
    };
    return match <= -2 ? pendingVerdictOf({ ...facts, rule: this.rules[-2 - match] as Rule }) : verdictOf(facts);
  }

  explain(conn: Connection, dns?: Resolver): Explanation {
    const at = conn.at ?? this.now();
    // Fresh scratch: the explanation keeps the bitsets.
    const client = this.membership(conn.client.ip, at, dns, new Uint32Array(this.words));
    const server = this.membership(conn.server.ip, at, dns, new Uint32Array(this.words));
    const match = this.firstMatch(conn, client, server);
    const verdict = this.verdictFor(conn, client, server, match);
    const rule = match >= 0 ? this.rules[match] : match <= -2 ? this.rules[-2 - match] : undefined;
    return explainDecision(this, conn, client, server, verdict, rule);
  }

  groupNamesOf(bits: Uint32Array): string[] {
    return this.groups.filter((_, g) => hasBit(bits, g));
  }

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

/** How an endpoint reads in a reason: the workload's name, `node <name>`, or the address. */
export function displayName(m: Pick<Membership, 'kind' | 'workload' | 'node' | 'ip'>): string {
  if (m.kind === 'workload') return (m.workload as Workload).name;
  if (m.kind === 'node') return `node ${m.node}`;
  return m.ip;
}

export type CompiledView = Compiled;

export function compile(policy: Policy, inventory: Inventory, opts: CompileOptions = {}): CompiledPolicy {
  return new Compiled(policy, inventory, opts);
}
