// Compiled policy + inventory → the text of one nftables table, `inet palisade`, for one node: the
// kernel half of enforcement (DESIGN.md, Enforcement on a node). Pure: apply.ts loads the text
// with `nft -f`, the agent reads back what the `log` statements report.
//
// How the semantics map onto the kernel:
// - A forward chain sees pod-to-pod traffic on the node. Established and related packets are
//   accepted first, so only the first packet of a connection walks the rules.
// - Rules run in decision order (compiled.rules), each with a named counter, dispatched by
//   protocol and port to the chain of the rules that can admit it. The first rule that
//   matches decides: allow accepts; deny jumps to a per-rule chain that drops when a side is a
//   local workload in protect and otherwise accepts with an alert (any workload side reports a
//   deny, whatever its mode). With no match, the defaults chain applies each side's
//   default: protect drops, monitor alerts, discover lets the connection through silently.
// - Only workloads on this node have a perimeter here: the protect, monitor and local sets hold
//   their addresses, so a connection is dropped only when one of its local sides is in protect.
// - Blocked and violating attempts are logged to nflog with the prefix `pal:<rule id>:<action>`,
//   rate-limited per log rule, which the agent turns into violation records.
//
// Rules naming applications need DPI, which the kernel does not do:
// - Where no side is a local protect workload the outcome is "allowed" whatever the application,
//   and only reporting differs (the passive tap reports accurately): an allow naming applications
//   accepts at L3/L4 there, a deny naming applications is left to the tap.
// - Where a protect side is involved, with the L7 proxy (options.proxy), a nat chain at
//   prerouting walks the same rules in the same order for each new TCP connection: when the first
//   rule that matches its addresses and port names applications, the connection is redirected to
//   the proxy, which identifies the application and decides with the whole policy (proxy/). A
//   connection whose first match names no application stays in the kernel.
// - Without the proxy, or for UDP and other protocols, the application stays unidentified there,
//   so, as DESIGN.md says of an application that stays unknown, the rule does not match: later
//   rules or the default decide, and protect never lets an unidentified application through.
//   Each such rule is listed in `notes`.
// - fqdn criteria depend on DNS answers seen on the wire: their addresses are not in the sets.

import { formatIpv4, formatIpv6, parseAddressSpec, parseIp, type IpAddr, type IpRange } from '../../model/address.js';
import type { Policy, PortRange, Rule } from '../../model/policy.js';
import type { Inventory } from '../../model/workload.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { isIdentityCriterion, isReservedGroup, leaseHolds } from '../../policy/select.js';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'palisade';

export interface RulesetOptions {
  /** Only workloads on this node have perimeters here; absent: every workload of the inventory. */
  node?: string;
  /** Which address leases hold (milliseconds since the epoch). */
  now: number;
  /** nflog group the log statements write to. */
  logGroup: number;
  /** Log messages per second each log rule may emit; the rest are counted, not logged. */
  logPerSecond: number;
  /**
   * The local port of the L7 proxy: new TCP connections that need layer 7 to be decided where a
   * side is in protect are redirected there. Absent: no redirection (see the header).
   */
  proxy?: { port: number; udp?: UdpListenRange };
  /** Log alerts (monitor sides, denies outside protect) to nflog; false when the passive tap reports them. Default true. */
  alertLogs?: boolean;
}

/** Local ports the L7 proxy may listen on for UDP, one per proxied destination. */
export interface UdpListenRange {
  first: number;
  count: number;
  /**
   * The destinations of the table in force: they keep their ports, and their ports are not given
   * to new destinations, so a datagram never reaches the proxy port of another destination while
   * the tables are swapped.
   */
  keep?: readonly UdpDestination[];
}

export const DEFAULT_UDP_LISTEN: UdpListenRange = { first: 15100, count: 1024 };

/** A UDP destination the proxy stands in for: datagrams to ip:port arrive on its port `listen`. */
export interface UdpDestination {
  ip: string;
  port: number;
  listen: number;
}

export const DEFAULT_LOG_GROUP = 0;
export const DEFAULT_LOG_PER_SECOND = 20;

export interface Ruleset {
  /** The nft script: creates or atomically replaces the table. */
  text: string;
  /** Counter name → rule id ("default" for the default verdicts). */
  counters: ReadonlyMap<string, string>;
  /** Log tag (the middle of a log prefix) → rule id. */
  tags: ReadonlyMap<string, string>;
  /** Rules in force at L3/L4, rules left out and why: what an operator must know. */
  notes: string[];
  /** UDP destinations redirected to the L7 proxy, each to its own listening port. */
  udpDestinations: UdpDestination[];
  /** Ids of the workloads whose perimeters this table holds (those on the node). */
  local: ReadonlySet<string>;
  stats: { rules: number; nftRules: number; sets: number; elements: number; localWorkloads: number; redirectingRules: number };
}

