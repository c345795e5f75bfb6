// Palisade policy → Calico policies (projectcalico.org/v3). Calico has what NetworkPolicy lacks,
// ordered policies and Deny, so each group a rule starts or ends in becomes one policy per rule
// priority: `order` from the priority (higher priority, lower order), denies before allows inside
// one policy as in Palisade, selectors in Calico's expression syntax. Namespaced when the group
// names one namespace, GlobalNetworkPolicy otherwise.

import type { LabelRequirement, Policy, PortRange, Rule } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { groupsByName } from './enforced.js';
import { MANAGED_BY, objectName, uniqueNames, type Manifest } from './manifest.js';
import type { ExportResult } from './networkpolicy.js';
import { applicationList, modeLosses, ruleLoss, type Loss } from './report.js';
import { onlyNamespace, selectorPartsOf, type SelectorParts } from './selectors.js';

const NAMESPACE_NAME = 'projectcalico.org/name';
/** Traffic from or to an address that belongs to no Calico endpoint: Palisade's `external`. */
const EXTERNAL: Entity = { nets: ['0.0.0.0/0', '::/0'], notSelector: 'all()' };
const ORDER_STEP = 100;

type Entity = Record<string, unknown>;
type Direction = 'ingress' | 'egress';

const quote = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `app == 'web' && has(pci) && tier in {'a', 'b'}`; no requirement selects everything: `all()`. */
export function calicoSelector(reqs: readonly LabelRequirement[]): string {
  if (reqs.length === 0) return 'all()';
  return reqs
    .map((r) => {
      if (r.op === 'eq') return `${r.key} == ${quote(r.values[0] ?? '')}`;
      if (r.op === 'neq') return `${r.key} != ${quote(r.values[0] ?? '')}`;
      if (r.op === 'exists') return `has(${r.key})`;
      return `${r.key} in {${r.values.map(quote).join(', ')}}`;
    })
    .join(' && ');
}

/** Namespaces by name and labels as one namespaceSelector expression. */
function namespaceExpression(parts: SelectorParts & { kind: 'identity' }): string {
  const reqs: LabelRequirement[] = [...parts.namespaces.map((name): LabelRequirement => ({ key: NAMESPACE_NAME, op: 'eq', values: [name] })), ...parts.namespaceLabels];
  return calicoSelector(reqs);
}

interface Subject {
  name: string;
  namespace: string | undefined;
  selector: string;
  namespaceSelector: string | undefined;
  /** Rules by priority, ingress and egress, in Palisade order (deny first, then id). */
  byPriority: Map<number, Record<Direction, Entity[]>>;
}

