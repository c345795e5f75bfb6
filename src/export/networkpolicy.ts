// Palisade policy → Kubernetes NetworkPolicies (networking.k8s.io/v1). A policy of allows over
// label, namespace and address groups is written rule by rule (networkpolicy-rules.ts). NetworkPolicy
// is allow-only and a union, so deny rules, priorities and selectors it lacks cannot be said
// directly: then the writer computes, on the inventory, what each workload may send and receive
// once everything is enforced (enforced.ts) and writes exactly that per workload. Either way a
// loss line names everything dropped.

import { rangeToCidrs, type IpRange } from '../model/address.js';
import type { Policy, Rule } from '../model/policy.js';
import type { Inventory, Labels, Workload } from '../model/workload.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { formatPort } from '../policy/document/write.js';
import { formatConnections, isAll, PROTOCOLS, union, noConnections, type ConnectionSet } from './kubernetes/connections.js';
import { NAMESPACE_NAME_LABEL } from './kubernetes/resources.js';
import { enforcedCells, exportPeers, groupsByName, hasPerimeter, isWholeSpace, l4Connections, type ExportPeer } from './enforced.js';
import { MANAGED_BY, objectName, uniqueNames, type Manifest } from './manifest.js';
import { writeRulePolicies, untranslatable } from './networkpolicy-rules.js';
import { applicationList, groupLoss, modeLosses, ruleLoss, type Loss } from './report.js';

export interface ExportResult {
  manifests: Manifest[];
  losses: Loss[];
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'DoesNotExist'; values?: never }[];
}

/** Workloads that no label selector can tell apart: one namespace, the same labels. */
interface Target {
  namespace: string;
  members: Workload[];
  selector: LabelSelector;
}

const sameLabels = (a: Labels, b: Labels): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
};

/**
 * The narrowest selector for each distinct label set of a namespace: all its labels, plus
 * `DoesNotExist` for a key of each other label set that holds all of them (and would match too).
 */
function targetsOf(workloads: readonly Workload[]): Target[] {
  const targets: Target[] = [];
  for (const w of workloads) {
    const known = targets.find((t) => t.namespace === w.namespace && sameLabels((t.members[0] as Workload).labels, w.labels));
    if (known !== undefined) known.members.push(w);
    else targets.push({ namespace: w.namespace, members: [w], selector: {} });
  }
  for (const t of targets) {
    const labels = (t.members[0] as Workload).labels;
    const keys = Object.keys(labels).sort();
    const absent = new Set<string>();
    for (const other of targets) {
      if (other === t || other.namespace !== t.namespace) continue;
      const theirs = (other.members[0] as Workload).labels;
      if (!keys.every((k) => theirs[k] === labels[k])) continue;
      const extra = Object.keys(theirs).filter((k) => !Object.hasOwn(labels, k)).sort();
      if (!extra.some((k) => absent.has(k))) absent.add(extra[0] as string);
    }
    if (keys.length > 0) t.selector.matchLabels = Object.fromEntries(keys.map((k) => [k, labels[k] as string]));
    if (absent.size > 0) t.selector.matchExpressions = [...absent].sort().map((key) => ({ key, operator: 'DoesNotExist' as const }));
  }
  return targets;
}

const namespaceSelector = (name: string): LabelSelector => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: name } });

/** Adjacent pieces merged into ranges, ascending. */
function mergeRanges(ranges: readonly IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.version === r.version && BigInt(prev.last) + 1n === BigInt(r.first)) {
      out[out.length - 1] = (prev.version === 4 ? { version: 4, first: prev.first, last: r.last } : { version: 6, first: prev.first, last: r.last }) as IpRange;
    } else out.push(r);
  }
  return out;
}

/** The ranges not covered, within the whole space of one version. */
function holesOf(version: 4 | 6, ranges: readonly IpRange[]): IpRange[] {
  const max = version === 4 ? 0xffffffffn : (1n << 128n) - 1n;
  const out: IpRange[] = [];
  let next = 0n;
  const push = (first: bigint, last: bigint): void => {
    out.push(version === 4 ? { version: 4, first: Number(first), last: Number(last) } : { version: 6, first, last });
  };
  for (const r of ranges) {
    if (BigInt(r.first) > next) push(next, BigInt(r.first) - 1n);
    next = BigInt(r.last) + 1n;
  }
  if (next <= max) push(next, max);
  return out;
}

