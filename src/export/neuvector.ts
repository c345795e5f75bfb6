// Palisade policy → NeuVector security rules (neuvector.com/v1). NeuVector speaks in groups with
// criteria and per-group rule lists, like Palisade: each group becomes the target of one rule
// object holding the rules into it (ingress), and rules into a reserved group sit with their source
// (egress). neuvector-read.ts reads these objects back; the two are kept inverse of each other.

import type { Criterion, Group, Mode, Policy, Rule, Selector } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { formatPort } from '../policy/document/write.js';
import { groupsByName } from './enforced.js';
import { MANAGED_BY, objectName, uniqueNames, type Manifest } from './manifest.js';
import type { ExportResult } from './networkpolicy.js';
import { applicationName, groupLoss, ruleLoss, type Loss } from './report.js';

export interface NvCriterion {
  key: string;
  value: string;
  op: '=' | '!=';
}

export interface NvSelector {
  name: string;
  criteria: NvCriterion[];
}

export interface NvRule {
  name: string;
  selector: NvSelector;
  action: 'allow' | 'deny';
  applications: string[];
  ports: string;
  priority: number;
}

/** Criterion keys NeuVector reserves; any other key is a label. */
export const NV_KEYS = { namespace: 'domain', service: 'service', image: 'image', node: 'node', address: 'address' } as const;
const RESERVED_KEYS = new Set<string>([...Object.values(NV_KEYS), 'container']);

/** Palisade's reserved groups under NeuVector's names; `any` has none. */
export const NV_RESERVED: Readonly<Record<string, string>> = { external: 'external', nodes: 'nodes', workloads: 'containers' };

export const NV_MODES: Readonly<Record<Mode, string>> = { discover: 'Discover', monitor: 'Monitor', protect: 'Protect' };

/** A wildcard value: NeuVector's `key=*` means the label is present. */
export const NV_ANY_VALUE = '*';

function criteriaOf(group: Group, selector: Selector, losses: Loss[]): NvCriterion[] {
  const out: NvCriterion[] = [];
  for (const c of selector.criteria) {
    const nv = criterionToNv(c);
    if (typeof nv === 'string') losses.push(groupLoss(group, nv));
    else out.push(...nv);
  }
  return out;
}

/** The NeuVector criteria of one Palisade criterion, or why there are none. */
function criterionToNv(c: Criterion): NvCriterion[] | string {
  switch (c.kind) {
    case 'label': {
      const { key, op, values } = c.req;
      if (RESERVED_KEYS.has(key)) return `label ${key} dropped: NeuVector reads the key ${key} as its own criterion`;
      if (op === 'exists') return [{ key, value: NV_ANY_VALUE, op: '=' }];
      if (op === 'in') return values.map((value) => ({ key, value, op: '=' }));
      return [{ key, value: values[0] ?? '', op: op === 'eq' ? '=' : '!=' }];
    }
    case 'namespace':
      return [{ key: NV_KEYS.namespace, value: c.name, op: '=' }];
    case 'service':
      return [{ key: NV_KEYS.service, value: c.name, op: '=' }];
    case 'image':
      return [{ key: NV_KEYS.image, value: c.glob, op: '=' }];
    case 'node':
      return [{ key: NV_KEYS.node, value: c.name, op: '=' }];
    case 'address':
      return [{ key: NV_KEYS.address, value: c.spec, op: '=' }];
    case 'fqdn':
      return [{ key: NV_KEYS.address, value: c.pattern, op: '=' }];
    case 'namespaceLabel':
      return `namespace label ${c.req.key} dropped: NeuVector groups have no namespace labels`;
  }
}

/** The namespace every member of the group is in, when its selector names one. */
function namespaceOf(group: Group): string | undefined {
  const only = group.selectors.length === 1 ? group.selectors[0] : undefined;
  return only?.criteria.flatMap((c) => (c.kind === 'namespace' ? [c.name] : []))[0];
}

