// Palisade policy → Cilium policies (cilium.io/v2). Each group a rule starts or ends in becomes
// the endpointSelector of one policy holding its side of every rule: allows as ingress/egress with
// L7 HTTP, Kafka and DNS rules where the rule names those applications, denies as
// ingressDeny/egressDeny, DNS names as toFQDNs (with the DNS visibility rule Cilium needs).

import type { Group, LabelRequirement, Policy, PortRange, Rule } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { formatPort } from '../policy/document/write.js';
import { groupsByName } from './enforced.js';
import { MANAGED_BY, objectName, uniqueNames, type Manifest } from './manifest.js';
import type { ExportResult } from './networkpolicy.js';
import { applicationList, denyFirstLosses, groupLoss, modeLosses, ruleLoss, type Loss } from './report.js';
import { kubernetesSelector, onlyNamespace, selectorPartsOf, type KubernetesSelector, type SelectorParts } from './selectors.js';

const NAMESPACE_KEY = 'k8s:io.kubernetes.pod.namespace';
const NAMESPACE_LABEL_PREFIX = 'k8s:io.cilium.k8s.namespace.labels.';
/** Every endpoint of the cluster, whatever namespace a CiliumNetworkPolicy is in. */
const ALL_NAMESPACES: KubernetesSelector = { matchExpressions: [{ key: NAMESPACE_KEY, operator: 'Exists' }] };
const ENTITIES: Readonly<Record<string, string[]>> = { any: ['all'], external: ['world'], nodes: ['host', 'remote-node'] };
const KUBE_DNS: KubernetesSelector = { matchLabels: { [NAMESPACE_KEY]: 'kube-system', 'k8s:k8s-app': 'kube-dns' } };

/** L7 rule families Cilium parses, by the applications that ask for them. */
const L7: Readonly<Record<string, 'http' | 'kafka' | 'dns'>> = { http: 'http', http2: 'http', grpc: 'http', kafka: 'kafka', dns: 'dns' };

type Clause = Record<string, unknown>;
type Direction = 'ingress' | 'egress';

/** An endpoint selector: pod labels as written, namespace facts under Cilium's own label keys. */
function endpointSelector(parts: SelectorParts & { kind: 'identity' }, withNamespace: boolean): KubernetesSelector {
  const reqs: { req: LabelRequirement; key: string }[] = parts.labels.map((req) => ({ req, key: req.key }));
  if (withNamespace) for (const ns of parts.namespaces) reqs.push({ req: { key: NAMESPACE_KEY, op: 'eq', values: [ns] }, key: NAMESPACE_KEY });
  for (const req of parts.namespaceLabels) reqs.push({ req, key: `${NAMESPACE_LABEL_PREFIX}${req.key}` });
  const selector = kubernetesSelector(reqs);
  if (withNamespace && parts.namespaces.length === 0) selector.matchExpressions = [...(selector.matchExpressions ?? []), { key: NAMESPACE_KEY, operator: 'Exists' }];
  return selector;
}

interface Subject {
  group: Group | undefined;
  name: string;
  namespace: string | undefined;
  selector: KubernetesSelector;
  entries: Record<'ingress' | 'ingressDeny' | 'egress' | 'egressDeny', Clause[]>;
  fqdn: boolean;
}