export function writeCalico(policy: Policy, _inventory: Inventory, _compiled: CompiledPolicy): ExportResult {
  const losses: Loss[] = [];
  const groups = groupsByName(policy);
  const rules = policy.rules.filter((r) => r.disabled !== true).sort((a, b) => (a.action !== b.action ? (a.action === 'deny' ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const parts = selectorPartsOf(groups, 'Calico', losses);

  /** The entities (source or destination) one group stands for. */
  const entities = (name: string, rule: Rule): Entity[] => {
    if (name === 'any') return [{}];
    if (name === 'workloads') return [{ namespaceSelector: 'all()' }];
    if (name === 'external') return [EXTERNAL];
    if (name === 'nodes') {
      losses.push(ruleLoss(rule, 'nodes dropped: Calico selects nodes only through host endpoints, which Palisade does not define'));
      return [];
    }
    return parts(name).flatMap((p): Entity[] => {
      if (p === undefined) return [];
      if (p.kind === 'addresses') return [{ nets: p.cidrs }];
      if (p.kind === 'names') {
        losses.push(ruleLoss(rule, `fqdn ${p.patterns.join(', ')} dropped: Calico open source has no DNS name match`));
        return [];
      }
      return [{ selector: calicoSelector(p.labels), namespaceSelector: namespaceExpression(p) }];
    });
  };

  /** Protocol, ports and ICMP type per Calico rule: one protocol each. */
  const portClauses = (rule: Rule): { clause: Entity; ports?: (number | string)[] }[] => {
    if (rule.ports.length === 0 || rule.ports.some((p) => p.proto === 'any')) return [{ clause: {} }];
    const out: { clause: Entity; ports?: (number | string)[] }[] = [];
    for (const proto of ['tcp', 'udp', 'sctp'] as const) {
      const mine = rule.ports.filter((p) => p.proto === proto);
      if (mine.length === 0) continue;
      const protocol = proto.toUpperCase();
      if (mine.some((p) => p.first === undefined)) out.push({ clause: { protocol } });
      else out.push({ clause: { protocol }, ports: mine.map((p: PortRange) => (p.last !== undefined && p.last !== p.first ? `${p.first}:${p.last}` : (p.first as number))) });
    }
    for (const p of rule.ports.filter((x) => x.proto === 'icmp' || x.proto === 'icmpv6')) {
      const protocol = p.proto === 'icmp' ? 'ICMP' : 'ICMPv6';
      if (p.first === undefined) out.push({ clause: { protocol } });
      else for (let type = p.first; type <= (p.last ?? p.first); type++) out.push({ clause: { protocol, icmp: { type } } });
    }
    return out;
  };

  const subjects = new Map<string, Subject[]>();
  const subjectsOf = (name: string): Subject[] => {
    let out = subjects.get(name);
    if (out !== undefined) return out;
    out = [];
    if (name === 'any' || name === 'workloads') out.push({ name, namespace: undefined, selector: 'all()', namespaceSelector: undefined, byPriority: new Map() });
    else {
      for (const p of parts(name)) {
        if (p === undefined || p.kind !== 'identity') continue;
        // A namespaced policy cannot also test its namespace's labels: those stay global.
        const namespace = p.namespaceLabels.length === 0 ? onlyNamespace(p) : undefined;
        const global = namespace === undefined && (p.namespaces.length > 0 || p.namespaceLabels.length > 0);
        out.push({ name, namespace, selector: calicoSelector(p.labels), namespaceSelector: global ? namespaceExpression(p) : undefined, byPriority: new Map() });
      }
    }
    subjects.set(name, out);
    return out;
  };

  for (const rule of policy.rules) {
    if (rule.disabled !== true && rule.applications.length > 0) {
      losses.push(ruleLoss(rule, `applications ${applicationList(rule.applications)} dropped: Calico policies are L3/L4 without its application layer, the ports are ${rule.action === 'allow' ? 'allowed' : 'denied'} for any application`));
    }
  }
  for (const rule of rules) {
    const ports = portClauses(rule);
    for (const direction of ['ingress', 'egress'] as const) {
      const own = direction === 'ingress' ? rule.to : rule.from;
      const others = direction === 'ingress' ? rule.from : rule.to;
      const peers = others.flatMap((o) => entities(o, rule));
      for (const name of own) {
        for (const subject of subjectsOf(name)) {
          let slot = subject.byPriority.get(rule.priority);
          if (slot === undefined) subject.byPriority.set(rule.priority, (slot = { ingress: [], egress: [] }));
          for (const peer of peers) {
            for (const { clause, ports: numbers } of ports) {
              const destinationPorts = numbers !== undefined ? { ports: numbers } : {};
              const [source, destination] = direction === 'ingress' ? [peer, destinationPorts] : [{}, { ...peer, ...destinationPorts }];
              slot[direction].push({
                action: rule.action === 'allow' ? 'Allow' : 'Deny',
                ...clause,
                ...(Object.keys(source).length > 0 ? { source } : {}),
                ...(Object.keys(destination).length > 0 ? { destination } : {}),
                metadata: { annotations: { 'palisade.dev/rule': rule.id } },
              });
            }
          }
        }
      }
    }
  }
  losses.push(
    ...modeLosses(
      policy,
      groups.values(),
      (mode) => `mode ${mode} has no Calico equivalent: the rules are enforced (a staged policy would only report)`,
      'has no Calico equivalent: endpoints no policy selects stay open, selected ones are enforced',
    ),
  );

  const priorities = [...new Set(rules.map((r) => r.priority))].sort((a, b) => b - a);
  const orderOf = (priority: number): number => (priorities.indexOf(priority) + 1) * ORDER_STEP;
  const manifests: Manifest[] = [];
  const unique = uniqueNames();
  for (const list of subjects.values()) {
    for (const s of list) {
      for (const priority of priorities) {
        const slot = s.byPriority.get(priority);
        if (slot === undefined || slot.ingress.length + slot.egress.length === 0) continue;
        const types = (['ingress', 'egress'] as const).filter((d) => slot[d].length > 0);
        const spec: Record<string, unknown> = {
          order: orderOf(priority),
          selector: s.selector,
          ...(s.namespaceSelector !== undefined ? { namespaceSelector: s.namespaceSelector } : {}),
          types: types.map((d) => (d === 'ingress' ? 'Ingress' : 'Egress')),
          ...(slot.ingress.length > 0 ? { ingress: slot.ingress } : {}),
          ...(slot.egress.length > 0 ? { egress: slot.egress } : {}),
        };
        manifests.push({
          apiVersion: 'projectcalico.org/v3',
          kind: s.namespace === undefined ? 'GlobalNetworkPolicy' : 'NetworkPolicy',
          metadata: { name: unique(objectName(`palisade-${s.name}-${orderOf(priority)}`)), ...(s.namespace !== undefined ? { namespace: s.namespace } : {}), labels: { ...MANAGED_BY } },
          spec,
        });
      }
    }
  }
  return { manifests, losses };
}
