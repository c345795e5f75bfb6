// A Palisade selector taken apart for the label-selector targets (Cilium, Calico, Istio): the pod
// label requirements, the namespace (by name or labels), address ranges and DNS names, and the
// criteria that no label selector can carry. Each writer spells the parts in its own syntax.

import { parseAddressSpec, rangeToCidrs } from '../model/address.js';
import type { Criterion, Group, LabelRequirement, Selector } from '../model/policy.js';
import { groupLoss, type Loss } from './report.js';

const RESERVED = new Set(['any', 'workloads', 'external', 'nodes']);

export type SelectorParts =
  | { kind: 'identity'; labels: LabelRequirement[]; namespaces: string[]; namespaceLabels: LabelRequirement[] }
  | { kind: 'addresses'; cidrs: string[] }
  | { kind: 'names'; patterns: string[] };

/** What a criterion says, in words, for loss lines. */
export function describeCriterion(c: Criterion): string {
  switch (c.kind) {
    case 'label':
    case 'namespaceLabel':
      return `${c.kind === 'label' ? 'label' : 'namespace label'} ${c.req.key}`;
    case 'namespace':
    case 'service':
    case 'node':
      return `${c.kind} ${c.name}`;
    case 'image':
      return `image ${c.glob}`;
    case 'address':
      return `address ${c.spec}`;
    case 'fqdn':
      return `fqdn ${c.pattern}`;
  }
}

/**
 * The parts of one selector, or undefined (with a loss) when `target` cannot select what it
 * says: service, image and node criteria have no label, and one selector cannot mix a workload's
 * identity with addresses or names.
 */
export function selectorParts(group: Group, selector: Selector, target: string, losses: Loss[]): SelectorParts | undefined {
  const unsupported = selector.criteria.filter((c) => c.kind === 'service' || c.kind === 'image' || c.kind === 'node');
  if (unsupported.length > 0) {
    losses.push(groupLoss(group, `selector with ${unsupported.map(describeCriterion).join(', ')} dropped: ${target} selects by labels only, nothing is allowed or denied through it`));
    return undefined;
  }
  const addresses = selector.criteria.filter((c): c is Criterion & { kind: 'address' } => c.kind === 'address');
  const names = selector.criteria.filter((c): c is Criterion & { kind: 'fqdn' } => c.kind === 'fqdn');
  const identity = selector.criteria.length - addresses.length - names.length;
  if ([identity, addresses.length, names.length].filter((n) => n > 0).length > 1 || addresses.length > 1 || names.length > 1) {
    losses.push(groupLoss(group, `selector mixing ${selector.criteria.map(describeCriterion).join(', ')} dropped: ${target} cannot require several of these at once`));
    return undefined;
  }
  const address = addresses[0];
  if (address !== undefined) {
    const range = parseAddressSpec(address.spec);
    return range === undefined ? undefined : { kind: 'addresses', cidrs: rangeToCidrs(range) };
  }
  const name = names[0];
  if (name !== undefined) return { kind: 'names', patterns: [name.pattern] };
  return {
    kind: 'identity',
    labels: selector.criteria.flatMap((c) => (c.kind === 'label' ? [c.req] : [])),
    namespaces: selector.criteria.flatMap((c) => (c.kind === 'namespace' ? [c.name] : [])),
    namespaceLabels: selector.criteria.flatMap((c) => (c.kind === 'namespaceLabel' ? [c.req] : [])),
  };
}

export interface MatchExpression {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface KubernetesSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: MatchExpression[];
}

/** Requirements as a Kubernetes label selector, keys spelled through `key` (Cilium prefixes them). */
export function kubernetesSelector(reqs: readonly { req: LabelRequirement; key: string }[]): KubernetesSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: MatchExpression[] = [];
  for (const { req, key } of reqs) {
    const value = req.values[0] ?? '';
    if (req.op === 'eq' && !Object.hasOwn(matchLabels, key)) matchLabels[key] = value;
    else if (req.op === 'eq' || req.op === 'in') matchExpressions.push({ key, operator: 'In', values: [...req.values] });
    else if (req.op === 'neq') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
    else matchExpressions.push({ key, operator: 'Exists' });
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

/** The one namespace every endpoint a selector holds for is in, if it names exactly one. */
export function onlyNamespace(parts: SelectorParts): string | undefined {
  return parts.kind === 'identity' && parts.namespaces.length === 1 ? parts.namespaces[0] : undefined;
}

/** The parts of each selector of a group, worked out (and their losses reported) once per group; none for reserved groups. */
export function selectorPartsOf(groups: ReadonlyMap<string, Group>, target: string, losses: Loss[]): (name: string) => (SelectorParts | undefined)[] {
  const known = new Map<string, (SelectorParts | undefined)[]>();
  return (name) => {
    let out = known.get(name);
    if (out === undefined) {
      const g = groups.get(name);
      out = g === undefined || RESERVED.has(name) ? [] : g.selectors.map((s) => selectorParts(g, s, target, losses));
      known.set(name, out);
    }
    return out;
  };
}