export function writeCilium(policy: Policy, _inventory: Inventory, _compiled: CompiledPolicy): ExportResult {
  const losses: Loss[] = [];
  const groups = groupsByName(policy);
  const rules = policy.rules.filter((r) => r.disabled !== true);
  const parts = selectorPartsOf(groups, 'Cilium', losses);

  /** The peer clauses of one side: entities, endpoints, CIDRs or DNS names. */
  const peers = (name: string, direction: Direction, rule: Rule): { clauses: Clause[]; fqdn: boolean } => {
    const dir = direction === 'ingress' ? 'from' : 'to';
    const entities = ENTITIES[name];
    if (entities !== undefined) return { clauses: [{ [`${dir}Entities`]: entities }], fqdn: false };
    if (name === 'workloads') return { clauses: [{ [`${dir}Endpoints`]: [ALL_NAMESPACES] }], fqdn: false };
    const clauses: Clause[] = [];
    let fqdn = false;
    for (const p of parts(name)) {
      if (p === undefined) continue;
      if (p.kind === 'identity') clauses.push({ [`${dir}Endpoints`]: [endpointSelector(p, true)] });
      else if (p.kind === 'addresses') clauses.push({ [`${dir}CIDRSet`]: p.cidrs.map((cidr) => ({ cidr })) });
      else if (direction === 'ingress' || rule.action === 'deny') {
        losses.push(ruleLoss(rule, `fqdn ${p.patterns.join(', ')} dropped: Cilium matches DNS names only as egress allow destinations`));
      } else {
        clauses.push({ toFQDNs: p.patterns.map((pattern) => (pattern.includes('*') ? { matchPattern: pattern } : { matchName: pattern })) });
        fqdn = true;
      }
    }
    return { clauses, fqdn };
  };

  /** The side with a Cilium endpoint: its own group selects one that a policy can attach to. */
  const hasEndpoints = (names: readonly string[]): boolean => names.some((n) => n === 'any' || n === 'workloads' || parts(n).some((p) => p?.kind === 'identity'));

  /**
   * A rule's ports as clause parts (toPorts, icmps), worked out once with its losses. L7 rules go
   * on one side only: HTTP and Kafka where the server is (ingress) when it is an endpoint, DNS
   * where the client is (Cilium parses DNS on egress only).
   */
  const portPlan = (rule: Rule): { parts: Clause[]; l7?: { rules: Clause; side: Direction } } => {
    const l4 = rule.ports.filter((p) => p.proto === 'tcp' || p.proto === 'udp' || p.proto === 'sctp');
    const icmp = rule.ports.filter((p) => p.proto === 'icmp' || p.proto === 'icmpv6');
    const any = rule.ports.length === 0 || rule.ports.some((p) => p.proto === 'any');
    const families = [...new Set(rule.applications.map((a) => L7[a]))];
    const family = families.length === 1 ? families[0] : undefined;
    const apps = applicationList(rule.applications);
    let l7: { rules: Clause; side: Direction } | undefined;
    if (rule.applications.length > 0) {
      const side: Direction = family === 'dns' || !hasEndpoints(rule.to) ? 'egress' : 'ingress';
      if (rule.action === 'deny') losses.push(ruleLoss(rule, `applications ${apps} dropped: Cilium deny rules are L3/L4, the deny holds for any application`));
      else if (family === undefined) losses.push(ruleLoss(rule, `applications ${apps} enforced at L4 only: Cilium parses HTTP, Kafka and DNS, one of them per port`));
      else if (any || l4.length === 0) losses.push(ruleLoss(rule, `applications ${apps} enforced at L4 only: Cilium needs ports for L7 rules`));
      else if (!hasEndpoints(side === 'ingress' ? rule.to : rule.from) || (family === 'dns' && !hasEndpoints(rule.from))) {
        losses.push(ruleLoss(rule, `applications ${apps} enforced at L4 only: no Cilium endpoint on the side that parses ${family.toUpperCase()}`));
      } else l7 = { rules: family === 'http' ? { http: [{}] } : family === 'kafka' ? { kafka: [{}] } : { dns: [{ matchPattern: '*' }] }, side };
    }
    if (any) return { parts: [{}] };
    const out: Clause[] = [];
    const port = (p: PortRange): Clause => ({
      port: String(p.first ?? 0),
      ...(p.last !== undefined && p.first !== undefined && p.last > p.first ? { endPort: p.last } : {}),
      protocol: p.proto.toUpperCase(),
    });
    if (l4.length > 0) out.push({ toPorts: [{ ports: l4.map(port) }] });
    const typed = icmp.filter((p) => p.first !== undefined);
    if (typed.length < icmp.length) losses.push(ruleLoss(rule, `ports [${icmp.filter((p) => p.first === undefined).map(formatPort).join(', ')}] dropped: Cilium matches ICMP by type only`));
    const fields = typed.flatMap((p) => {
      const types: number[] = [];
      for (let t = p.first as number; t <= (p.last ?? (p.first as number)); t++) types.push(t);
      return types.map((type) => ({ type, family: p.proto === 'icmp' ? 'IPv4' : 'IPv6' }));
    });
    if (fields.length > 0) out.push({ icmps: [{ fields }] });
    return { parts: out, ...(l7 !== undefined ? { l7 } : {}) };
  };

  /** The plan's parts for one side, the L7 rules added to toPorts on the side that parses them. */
  const portParts = (plan: ReturnType<typeof portPlan>, direction: Direction): Clause[] =>
    plan.parts.map((part) => {
      const toPorts = part['toPorts'] as Clause[] | undefined;
      if (plan.l7 === undefined || plan.l7.side !== direction || toPorts === undefined) return part;
      return { ...part, toPorts: toPorts.map((tp) => ({ ...tp, rules: plan.l7?.rules })) };
    });

  const subjects = new Map<string, Subject[]>();
  const subjectsOf = (name: string): Subject[] => {
    let out = subjects.get(name);
    if (out !== undefined) return out;
    out = [];
    const empty = (): Subject['entries'] => ({ ingress: [], ingressDeny: [], egress: [], egressDeny: [] });
    const group = groups.get(name);
    if (name === 'any' || name === 'workloads') out.push({ group, name, namespace: undefined, selector: {}, entries: empty(), fqdn: false });
    else if (name === 'nodes') losses.push({ subject: 'group nodes', message: 'the nodes\' own side of rules is not written: that needs Cilium host policies (nodeSelector), which Palisade does not export' });
    else if (ENTITIES[name] === undefined) {
      for (const p of parts(name)) {
        if (p === undefined || p.kind !== 'identity') continue;
        const namespace = onlyNamespace(p);
        out.push({ group, name, namespace, selector: endpointSelector(p, namespace === undefined && p.namespaces.length > 0), entries: empty(), fqdn: false });
      }
    }
    subjects.set(name, out);
    return out;
  };

  for (const rule of rules) {
    const plan = portPlan(rule);
    for (const direction of ['ingress', 'egress'] as const) {
      const own = direction === 'ingress' ? rule.to : rule.from;
      const others = direction === 'ingress' ? rule.from : rule.to;
      for (const name of own) {
        for (const subject of subjectsOf(name)) {
          const ports = portParts(plan, direction);
          for (const other of others) {
            const { clauses, fqdn } = peers(other, direction, rule);
            subject.fqdn ||= fqdn;
            const key = rule.action === 'deny' ? (`${direction}Deny` as const) : direction;
            for (const clause of clauses) for (const p of ports) subject.entries[key].push({ ...clause, ...p });
          }
        }
      }
    }
  }

  losses.push(...denyFirstLosses(rules, 'Cilium applies every deny before any allow'));
  losses.push(
    ...modeLosses(
      policy,
      groups.values(),
      (mode) => `mode ${mode} has no Cilium policy field: the rules are enforced (use Cilium's policy audit mode to only report)`,
      'has no Cilium policy field: endpoints no policy selects stay open, selected ones are enforced',
    ),
  );

  const manifests: Manifest[] = [];
  const unique = uniqueNames();
  for (const list of subjects.values()) {
    for (const s of list) {
      const e = s.entries;
      if (e.ingress.length + e.ingressDeny.length + e.egress.length + e.egressDeny.length === 0) continue;
      if (s.fqdn) {
        e.egress.push({ toEndpoints: [KUBE_DNS], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] });
        if (s.group !== undefined) losses.push(groupLoss(s.group, 'egress to kube-dns on port 53 added: toFQDNs learns addresses only from DNS answers Cilium sees'));
      }
      const spec: Record<string, unknown> = { endpointSelector: s.selector };
      for (const key of ['ingress', 'ingressDeny', 'egress', 'egressDeny'] as const) if (e[key].length > 0) spec[key] = e[key];
      manifests.push({
        apiVersion: 'cilium.io/v2',
        kind: s.namespace === undefined ? 'CiliumClusterwideNetworkPolicy' : 'CiliumNetworkPolicy',
        metadata: { name: unique(objectName(`palisade-${s.name}`)), ...(s.namespace !== undefined ? { namespace: s.namespace } : {}), labels: { ...MANAGED_BY } },
        spec,
      });
    }
  }
  return { manifests, losses };
}
