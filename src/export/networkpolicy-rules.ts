// NetworkPolicies written rule by rule, groups as selectors: what a reader expects to see, and what
// keeps holding for workloads that arrive later. Exact only when the policy is a plain union of
// allows over label, namespace and address groups; `translatable` says why not otherwise, and
// networkpolicy.ts then writes the computed allow set per workload instead.

import { parseAddressSpec, rangeContains, rangeToCidrs, type IpAddr, type IpRange } from '../model/address.js';
import type { Group, LabelRequirement, Policy, PortRange, Rule, Selector } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import { matchesLabels } from '../policy/select.js';
import { NAMESPACE_NAME_LABEL } from './kubernetes/resources.js';
import { groupsByName } from './enforced.js';
import { MANAGED_BY, objectName, uniqueNames, type Manifest } from './manifest.js';
import { kubernetesSelector, type KubernetesSelector } from './selectors.js';

type Peer = Record<string, unknown>;

const selectorOf = (reqs: readonly LabelRequirement[]): KubernetesSelector => kubernetesSelector(reqs.map((req) => ({ req, key: req.key })));

/** A selector that NetworkPolicy can say: identity criteria of label kinds, or one address. */
function selectorKind(s: Selector): 'identity' | 'address' | 'names' | undefined {
  if (s.criteria.some((c) => c.kind === 'fqdn')) return 'names';
  if (s.criteria.length === 1 && s.criteria[0]?.kind === 'address') return 'address';
  return s.criteria.every((c) => c.kind === 'label' || c.kind === 'namespace' || c.kind === 'namespaceLabel') ? 'identity' : undefined;
}

function addressesOf(inventory: Inventory): IpAddr[] {
  return inventory.workloads.flatMap((w) => w.addresses.flatMap((a) => {
    const r = parseAddressSpec(a.ip);
    return r === undefined ? [] : [r.version === 4 ? { version: 4 as const, value: r.first } : { version: 6 as const, value: r.first }];
  }));
}

/** Why the policy cannot be written rule by rule, or undefined when it can. */
export function untranslatable(policy: Policy, inventory: Inventory): string | undefined {
  const rules = policy.rules.filter((r) => r.disabled !== true);
  const denies = rules.filter((r) => r.action === 'deny').map((r) => r.id);
  if (denies.length > 0) return `deny rules [${denies.join(', ')}]`;
  const groups = groupsByName(policy);
  const workloadAddresses = addressesOf(inventory);
  for (const name of new Set(rules.flatMap((r) => [...r.from, ...r.to]))) {
    const g = groups.get(name);
    if (g === undefined || g.reserved === true || ['any', 'workloads', 'external', 'nodes'].includes(name)) continue;
    for (const s of g.selectors) {
      const kind = selectorKind(s);
      if (kind === undefined) return `group ${name} selecting by service, image or node`;
      const range = kind === 'address' && s.criteria[0]?.kind === 'address' ? parseAddressSpec(s.criteria[0].spec) : undefined;
      if (range !== undefined && workloadAddresses.some((a) => rangeContains(range, a))) return `group ${name} holding workloads by address`;
    }
  }
  return undefined;
}

function nodeRanges(inventory: Inventory): IpRange[] {
  return inventory.nodes.flatMap((n) => n.addresses.flatMap((a) => {
    const r = parseAddressSpec(a);
    return r === undefined ? [] : [r];
  }));
}

/** `0.0.0.0/0` and `::/0` without the nodes' addresses: where Palisade's `external` lives. */
function externalBlocks(inventory: Inventory): Peer[] {
  const nodes = nodeRanges(inventory);
  return (['0.0.0.0/0', '::/0'] as const).map((cidr, i) => {
    const except = nodes.filter((r) => r.version === (i === 0 ? 4 : 6)).flatMap(rangeToCidrs);
    return { ipBlock: { cidr, ...(except.length > 0 ? { except } : {}) } };
  });
}