function portsText(rule: Rule, losses: Loss[]): string {
  if (rule.ports.length === 0 || rule.ports.some((p) => p.proto === 'any')) return 'any';
  const icmpTypes = rule.ports.filter((p) => (p.proto === 'icmp' || p.proto === 'icmpv6') && p.first !== undefined);
  if (icmpTypes.length > 0) losses.push(ruleLoss(rule, `ports [${icmpTypes.map(formatPort).join(', ')}] widened to icmp: NeuVector has no ICMP types`));
  return [...new Set(rule.ports.map((p) => (p.proto === 'icmp' || p.proto === 'icmpv6' ? p.proto : formatPort(p))))].join(',');
}

export function writeNeuVector(policy: Policy, _inventory: Inventory, _compiled: CompiledPolicy): ExportResult {
  const losses: Loss[] = [];
  const groups = groupsByName(policy);
  const selectorOf = new Map<string, NvSelector | undefined>();
  const selectorFor = (name: string): NvSelector | undefined => {
    if (selectorOf.has(name)) return selectorOf.get(name);
    const reserved = NV_RESERVED[name];
    const group = groups.get(name);
    let selector: NvSelector | undefined;
    if (reserved !== undefined) selector = { name: reserved, criteria: [] };
    else if (group !== undefined && group.selectors.length > 0 && !group.reserved && name !== 'any') {
      if (group.selectors.length > 1) losses.push(groupLoss(group, `${group.selectors.length} selectors: a NeuVector group is one set of criteria, only the first is exported`));
      selector = { name, criteria: criteriaOf(group, group.selectors[0] as Selector, losses) };
    }
    selectorOf.set(name, selector);
    return selector;
  };

  const ingress = new Map<string, NvRule[]>();
  const egress = new Map<string, NvRule[]>();
  const push = (into: Map<string, NvRule[]>, key: string, r: NvRule): void => {
    const list = into.get(key) ?? [];
    list.push(r);
    into.set(key, list);
  };
  for (const rule of policy.rules) {
    if (rule.disabled === true) {
      losses.push(ruleLoss(rule, 'disabled rule dropped: NeuVector rules have no disabled state'));
      continue;
    }
    for (const from of rule.from) {
      for (const to of rule.to) {
        const source = selectorFor(from);
        const target = selectorFor(to);
        if (source === undefined || target === undefined) {
          losses.push(ruleLoss(rule, `${source === undefined ? from : to} has no NeuVector group: the rule from ${from} to ${to} is dropped`));
          continue;
        }
        const entry = (selector: NvSelector): NvRule => ({
          name: rule.id,
          selector,
          action: rule.action,
          applications: rule.applications.length === 0 ? ['any'] : rule.applications.map(applicationName),
          ports: portsText(rule, losses),
          priority: rule.priority,
        });
        if (NV_RESERVED[to] === undefined) push(ingress, to, entry(source));
        else if (NV_RESERVED[from] === undefined) push(egress, from, entry(target));
        else losses.push(ruleLoss(rule, `from ${from} to ${to} dropped: a NeuVector rule needs a group of its own at one end`));
      }
    }
  }

  const manifests: Manifest[] = [];
  const unique = uniqueNames();
  for (const group of groups.values()) {
    const selector = selectorFor(group.name);
    if (selector === undefined || NV_RESERVED[group.name] !== undefined) continue;
    const namespace = namespaceOf(group);
    const target: Record<string, unknown> = { selector, ...(group.mode !== undefined ? { policymode: NV_MODES[group.mode] } : {}) };
    manifests.push({
      apiVersion: 'neuvector.com/v1',
      kind: namespace === undefined ? 'NvClusterSecurityRule' : 'NvSecurityRule',
      metadata: { name: unique(objectName(`palisade-${group.name}`)), ...(namespace !== undefined ? { namespace } : {}), labels: { ...MANAGED_BY } },
      spec: { target, ingress: ingress.get(group.name) ?? [], egress: egress.get(group.name) ?? [], process: [], file: [] },
    });
  }
  if (policy.defaultMode !== 'discover') losses.push({ subject: 'policy', message: `default mode ${policy.defaultMode} dropped: NeuVector sets the mode of new groups in its own settings` });
  return { manifests, losses };
}
