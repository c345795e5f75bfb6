// The service graph → a proposed least-privilege policy: one group per service with a selector
// that survives restarts and rollouts, FQDN or address groups for egress, and one allow rule per
// service pair naming what DPI identified (else the ports). Ids derive from names, so learning
// twice over similar traffic proposes the same ids and a reviewer's diff stays small.

import { findProtocol } from '../dpi/registry.js';
import type { Criterion, Group, Mode, PortRange, Rule, Selector } from '../model/policy.js';
import type { Inventory, Labels, Workload } from '../model/workload.js';
import { serviceSelects } from '../inventory/service.js';
import { stabilityOf, type Edge, type Peer, type ServiceGraph, type Stability } from './graph.js';

/** Labels that change with every rollout or pod: a selector on them would lose the workload. */
export const VOLATILE_LABELS: readonly string[] = ['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'pod-template-generation', 'job-name', 'controller-uid', 'batch.kubernetes.io/job-name', 'batch.kubernetes.io/controller-uid'];

/** Labels that say what a workload is (rather than which version or instance). */
const IDENTIFYING_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app', 'k8s-app', 'component', 'tier', 'role'];

/** Above this many distinct ports a rule's ports are collapsed into ranges. */
const MAX_LISTED_PORTS = 8;

export interface ProposedGroup {
  group: Group;
  /** Evidence, written as YAML comments above the group. */
  notes: string[];
  /** Graph peer the group stands for; undefined for reserved groups. */
  peer: string;
  stability?: Stability;
}

export interface ProposedRule {
  rule: Rule;
  notes: string[];
  edges: Edge[];
}

export interface Proposal {
  groups: ProposedGroup[];
  rules: ProposedRule[];
  stability: Map<string, Stability>;
  /** Graph peer key → group name used in rules. */
  groupOf: Map<string, string>;
}

export interface ProposeOptions {
  stableAfterMs: number;
  /** Group names already defined (by a policy being merged into): reused, not proposed again. */
  existingGroups?: ReadonlySet<string>;
  /** Rule ids already used: a proposed rule with a clashing id gets a numeric suffix. */
  existingRules?: ReadonlySet<string>;
}

const NAME_OK = /[^A-Za-z0-9._-]+/g;

/** A valid group name or rule id from free text: letters, digits, '.', '_', '-' inside. */
export function safeName(text: string): string {
  const s = text.replace(NAME_OK, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return (s === '' ? 'unnamed' : s).slice(0, 200);
}

export function groupNameOf(peer: Peer): string {
  if (peer.kind === 'service') return safeName(`${peer.namespace}.${peer.name}`);
  if (peer.kind === 'node') return 'nodes';
  if (peer.fqdn !== undefined) return safeName(`fqdn-${peer.fqdn}`);
  return safeName(`addr-${peer.name}`);
}

function commonLabels(workloads: readonly Workload[]): Record<string, string> {
  const first = workloads[0];
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first.labels)) {
    if (VOLATILE_LABELS.includes(k)) continue;
    if (workloads.every((w) => w.labels[k] === v)) out[k] = v;
  }
  return out;
}

/** The labels that pick a service's workloads: its Kubernetes Service's selector, else the identifying ones. */
function stableLabels(inventory: Inventory, namespace: string, service: string, workloads: readonly Workload[]): Record<string, string> {
  const common = commonLabels(workloads);
  const svc = inventory.services.find((s) => s.name === service && s.namespace === namespace);
  if (svc !== undefined && workloads.length > 0 && workloads.every((w) => serviceSelects(svc, namespace, w.labels))) {
    return Object.fromEntries(Object.entries(svc.selector).filter(([k]) => !VOLATILE_LABELS.includes(k)));
  }
  return Object.fromEntries(IDENTIFYING_LABELS.filter((k) => common[k] !== undefined).map((k) => [k, common[k] as string]));
}

function labelsHold(labels: Labels, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => labels[k] === v);
}

/**
 * Namespace + stable labels; the service criterion is added when the labels alone are empty or
 * would also pick a workload of another service, so groups of one namespace never overlap.
 */