type Family = 4 | 6;

/** Inclusive interval of addresses of one family, as bigints so both families share the code. */
interface Span {
  first: bigint;
  last: bigint;
}

/** Addresses per family, merged into disjoint spans (nft refuses overlapping elements). */
interface AddressSet {
  name: string;
  comment: string;
  v4: Span[];
  v6: Span[];
}

/** One way a side of a rule can match: anything, a set, or an address no workload or node holds. */
type SideMatch = { kind: 'any' } | { kind: 'set'; set: AddressSet } | { kind: 'external' };

/** One way the ports of a rule can match, with the family it implies (icmp is IPv4 only). */
interface PortMatch {
  expr: string;
  family?: Family;
}

function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    // Adjacent spans merge too: nft would list them as one anyway.
    if (last !== undefined && s.first <= last.last + 1n) {
      if (s.last > last.last) last.last = s.last;
    } else out.push({ ...s });
  }
  return out;
}

const spanOf = (r: IpRange): Span => ({ first: BigInt(r.first), last: BigInt(r.last) });
const pointOf = (a: IpAddr): IpRange => (a.version === 4 ? { version: 4, first: a.value, last: a.value } : { version: 6, first: a.value, last: a.value });

const pointText = (v: bigint, f: Family): string => (f === 4 ? formatIpv4(Number(v)) : formatIpv6(v));

function elementText(s: Span, f: Family): string {
  return s.first === s.last ? pointText(s.first, f) : `${pointText(s.first, f)}-${pointText(s.last, f)}`;
}

function setOf(name: string, comment: string, ranges: IpRange[]): AddressSet {
  return {
    name,
    comment,
    v4: mergeSpans(ranges.filter((r) => r.version === 4).map(spanOf)),
    v6: mergeSpans(ranges.filter((r) => r.version === 6).map(spanOf)),
  };
}

const familySpans = (s: AddressSet, f: Family): Span[] => (f === 4 ? s.v4 : s.v6);
const setName = (s: AddressSet, f: Family): string => `${s.name}_v${f}`;
const ipKeyword = (f: Family): string => (f === 4 ? 'ip' : 'ip6');

function renderSet(s: AddressSet, f: Family): string {
  const spans = familySpans(s, f);
  const type = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const elements = spans.length === 0 ? '' : ` elements = { ${spans.map((x) => elementText(x, f)).join(', ')} }`;
  return `  set ${setName(s, f)} { type ${type}; flags interval; comment ${quote(s.comment)};${elements} }`;
}

/** nft strings are double-quoted with no escapes: anything else is replaced. */
function quote(text: string): string {
  return `"${text.replace(/[^A-Za-z0-9 ._:/,=*()-]/g, '_').slice(0, 120)}"`;
}

const EVERY_ADDRESS: IpRange[] = [
  { version: 4, first: 0, last: 0xffffffff },
  { version: 6, first: 0n, last: (1n << 128n) - 1n },
];

const SAFE_TAG = /^[A-Za-z0-9._-]{1,100}$/;

/** The address match of one side, in one family, as nft text ('' for any). */
function sideExpr(side: SideMatch, dir: 'saddr' | 'daddr', f: Family | undefined, known: AddressSet): string {
  if (side.kind === 'any' || f === undefined) return '';
  const set = side.kind === 'set' ? side.set : known;
  return `${ipKeyword(f)} ${dir} ${side.kind === 'external' ? '!= ' : ''}@${setName(set, f)} `;
}

function sideHas(side: SideMatch, f: Family): boolean {
  return side.kind !== 'set' || familySpans(side.set, f).length > 0;
}