/** ipBlock peers for address pieces: plain CIDRs, or the whole space with excepts when shorter. */
function ipBlocks(pieces: readonly IpRange[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const version of [4, 6] as const) {
    const ranges = mergeRanges(pieces.filter((p) => p.version === version));
    if (ranges.length === 0) continue;
    const cidrs = ranges.flatMap(rangeToCidrs);
    const holes = holesOf(version, ranges).flatMap(rangeToCidrs);
    if (holes.length + 1 < cidrs.length) out.push({ ipBlock: { cidr: version === 4 ? '0.0.0.0/0' : '::/0', except: holes } });
    else out.push(...cidrs.map((cidr) => ({ ipBlock: { cidr } })));
  }
  return out;
}

/** The peers of one rule: namespaces wholly included by namespace, the rest by workload. */
function peersOf(sources: readonly (Target | IpRange)[], targets: readonly Target[], policyNamespace: string): Record<string, unknown>[] {
  const chosen = new Set(sources.filter((s): s is Target => 'members' in s));
  const namespaces = [...new Set(targets.map((t) => t.namespace))];
  const full = (ns: string): boolean => targets.every((t) => t.namespace !== ns || chosen.has(t));
  const out: Record<string, unknown>[] = [];
  if (namespaces.length > 0 && namespaces.every(full)) out.push({ namespaceSelector: {} });
  else {
    for (const ns of namespaces) {
      if (full(ns)) {
        out.push(ns === policyNamespace ? { podSelector: {} } : { namespaceSelector: namespaceSelector(ns) });
        continue;
      }
      for (const t of targets) {
        if (t.namespace !== ns || !chosen.has(t)) continue;
        out.push(ns === policyNamespace ? { podSelector: t.selector } : { namespaceSelector: namespaceSelector(ns), podSelector: t.selector });
      }
    }
  }
  out.push(...ipBlocks(sources.filter((s): s is IpRange => !('members' in s))));
  return out;
}

/** Ports of a connection set; undefined (no `ports` field) when the whole space is allowed. */
function portsOf(set: ConnectionSet, whole: boolean): Record<string, unknown>[] | undefined {
  if (whole) return undefined;
  return PROTOCOLS.flatMap((protocol) => set[protocol].map((iv) => ({ protocol, port: iv.first, ...(iv.last > iv.first ? { endPort: iv.last } : {}) })));
}

/** What is allowed between two sets of peers: the union over every enforced pair. */
interface Allowance {
  set: ConnectionSet;
  whole: boolean;
  /** Distinct answers seen among the pairs: more than one means the targets over-allow. */
  answers: Set<string>;
}

/** The constraints NetworkPolicy cannot carry, rules in document order then groups. */
function losses(policy: Policy, rules: readonly Rule[]): Loss[] {
  const out: Loss[] = [];
  const used = new Set(rules.flatMap((r) => [...r.from, ...r.to]));
  for (const rule of rules) {
    if (rule.applications.length > 0) out.push(ruleLoss(rule, `applications ${applicationList(rule.applications)} dropped: NetworkPolicy is L3/L4, the ports are allowed for any application`));
    const icmp = rule.ports.filter((p) => p.proto === 'icmp' || p.proto === 'icmpv6');
    if (icmp.length > 0 && rule.action === 'allow') out.push(ruleLoss(rule, `ports [${icmp.map(formatPort).join(', ')}] dropped: NetworkPolicy has no ICMP`));
    if (rule.action === 'deny') out.push(ruleLoss(rule, `deny at priority ${rule.priority} has no NetworkPolicy equivalent: folded into the allow lists computed on this inventory`));
  }
  if (used.has('nodes')) out.push({ subject: 'group nodes', message: 'nodes have no NetworkPolicy selector: exported as ipBlocks of the inventory\'s node addresses' });
  for (const group of groupsByName(policy).values()) {
    if (!used.has(group.name)) continue;
    for (const s of group.selectors) {
      for (const c of s.criteria) {
        if (c.kind === 'fqdn') out.push(groupLoss(group, `fqdn ${c.pattern} dropped: NetworkPolicy has no DNS names, nothing is allowed to or from them`));
        else if (c.kind === 'image' || c.kind === 'service' || c.kind === 'node') {
          const text = c.kind === 'image' ? c.glob : c.name;
          out.push(groupLoss(group, `${c.kind} ${text} has no label equivalent: its workloads on this inventory are selected by their labels, new ones are not covered`));
        }
      }
    }
  }
  out.push(
    ...modeLosses(
      policy,
      groupsByName(policy).values(),
      (mode) => `mode ${mode} has no NetworkPolicy equivalent: exported as enforced (protect)`,
      'has no NetworkPolicy equivalent: every workload is isolated (protect)',
    ),
  );
  return out;
}