function serviceSelector(inventory: Inventory, peer: Peer): Selector {
  const namespace = peer.namespace as string;
  const mine = inventory.workloads.filter((w) => w.namespace === namespace && w.service === peer.name);
  const labels = stableLabels(inventory, namespace, peer.name, mine);
  const criteria: Criterion[] = [{ kind: 'namespace', name: namespace }];
  for (const [key, value] of Object.entries(labels)) criteria.push({ kind: 'label', req: { key, op: 'eq', values: [value] } });
  const overlaps = inventory.workloads.some((w) => w.namespace === namespace && w.service !== peer.name && labelsHold(w.labels, labels));
  if (Object.keys(labels).length === 0 || overlaps) criteria.push({ kind: 'service', name: peer.name });
  return { criteria };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

function groupFor(inventory: Inventory, peer: Peer, stability: Stability | undefined, windowMs: number): ProposedGroup {
  const name = groupNameOf(peer);
  if (peer.kind === 'service') {
    const mode: Mode = stability?.stable === true ? 'protect' : 'discover';
    const quiet = stability === undefined ? '' : `no new connection for ${formatDuration(stability.quietFor)}`;
    const notes = [
      `service ${peer.name} in namespace ${peer.namespace}; workloads seen: ${peer.members.join(', ')}`,
      stability?.stable === true ? `stable: ${quiet} (window ${formatDuration(windowMs)}), ready to protect` : `still learning: ${quiet}, less than the window of ${formatDuration(windowMs)}`,
    ];
    const group: Group = { name, selectors: [serviceSelector(inventory, peer)], mode };
    const out: ProposedGroup = { group, notes, peer: peer.key };
    if (stability !== undefined) out.stability = stability;
    return out;
  }
  const criterion: Criterion = peer.fqdn !== undefined ? { kind: 'fqdn', pattern: peer.fqdn } : { kind: 'address', spec: peer.name };
  const notes = peer.fqdn !== undefined ? [`external name ${peer.fqdn}, resolved on the wire to ${peer.members.join(', ')}`] : [`external address ${peer.name} (no DNS answer named it)`];
  return { group: { name, selectors: [{ criteria: [criterion] }] }, notes, peer: peer.key };
}

/** Sorted ports as rule entries; more than MAX_LISTED_PORTS collapse into ranges, then into one span. */
export function collapsePorts(proto: PortRange['proto'], ports: readonly number[]): PortRange[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  if (proto === 'any' || sorted.includes(0) && proto !== 'icmp' && proto !== 'icmpv6') return [{ proto }];
  if (sorted.length <= MAX_LISTED_PORTS) return sorted.map((p) => ({ proto, first: p, last: p }));
  const ranges: PortRange[] = [];
  for (const p of sorted) {
    const prev = ranges[ranges.length - 1];
    if (prev !== undefined && prev.last !== undefined && p <= prev.last + 1) prev.last = p;
    else ranges.push({ proto, first: p, last: p });
  }
  if (ranges.length <= MAX_LISTED_PORTS) return ranges;
  return [{ proto, first: sorted[0] as number, last: sorted[sorted.length - 1] as number }];
}

function portsOf(uses: { proto: string; port: number }[]): PortRange[] {
  const byProto = new Map<string, number[]>();
  for (const u of uses) byProto.set(u.proto, [...(byProto.get(u.proto) ?? []), u.port]);
  const out: PortRange[] = [];
  for (const [proto, ports] of [...byProto].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    out.push(...collapsePorts(proto === 'other' ? 'any' : (proto as PortRange['proto']), ports));
  }
  return out.some((p) => p.proto === 'any') ? [{ proto: 'any' }] : out;
}

function edgeNotes(edges: readonly Edge[]): string[] {
  const flows = edges.reduce((n, e) => n + e.flows, 0);
  const bytes = edges.reduce((n, e) => n + e.bytes, 0);
  const first = Math.min(...edges.map((e) => e.firstSeen));
  const last = Math.max(...edges.map((e) => e.lastSeen));
  const ex = (edges[0] as Edge).example;
  const app = ex.appConfidence === 'dpi' ? ` ${ex.app}` : '';
  const detail = [ex.meta.httpMethod && `${ex.meta.httpMethod} ${ex.meta.httpHost ?? ''}${ex.meta.httpPath ?? ''}`, ex.meta.dnsQuery && `query ${ex.meta.dnsQuery}`, ex.meta.sni && `sni ${ex.meta.sni}`]
    .filter((d): d is string => typeof d === 'string' && d !== '')
    .join(', ');
  return [
    `seen: ${flows} flow(s), ${bytes} byte(s), first ${iso(first)}, last ${iso(last)}`,
    `example: ${ex.ipProto} ${ex.client.ip}:${ex.client.port} -> ${ex.server.ip}:${ex.server.port}${app}${detail ? ` (${detail})` : ''} at ${ex.firstSeen}`,
  ];
}

/** Identified applications a rule may name: those the registry knows (a name it does not know would not load). */
function nameable(app: string): string | undefined {
  return findProtocol(app)?.name.toLowerCase();
}

function learnedRule(id: string, from: string[], to: string[], ports: PortRange[], applications: string[]): Rule {
  return { id, from, to, ports, applications, action: 'allow', priority: 0, source: 'learned' };
}

/** Edges to a resolver that carried only identified DNS: one rule per resolver covers every client. */
function isDnsEdge(e: Edge, to: Peer): boolean {
  if (to.kind === 'external') return false;
  return [...e.ports.values()].every((u) => u.unidentified === 0 && u.apps.size === 1 && u.apps.has('dns'));
}

export function propose(graph: ServiceGraph, inventory: Inventory, opts: ProposeOptions): Proposal {
  const stability = stabilityOf(graph, opts.stableAfterMs);
  const groupOf = new Map<string, string>();
  const groups = new Map<string, ProposedGroup>();
  const existing = opts.existingGroups ?? new Set<string>();
  for (const peer of graph.peers.values()) {
    const edgesAsServer = graph.edges.some((e) => e.to === peer.key);
    // An external client is the reserved `external`: ingress is allowed from wherever it was seen.
    const name = peer.kind === 'external' && !edgesAsServer ? 'external' : groupNameOf(peer);
    groupOf.set(peer.key, name);
    if (name === 'external' || name === 'nodes' || existing.has(name) || groups.has(name)) continue;
    groups.set(name, groupFor(inventory, peer, stability.get(peer.key), opts.stableAfterMs));
  }
  const nameOf = (key: string, asClient: boolean): string => {
    const peer = graph.peers.get(key) as Peer;
    return asClient && peer.kind === 'external' ? 'external' : (groupOf.get(key) as string);
  };

  const usedIds = new Set(opts.existingRules ?? []);
  const uniqueId = (base: string): string => {
    let id = safeName(base);
    for (let n = 2; usedIds.has(id); n++) id = safeName(`${base}-${n}`);
    usedIds.add(id);
    return id;
  };

  const rules: ProposedRule[] = [];
  const dnsClients = new Map<string, { from: Set<string>; edges: Edge[] }>();
  const pairs = new Map<string, Edge[]>();
  for (const e of graph.edges) {
    const from = nameOf(e.from, true);
    const to = nameOf(e.to, false);
    if (isDnsEdge(e, graph.peers.get(e.to) as Peer)) {
      const d = dnsClients.get(to) ?? { from: new Set<string>(), edges: [] };
      d.from.add(from);
      d.edges.push(e);
      dnsClients.set(to, d);
      continue;
    }
    const key = `${from}\u0000${to}`;
    pairs.set(key, [...(pairs.get(key) ?? []), e]);
  }
  for (const [key, edges] of [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const [from, to] = key.split('\u0000') as [string, string];
    const uses = edges.flatMap((e) => [...e.ports.values()]);
    const identified = uses.filter((u) => [...u.apps.keys()].some((a) => nameable(a) !== undefined));
    const plain = uses.filter((u) => u.unidentified > 0 || [...u.apps.keys()].some((a) => nameable(a) === undefined));
    const apps = [...new Set(identified.flatMap((u) => [...u.apps.keys()].flatMap((a) => nameable(a) ?? [])))].sort();
    const base = `${from}-to-${to}`;
    const notes = edgeNotes(edges);
    if (apps.length > 0) {
      const rule = learnedRule(uniqueId(base), [from], [to], portsOf(identified), apps);
      rules.push({ rule, notes: [...notes, `identified: ${apps.join(', ')}`], edges });
    }
    if (plain.length > 0) {
      const rule = learnedRule(uniqueId(apps.length > 0 ? `${base}-ports` : base), [from], [to], portsOf(plain), []);
      rules.push({ rule, notes: [...notes, 'no application identified from payload on these ports'], edges });
    }
  }
  for (const [to, d] of [...dnsClients].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const uses = d.edges.flatMap((e) => [...e.ports.values()]);
    const rule = learnedRule(uniqueId(`dns-to-${to}`), [...d.from].sort(), [to], portsOf(uses), ['dns']);
    rules.push({ rule, notes: [...edgeNotes(d.edges), `DNS to the cluster resolver from ${d.from.size} client group(s)`], edges: d.edges });
  }
  rules.sort((a, b) => (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0));
  return { groups: [...groups.values()].sort((a, b) => (a.group.name < b.group.name ? -1 : 1)), rules, stability, groupOf };
}