function portMatches(ports: PortRange[]): PortMatch[] | 'any' {
  if (ports.length === 0 || ports.some((p) => p.proto === 'any')) return 'any';
  const byProto = new Map<string, { whole: boolean; items: string[] }>();
  for (const p of ports) {
    const entry = byProto.get(p.proto) ?? { whole: false, items: [] };
    byProto.set(p.proto, entry);
    if (p.first === undefined) entry.whole = true;
    else {
      const last = p.last ?? p.first;
      const item = last === p.first ? String(p.first) : `${p.first}-${last}`;
      if (!entry.items.includes(item)) entry.items.push(item);
    }
  }
  const out: PortMatch[] = [];
  for (const [proto, { whole, items }] of byProto) {
    const list = `{ ${items.join(', ')} }`;
    if (proto === 'icmp') out.push({ expr: whole ? 'meta l4proto icmp ' : `icmp type ${list} `, family: 4 });
    else if (proto === 'icmpv6') out.push({ expr: whole ? 'meta l4proto icmpv6 ' : `icmpv6 type ${list} `, family: 6 });
    else out.push({ expr: whole ? `meta l4proto ${proto} ` : `meta l4proto ${proto} th dport ${list} ` });
  }
  return out;
}

/** What every range holds (all address criteria of a selector must), or undefined when nothing does. */
function intersection(ranges: (IpRange | undefined)[]): IpRange | undefined {
  let first: bigint | undefined;
  let last: bigint | undefined;
  const version = ranges[0]?.version;
  for (const r of ranges) {
    // An address that does not parse holds for no endpoint, nor do two families at once.
    if (r === undefined || r.version !== version) return undefined;
    if (first === undefined || BigInt(r.first) > first) first = BigInt(r.first);
    if (last === undefined || BigInt(r.last) < last) last = BigInt(r.last);
  }
  if (first === undefined || last === undefined || first > last) return undefined;
  return version === 4 ? { version: 4, first: Number(first), last: Number(last) } : { version: 6, first, last };
}

/** Addresses of a workload whose leases hold at `now`. */
function heldAddresses(leases: Inventory['workloads'][number]['addresses'], now: number): IpAddr[] {
  const out: IpAddr[] = [];
  for (const lease of leases) {
    const addr = parseIp(lease.ip);
    if (addr !== undefined && leaseHolds(lease, now)) out.push(addr);
  }
  return out;
}