export function writeNetworkPolicies(policy: Policy, inventory: Inventory, compiled: CompiledPolicy): ExportResult {
  const reason = untranslatable(policy, inventory);
  if (reason === undefined) {
    const namespaces = [...new Set(inventory.workloads.map((w) => w.namespace))];
    const isolation: Loss = {
      subject: 'policy',
      message: `the default deny and rules of groups without a namespace are written into this inventory's namespaces [${namespaces.join(', ')}]: namespaces created later need a new export`,
    };
    return { manifests: writeRulePolicies(policy, inventory), losses: [...losses(policy, policy.rules.filter((r) => r.disabled !== true)), isolation] };
  }
  const result = writeEnforcedAllowSets(policy, inventory, compiled);
  result.losses.push({ subject: 'policy', message: `${reason} cannot be written rule by rule: exported as what each workload of this inventory may send and receive, selected by its labels` });
  return result;
}

/** One NetworkPolicy per set of indistinguishable workloads, isolating it both ways. */
export function writeEnforcedAllowSets(policy: Policy, inventory: Inventory, compiled: CompiledPolicy): ExportResult {
  const peers = exportPeers(policy, inventory, compiled);
  const workloads = peers.filter((p): p is ExportPeer & { kind: 'workload' } => p.kind === 'workload');
  const addresses = peers.filter((p): p is ExportPeer & { kind: 'address' } => p.kind === 'address');
  const targets = targetsOf(workloads.map((p) => p.workload));
  const peerOf = new Map(workloads.map((p) => [p.workload, p]));
  const out = losses(policy, policy.rules.filter((r) => r.disabled !== true));

  const allowance = (clients: readonly ExportPeer[], servers: readonly ExportPeer[]): Allowance => {
    const a: Allowance = { set: noConnections(), whole: true, answers: new Set() };
    for (const c of clients) {
      for (const s of servers) {
        if (!hasPerimeter(c, s)) continue;
        const cells = enforcedCells(compiled.rules, c.groups, s.groups);
        const set = l4Connections(cells);
        const whole = isWholeSpace(cells);
        a.set = union(a.set, set);
        a.whole &&= whole;
        a.answers.add(whole ? 'whole' : formatConnections(set));
      }
    }
    if (a.answers.size === 0) a.whole = false;
    return a;
  };
  const membersOf = (t: Target): ExportPeer[] => t.members.map((w) => peerOf.get(w) as ExportPeer);

  const names = new Map<string, (name: string) => string>();
  const manifests: Manifest[] = [];
  for (const target of targets) {
    const selected = membersOf(target);
    const rulesOf = (direction: 'ingress' | 'egress'): Record<string, unknown>[] => {
      const byAnswer = new Map<string, { allowance: Allowance; others: (Target | IpRange)[] }>();
      const consider = (other: Target | IpRange, otherPeers: ExportPeer[]): void => {
        const a = direction === 'ingress' ? allowance(otherPeers, selected) : allowance(selected, otherPeers);
        if (!a.whole && !PROTOCOLS.some((p) => a.set[p].length > 0)) return;
        if (a.answers.size > 1) {
          const both = [...selected, ...otherPeers].map((p) => p.id).join(', ');
          out.push({ subject: `workloads ${both}`, message: 'differ in what they may reach but NetworkPolicy cannot tell them apart (same labels, same namespace): each is allowed what any is' });
        }
        const key = a.whole ? 'whole' : formatConnections(a.set);
        const entry = byAnswer.get(key) ?? { allowance: a, others: [] };
        entry.others.push(other);
        byAnswer.set(key, entry);
      };
      for (const t of targets) consider(t, membersOf(t));
      for (const p of addresses) consider(p.range, [p]);
      return [...byAnswer.values()].map(({ allowance: a, others }) => {
        const ports = portsOf(a.set, a.whole && isAll(a.set));
        return { [direction === 'ingress' ? 'from' : 'to']: peersOf(others, targets, target.namespace), ...(ports !== undefined ? { ports } : {}) };
      });
    };
    let unique = names.get(target.namespace);
    if (unique === undefined) names.set(target.namespace, (unique = uniqueNames()));
    manifests.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: unique(objectName(`palisade-${(target.members[0] as Workload).name}`)), namespace: target.namespace, labels: { ...MANAGED_BY } },
      spec: { podSelector: target.selector, policyTypes: ['Ingress', 'Egress'], ingress: rulesOf('ingress'), egress: rulesOf('egress') },
    });
  }
  return { manifests, losses: out };
}