/** The peers a group stands for in a rule. */
function peersOf(name: string, groups: ReadonlyMap<string, Group>, inventory: Inventory): Peer[] {
  if (name === 'any') return [{ namespaceSelector: {} }, { ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }];
  if (name === 'workloads') return [{ namespaceSelector: {} }];
  if (name === 'external') return externalBlocks(inventory);
  if (name === 'nodes') return nodeRanges(inventory).flatMap(rangeToCidrs).map((cidr) => ({ ipBlock: { cidr } }));
  const g = groups.get(name);
  return (g?.selectors ?? []).flatMap((s): Peer[] => {
    const kind = selectorKind(s);
    if (kind === 'address') {
      const c = s.criteria[0];
      const range = c?.kind === 'address' ? parseAddressSpec(c.spec) : undefined;
      return range === undefined ? [] : rangeToCidrs(range).map((cidr) => ({ ipBlock: { cidr } }));
    }
    if (kind !== 'identity') return [];
    const labels = s.criteria.flatMap((c) => (c.kind === 'label' ? [c.req] : []));
    const namespaceReqs = s.criteria.flatMap((c): LabelRequirement[] =>
      c.kind === 'namespace' ? [{ key: NAMESPACE_NAME_LABEL, op: 'eq', values: [c.name] }] : c.kind === 'namespaceLabel' ? [c.req] : [],
    );
    return [{ namespaceSelector: selectorOf(namespaceReqs), podSelector: selectorOf(labels) }];
  });
}

/** Namespaces (of the inventory) where a selector can hold, and the pod selector to use there. */
function subjectsOf(name: string, groups: ReadonlyMap<string, Group>, inventory: Inventory): { namespace: string; podSelector: KubernetesSelector }[] {
  const namespaces = [...new Set(inventory.workloads.map((w) => w.namespace))];
  if (name === 'any' || name === 'workloads') return namespaces.map((namespace) => ({ namespace, podSelector: {} }));
  const labelsOf = new Map(inventory.namespaces.map((ns) => [ns.name, { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name }]));
  const g = groups.get(name);
  return (g?.selectors ?? []).flatMap((s) => {
    if (selectorKind(s) !== 'identity') return [];
    const podSelector = selectorOf(s.criteria.flatMap((c) => (c.kind === 'label' ? [c.req] : [])));
    return namespaces
      .filter((ns) =>
        s.criteria.every((c) => {
          if (c.kind === 'namespace') return c.name === ns;
          if (c.kind === 'namespaceLabel') return matchesLabels(labelsOf.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns }, c.req);
          return true;
        }),
      )
      .map((namespace) => ({ namespace, podSelector }));
  });
}

/** NetworkPolicy ports of a rule; undefined for every port; empty when only ICMP is named. */
function portsOf(ports: readonly PortRange[]): Peer[] | undefined {
  if (ports.length === 0 || ports.some((p) => p.proto === 'any')) return undefined;
  return ports.flatMap((p): Peer[] => {
    if (p.proto !== 'tcp' && p.proto !== 'udp' && p.proto !== 'sctp') return [];
    const protocol = p.proto.toUpperCase();
    if (p.first === undefined) return [{ protocol }];
    const first = Math.max(p.first, 1);
    const last = p.last ?? p.first;
    return last < first ? [] : [{ protocol, port: first, ...(last > first ? { endPort: last } : {}) }];
  });
}

/**
 * A default deny (both ways) in every namespace with workloads, then one policy per rule, side
 * and namespace: ingress where the destination group selects, egress where the source does.
 */
export function writeRulePolicies(policy: Policy, inventory: Inventory): Manifest[] {
  const groups = groupsByName(policy);
  const names = new Map<string, (name: string) => string>();
  const manifest = (namespace: string, name: string, spec: Record<string, unknown>): Manifest => {
    let unique = names.get(namespace);
    if (unique === undefined) names.set(namespace, (unique = uniqueNames()));
    return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: unique(objectName(name)), namespace, labels: { ...MANAGED_BY } }, spec };
  };
  const out = [...new Set(inventory.workloads.map((w) => w.namespace))].map((ns) => manifest(ns, 'palisade-default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
  for (const rule of policy.rules.filter((r: Rule) => r.disabled !== true && r.action === 'allow')) {
    const ports = portsOf(rule.ports);
    if (ports !== undefined && ports.length === 0) continue;
    for (const direction of ['ingress', 'egress'] as const) {
      const peers = (direction === 'ingress' ? rule.from : rule.to).flatMap((n) => peersOf(n, groups, inventory));
      if (peers.length === 0) continue;
      for (const subject of direction === 'ingress' ? rule.to : rule.from) {
        for (const { namespace, podSelector } of subjectsOf(subject, groups, inventory)) {
          out.push(
            manifest(namespace, `palisade-${rule.id}-${direction}`, {
              podSelector,
              policyTypes: [direction === 'ingress' ? 'Ingress' : 'Egress'],
              [direction]: [{ [direction === 'ingress' ? 'from' : 'to']: peers, ...(ports !== undefined ? { ports } : {}) }],
            }),
          );
        }
      }
    }
  }
  return out;
}