export function compileRuleset(policy: Policy, inventory: Inventory, compiled: CompiledPolicy, opts: RulesetOptions): Ruleset {
  const notes: string[] = [];
  const addressesOf = new Map<string, IpAddr[]>();
  for (const w of inventory.workloads) if (!addressesOf.has(w.id)) addressesOf.set(w.id, heldAddresses(w.addresses, opts.now));
  const nodeRanges = inventory.nodes.flatMap((n) => n.addresses.flatMap((a) => parseIp(a) ?? []).map(pointOf));
  const workloadRanges = [...addressesOf.values()].flat().map(pointOf);

  const local = new Set(inventory.workloads.filter((w) => opts.node === undefined || w.node === opts.node).map((w) => w.id));
  const rangesOfIds = (ids: Iterable<string>): IpRange[] => [...ids].flatMap((id) => addressesOf.get(id) ?? []).map(pointOf);
  const localIds = [...local];
  const known = setOf('known', 'addresses of workloads and nodes', [...workloadRanges, ...nodeRanges]);
  const protect = setOf('protect', 'local workloads in protect', rangesOfIds(localIds.filter((id) => compiled.modeOfWorkload(id) === 'protect')));
  const monitor = setOf('monitor', 'local workloads in monitor', rangesOfIds(localIds.filter((id) => compiled.modeOfWorkload(id) === 'monitor')));
  const localSet = setOf('local', 'local workloads', rangesOfIds(localIds));
  const sets: AddressSet[] = [known, protect, monitor, localSet];

  // Ranges that hold for any endpoint (address-only selectors), per policy group.
  const addressOnly = new Map<string, IpRange[]>();
  for (const g of policy.groups) {
    if (isReservedGroup(g.name) || addressOnly.has(g.name)) continue;
    const ranges: IpRange[] = [];
    for (const s of g.selectors) {
      if (s.criteria.some((c) => c.kind === 'fqdn')) {
        notes.push(`group ${g.name}: fqdn criteria are not enforced in the kernel (their addresses come from DNS answers)`);
        continue;
      }
      if (s.criteria.some(isIdentityCriterion)) continue;
      // A selector without criteria holds for every endpoint.
      if (s.criteria.length === 0) ranges.push(...EVERY_ADDRESS);
      const common = intersection(s.criteria.map((c) => (c.kind === 'address' ? parseAddressSpec(c.spec) : undefined)));
      if (common !== undefined) ranges.push(common);
    }
    addressOnly.set(g.name, ranges);
  }

  // Membership queries walk the inventory: each group is asked once.
  const rangesOfGroup = new Map<string, IpRange[]>();
  const groupRanges = (name: string): IpRange[] => {
    let ranges = rangesOfGroup.get(name);
    if (ranges === undefined) {
      if (name === 'workloads') ranges = workloadRanges;
      else if (name === 'nodes') ranges = nodeRanges;
      else ranges = [...rangesOfIds(compiled.workloadsOfGroup(name)), ...(addressOnly.get(name) ?? [])];
      rangesOfGroup.set(name, ranges);
    }
    return ranges;
  };
  const localGroups = new Map<string, boolean>();
  const holdsLocal = (g: string): boolean => {
    let holds = localGroups.get(g);
    if (holds === undefined) {
      holds = g === 'any' || g === 'workloads' || compiled.workloadsOfGroup(g).some((id) => local.has(id));
      localGroups.set(g, holds);
    }
    return holds;
  };
  const sideSets = new Map<string, AddressSet>();
  const sideOf = (groups: readonly string[]): SideMatch[] => {
    if (groups.includes('any')) return [{ kind: 'any' }];
    const out: SideMatch[] = [];
    if (groups.includes('external')) out.push({ kind: 'external' });
    const named = [...new Set(groups.filter((g) => g !== 'external'))].sort();
    if (named.length === 0) return out;
    const key = named.join('\0');
    let set = sideSets.get(key);
    if (set === undefined) {
      set = setOf(`g${sideSets.size}`, `${named.length > 1 ? 'groups' : 'group'} ${named.join(',')}`, named.flatMap(groupRanges));
      sideSets.set(key, set);
      sets.push(set);
    }
    if (set.v4.length > 0 || set.v6.length > 0) out.push({ kind: 'set', set });
    return out;
  };
  const limit = `limit rate ${opts.logPerSecond}/second burst ${opts.logPerSecond * 2} packets`;
  const log = (tag: string, action: 'drop' | 'alert'): string => `${limit} log prefix "pal:${tag}:${action}" group ${opts.logGroup} queue-threshold 1`;
  const counters = new Map<string, string>([['default', 'default']]);
  const tags = new Map<string, string>([['default', 'default']]);
  const placed: Placed[] = [];
  const chains: string[] = [];
  const proxy = opts.proxy;
  const points = { 4: knownPoints(known.v4), 6: knownPoints(known.v6) } as const;
  // UDP destinations of the proxy, in the order they were first claimed, and their listening ports.
  const udpRange = proxy?.udp ?? DEFAULT_UDP_LISTEN;
  const udpListen = new Map<string, UdpDestination & { family: Family }>();
  let udpFull = false;
  const kept = new Map((udpRange.keep ?? []).filter((d) => d.listen >= udpRange.first && d.listen < udpRange.first + udpRange.count).map((d) => [`${d.ip}|${d.port}`, d.listen]));
  const taken = new Set(kept.values());
  let nextFree = udpRange.first;
  const freePort = (): number | undefined => {
    while (nextFree < udpRange.first + udpRange.count && taken.has(nextFree)) nextFree++;
    return nextFree < udpRange.first + udpRange.count ? nextFree : undefined;
  };
  const claimUdp = (targets: { family: Family; ip: string }[], ports: number[]): boolean => {
    const wanted = targets.flatMap((t) => ports.map((port) => ({ ...t, port, key: `${t.ip}|${port}` }))).filter((d) => !udpListen.has(d.key));
    const fresh = wanted.filter((d) => !kept.has(d.key)).length;
    let free = 0;
    for (let p = udpRange.first; p < udpRange.first + udpRange.count && free < fresh; p++) if (!taken.has(p)) free++;
    if (free < fresh) {
      if (!udpFull) notes.push(`the L7 proxy's ${udpRange.count} UDP listening ports are all taken: later rules naming applications over UDP are not proxied`);
      udpFull = true;
      return false;
    }
    for (const d of wanted) {
      const listen = kept.get(d.key) ?? (freePort() as number);
      taken.add(listen);
      udpListen.set(d.key, { ip: d.ip, port: d.port, listen, family: d.family });
    }
    return true;
  };
  let inForce = 0;
  let redirecting = 0;
  let chainRules = 0;

  /**
   * Drops where a side is a local workload in protect, alerts where a side is in `alertSet`, and
   * lets the rest through. `counter` is set where the rule's own counter has not counted yet.
   */
  const verdictLines = (tag: string, alertSet: AddressSet, counter?: string): string[] => {
    const count = counter === undefined ? '' : `counter name "${counter}" `;
    const lines: string[] = [];
    for (const [set, action, verdict] of [[protect, 'drop', 'drop'], [alertSet, 'alert', 'accept']] as const) {
      for (const f of [4, 6] as const) {
        if (familySpans(set, f).length === 0) continue;
        for (const dir of ['saddr', 'daddr']) {
          const m = `${ipKeyword(f)} ${dir} @${setName(set, f)}`;
          // With the passive tap, alerts come from it (with the application): the kernel logs drops only.
          if (action === 'drop' || opts.alertLogs !== false) lines.push(`${m} ${log(tag, action)}`);
          lines.push(`${m} ${count}${verdict}`);
        }
      }
    }
    return lines;
  };

  compiled.rules.forEach((rule: Rule, n) => {
    // A rule with no local workload on either side cannot match a connection that has a perimeter here.
    if (opts.node !== undefined && !rule.from.some(holdsLocal) && !rule.to.some(holdsLocal)) return;
    const named = rule.applications.length > 0 && !rule.applications.includes('any');
    const apps = rule.applications.join(', ');
    const tcpPorts = named ? tcpMatches(rule.ports) : [];
    const clients = sideOf(rule.from);
    const servers = sideOf(rule.to);
    // UDP has no original destination to read: each destination gets its own listening port,
    // so only rules whose servers and UDP ports can be listed one by one are proxied.
    const udpPorts = named && proxy !== undefined ? udpPortList(rule.ports) : undefined;
    const udpTargets = udpPorts === undefined ? undefined : enumerableServers(servers, points);
    const udpListed = udpPorts !== undefined && udpTargets !== undefined && udpPorts.length > 0 && udpTargets.length > 0 && claimUdp(udpTargets, udpPorts);
    const redirects = named && proxy !== undefined && (tcpPorts.length > 0 || udpListed);
    const udpOnly = named && admitsUdp(rule.ports);
    if (named && (!redirects || (udpOnly && !udpListed))) {
      const why = proxy === undefined ? 'the L7 proxy is off' : redirects ? 'its UDP destinations cannot be listed one by one (any address, address ranges or port ranges), so the L7 proxy takes only its TCP' : 'the L7 proxy takes TCP, and UDP only to destinations it can list one by one';
      notes.push(rule.action === 'deny'
        ? `rule ${rule.id}: names applications (${apps}); ${why}; elsewhere this deny is reported by the tap and never blocks`
        : `rule ${rule.id}: names applications (${apps}); ${why}; elsewhere it allows only where no side is in protect`);
    }
    const ports = portMatches(rule.ports);
    const counter = `r${n}`;
    const tag = SAFE_TAG.test(rule.id) ? rule.id : counter;
    counters.set(counter, rule.id);
    tags.set(tag, rule.id);
    const verdict = rule.action === 'allow' ? `counter name "${counter}" accept` : `counter name "${counter}" goto deny_${counter}`;
    const lines: string[] = [];
    const natLines: string[] = [];
    let matchesSomething = false;
    for (const c of clients) {
      for (const s of servers) {
        // Families: none needed when both sides are "any" and the port does not imply one;
        // a rule naming applications always checks the protect sets, which are per family.
        const families: (Family | undefined)[] = c.kind === 'any' && s.kind === 'any' && !named ? [undefined] : [4, 6];
        for (const f of families) {
          if (f !== undefined && (!sideHas(c, f) || !sideHas(s, f))) continue;
          const addr = sideExpr(c, 'saddr', f, known) + sideExpr(s, 'daddr', f, known);
          for (const p of ports === 'any' ? [{ expr: '' }] : ports) {
            if (p.family !== undefined && f !== undefined && p.family !== f) continue;
            matchesSomething = true;
            if (!named) {
              lines.push(addr + p.expr + verdict);
              natLines.push(`${addr}${p.expr}accept`);
            } else if (rule.action === 'allow' && f !== undefined) {
              // Outside protect the outcome is "allowed" whatever the application.
              lines.push(`${addr}${ipKeyword(f)} saddr != @${setName(protect, f)} ${ipKeyword(f)} daddr != @${setName(protect, f)} ${p.expr}${verdict}`);
            }
          }
          if (redirects && f !== undefined) {
            for (const t of tcpPorts) {
              for (const dir of ['saddr', 'daddr']) natLines.push(`${addr}${ipKeyword(f)} ${dir} @${setName(protect, f)} ${t}counter name "l7" redirect to :${(proxy as { port: number }).port}`);
            }
            if (udpListed && s.kind === 'set' && familySpans(s.set, f).length > 0) {
              const list = `udp dport { ${(udpPorts as number[]).join(', ')} } `;
              for (const dir of ['saddr', 'daddr']) natLines.push(`${addr}${ipKeyword(f)} ${dir} @${setName(protect, f)} ${list}counter name "l7" redirect to : ${ipKeyword(f)} daddr . udp dport map @l7udp_v${f}`);
            }
          }
        }
      }
    }
    if (!matchesSomething) {
      counters.delete(counter);
      notes.push(`rule ${rule.id}: matches no address on this node`);
      return;
    }
    if (lines.length > 0 || redirects) inForce++;
    if (redirects) redirecting++;
    placed.push({ ports: rule.ports, keys: portKeys(rule.ports), servers, lines, natLines, redirects });
    if (rule.action === 'deny' && lines.length > 0) {
      const deny = [...verdictLines(tag, localSet), 'accept'];
      chainRules += deny.length;
      chains.push(chain(`deny_${counter}`, undefined, deny));
    }
  });
  const defaults = verdictLines('default', monitor, 'default');
  chainRules += defaults.length;
  chains.push(chain('defaults', undefined, defaults));

  const forward = ['ct state established,related accept'];
  const filter = dispatch(placed, points, { prefix: 'p', linesOf: (r) => r.lines, end: 'goto defaults', endChain: 'defaults' });
  forward.push(...filter.lines);
  chains.push(...filter.chains);
  chainRules += filter.chainRules;
  const hooked = [chain('forward', 'type filter hook forward priority filter; policy accept;', forward)];
  let natRules = 0;
  if (redirecting > 0) {
    // Only TCP goes to the proxy, and a port's list can stop at its last rule that redirects:
    // whatever comes after only accepts.
    const nat = dispatch(placed, points, {
      prefix: 'n',
      linesOf: (r) => r.natLines,
      end: 'accept',
      protos: ['tcp', 'udp'],
      truncate: (r) => r.redirects,
    });
    const prerouting = ['meta l4proto != { tcp, udp } accept', ...nat.lines];
    hooked.push(chain('l7', 'type nat hook prerouting priority dstnat; policy accept;', prerouting));
    chains.push(...nat.chains);
    natRules = prerouting.length + nat.chainRules;
  }

  if (redirecting > 0) counters.set('l7', 'l7');
  const counterDecls = [...counters].map(([name, id]) => `  counter ${name} { comment ${quote(id === 'default' ? 'default verdicts' : id === 'l7' ? 'new connections redirected to the L7 proxy' : `rule ${id}`)} }`);
  const setDecls = sets.flatMap((s) => [renderSet(s, 4), renderSet(s, 6)]);
  const udpDestinations = [...udpListen.values()];
  for (const f of [4, 6] as const) {
    const mine = udpDestinations.filter((d) => d.family === f);
    if (mine.length === 0) continue;
    const type = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
    setDecls.push(`  map l7udp_v${f} { type ${type} . inet_service : inet_service; comment "UDP destinations of the L7 proxy: its port for each"; elements = { ${mine.map((d) => `${d.ip} . ${d.port} : ${d.listen}`).join(', ')} } }`);
  }
  const body = [
    ...counterDecls,
    ...setDecls,
    ...hooked,
    ...chains,
  ];
  // Declaring the table first makes the delete valid when it does not exist yet; nft applies the
  // whole file as one transaction, so the old table stays in force until the new one is complete.
  const text = [`table ${TABLE_FAMILY} ${TABLE_NAME}`, `delete table ${TABLE_FAMILY} ${TABLE_NAME}`, `table ${TABLE_FAMILY} ${TABLE_NAME} {`, ...body, '}', ''].join('\n');
  const elements = sets.reduce((n, s) => n + s.v4.length + s.v6.length, 0);
  return { text, counters, tags, notes, udpDestinations: udpDestinations.map(({ ip, port, listen }) => ({ ip, port, listen })), local, stats: { rules: inForce, nftRules: forward.length + chainRules + natRules, sets: setDecls.length, elements, localWorkloads: local.size, redirectingRules: redirecting } };
}

/** Every single address the spans of the known set hold, ascending (workload and node addresses). */
function knownPoints(spans: Span[]): bigint[] {
  const out: bigint[] = [];
  for (const s of spans) for (let a = s.first; a <= s.last; a++) out.push(a);
  return out;
}

/** Indices of the points (ascending) that the spans hold. */
function pointsIn(spans: Span[], points: bigint[]): number[] {
  const out: number[] = [];
  for (const s of spans) {
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as bigint) < s.first) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < points.length && (points[i] as bigint) <= s.last; i++) out.push(i);
  }
  return out;
}

/** Widest port range a rule may span and still be listed port by port in the dispatch. */
const MAX_DISPATCHED_SPAN = 16;
const DISPATCHED = new Set(['tcp', 'udp', 'sctp']);

/** `tcp/80`-style keys of every port a rule admits, or undefined when it must be walked for all ports. */
function portKeys(ports: PortRange[]): string[] | undefined {
  if (ports.length === 0) return undefined;
  const keys: string[] = [];
  for (const p of ports) {
    if (!DISPATCHED.has(p.proto) || p.first === undefined) return undefined;
    const last = p.last ?? p.first;
    if (last - p.first >= MAX_DISPATCHED_SPAN) return undefined;
    for (let port = p.first; port <= last; port++) keys.push(`${p.proto}/${port}`);
  }
  return keys;
}

/** Whether a rule's ports admit the protocol and port of a key. */
function admits(ports: PortRange[], key: string): boolean {
  const [proto, portText] = key.split('/') as [string, string];
  const port = Number(portText);
  if (ports.length === 0) return true;
  return ports.some((p) => p.proto === 'any' || (p.proto === proto && (p.first === undefined || (port >= p.first && port <= (p.last ?? p.first)))));
}

/** A rule as placed in the table: its lines in the filter walk and in the nat walk. */
interface Placed {
  ports: PortRange[];
  keys: string[] | undefined;
  servers: SideMatch[];
  lines: string[];
  natLines: string[];
  /** Its nat lines redirect to the proxy. */
  redirects: boolean;
}

interface DispatchOptions {
  /** Chain name prefix: p for the filter walk, n for the nat walk. */
  prefix: string;
  linesOf: (r: Placed) => string[];
  /** The last line of every walk (what happens when no rule matched). */
  end: string;
  /** Name of the chain `end` jumps to, used directly in the address maps; absent: `end` is a verdict. */
  endChain?: string;
  /** Only ports of these protocols are dispatched. */
  protos?: string[];
  /** A port's walk ends after the last rule for which this holds; rules after it are left out. */
  truncate?: (r: Placed) => boolean;
}

/**
 * Dispatch on protocol and port: a new connection walks only the rules that can admit its port
 * (DESIGN.md keeps every L3/L4 verdict in the kernel, so the walk is the cost of a connection).
 * Within a port, a second dispatch by server address: each known address goes to the chain of
 * the rules whose `to` side can hold it (addresses with the same rules share one chain); other
 * addresses walk the port's whole list. Rules with wide port ranges or none are in every port
 * chain they admit, and in the top walk for ports no chain is named for.
 */
function dispatch(placed: Placed[], points: { 4: bigint[]; 6: bigint[] }, o: DispatchOptions): { lines: string[]; chains: string[]; chainRules: number } {
  const chains: string[] = [];
  let chainRules = 0;
  const cut = (rules: Placed[]): Placed[] => {
    if (o.truncate === undefined) return rules;
    let last = -1;
    rules.forEach((r, i) => {
      if ((o.truncate as (r: Placed) => boolean)(r)) last = i;
    });
    return rules.slice(0, last + 1);
  };
  const endVerdict = o.endChain === undefined ? o.end : `goto ${o.endChain}`;
  const name = (key: string): string => `${o.prefix}_${key.replace('/', '_')}`;
  const keys = [...new Set(placed.flatMap((r) => r.keys ?? []))].filter((k) => o.protos === undefined || o.protos.includes(k.split('/')[0] as string));
  const top: string[] = [];
  const portVerdicts: string[] = [];
  const targets = (servers: SideMatch[], f: Family): number[] => {
    const all = points[f];
    const out = new Set<number>();
    for (const side of servers) {
      if (side.kind === 'any') all.forEach((_, i) => out.add(i));
      else if (side.kind === 'set') for (const i of pointsIn(familySpans(side.set, f), all)) out.add(i);
    }
    return [...out];
  };
  for (const key of keys) {
    const rules = cut(placed.filter((r) => (r.keys === undefined ? admits(r.ports, key) : r.keys.includes(key))));
    if (rules.length === 0) {
      portVerdicts.push(`${key.replace('/', ' . ')} : ${o.endChain === undefined ? o.end : `goto ${o.endChain}`}`);
      continue;
    }
    portVerdicts.push(`${key.replace('/', ' . ')} : goto ${name(key)}`);
    const lines: string[] = [];
    for (const f of [4, 6] as const) {
      const perAddress = points[f].map((): number[] => []);
      rules.forEach((r, ri) => {
        for (const i of targets(r.servers, f)) perAddress[i]?.push(ri);
      });
      const chainOf = new Map<string, string>();
      const entries = perAddress.map((list, i) => {
        const signature = list.join(',');
        let target = chainOf.get(signature);
        if (target === undefined) {
          target = list.length === 0 ? endVerdict : `goto ${name(key)}_${f}_${chainOf.size}`;
          chainOf.set(signature, target);
          if (list.length > 0) {
            const body = [...list.flatMap((ri) => o.linesOf(rules[ri] as Placed)), o.end];
            chainRules += body.length;
            chains.push(chain(target.slice('goto '.length), undefined, body));
          }
        }
        return `${pointText(points[f][i] as bigint, f)} : ${target}`;
      });
      if (entries.length > 0) lines.push(`${ipKeyword(f)} daddr vmap { ${entries.join(', ')} }`);
    }
    lines.push(...rules.flatMap(o.linesOf), o.end);
    chainRules += lines.length;
    chains.push(chain(name(key), undefined, lines));
  }
  if (portVerdicts.length > 0) top.push(`meta l4proto . th dport vmap { ${portVerdicts.join(', ')} }`);
  top.push(...cut(placed.filter((r) => r.keys === undefined)).flatMap(o.linesOf), o.end);
  return { lines: top, chains, chainRules };
}

/** Widest list of UDP ports a rule may name and still be proxied port by port. */
const MAX_UDP_PORTS = 16;
/** Most server addresses a rule may have and still be proxied over UDP address by address. */
const MAX_UDP_SERVERS = 256;

/** The rule's UDP ports one by one; undefined when it admits every UDP port or too many to list. */
function udpPortList(ports: PortRange[]): number[] | undefined {
  if (ports.length === 0 || ports.some((p) => p.proto === 'any')) return undefined;
  const out = new Set<number>();
  for (const p of ports) {
    if (p.proto !== 'udp') continue;
    if (p.first === undefined) return undefined;
    const last = p.last ?? p.first;
    if (last - p.first + 1 > MAX_UDP_PORTS) return undefined;
    for (let port = p.first; port <= last; port++) out.add(port);
  }
  return out.size > MAX_UDP_PORTS ? undefined : [...out].sort((a, b) => a - b);
}

function admitsUdp(ports: PortRange[]): boolean {
  return ports.length === 0 || ports.some((p) => p.proto === 'any' || p.proto === 'udp');
}

/**
 * The server addresses of a rule one by one, when they are workload or node addresses (the known
 * points); undefined when a side is any, external, or holds addresses beyond them (ranges).
 */
function enumerableServers(servers: SideMatch[], points: { 4: bigint[]; 6: bigint[] }): { family: Family; ip: string }[] | undefined {
  const out: { family: Family; ip: string }[] = [];
  for (const side of servers) {
    if (side.kind !== 'set') return undefined;
    for (const f of [4, 6] as const) {
      const spans = familySpans(side.set, f);
      const held = pointsIn(spans, points[f]);
      const size = spans.reduce((n, sp) => n + (sp.last - sp.first + 1n), 0n);
      if (BigInt(held.length) !== size) return undefined;
      for (const i of held) out.push({ family: f, ip: pointText(points[f][i] as bigint, f) });
    }
  }
  return out.length > MAX_UDP_SERVERS ? undefined : out;
}

/** The TCP part of a rule's ports as nft matches; empty when the rule admits no TCP. */
function tcpMatches(ports: PortRange[]): string[] {
  if (ports.length === 0 || ports.some((p) => p.proto === 'any')) return ['meta l4proto tcp '];
  const tcp = ports.filter((p) => p.proto === 'tcp');
  if (tcp.length === 0) return [];
  if (tcp.some((p) => p.first === undefined)) return ['meta l4proto tcp '];
  const items = [...new Set(tcp.map((p) => (p.last === undefined || p.last === p.first ? String(p.first) : `${p.first}-${p.last}`)))];
  return [`tcp dport { ${items.join(', ')} } `];
}

function chain(name: string, hook: string | undefined, lines: string[]): string {
  return [`  chain ${name} {`, ...(hook === undefined ? [] : [`    ${hook}`]), ...lines.map((l) => `    ${l}`), '  }'].join('\n');
}

/** The script that removes the table, and succeeds whether or not it exists. */
export const REMOVE_TABLE = `table ${TABLE_FAMILY} ${TABLE_NAME}\ndelete table ${TABLE_FAMILY} ${TABLE_NAME}\n`;
