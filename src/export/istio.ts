// Palisade policy → Istio AuthorizationPolicies (security.istio.io/v1). Istio authorizes at the
// server's sidecar: each group a rule leads into becomes the selector of one ALLOW and one DENY
// policy; sources are namespaces, the mesh's identities or address blocks (Istio knows a client
// by its service account, not its labels); operations carry the TCP ports. What a sidecar cannot
// see (UDP, ICMP, DNS names, non-HTTP applications) is reported.

import type { Group, Policy, Rule } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { formatPort } from '../policy/document/write.js';
import { groupsByName } from './enforced.js';
import { MANAGED_BY, objectName, uniqueNames, type Manifest } from './manifest.js';
import type { ExportResult } from './networkpolicy.js';
import { applicationList, denyFirstLosses, groupLoss, modeLosses, ruleLoss, type Loss } from './report.js';
import { describeCriterion, selectorPartsOf, type SelectorParts } from './selectors.js';

/** Where a policy without namespace applies to the whole mesh. */
export const ISTIO_ROOT_NAMESPACE = 'istio-system';
/** Applications a sidecar authorizes at the HTTP level; others only by port. */
const HTTP_APPLICATIONS = new Set(['http', 'http2', 'grpc', 'websocket']);
/** Port ranges up to this many ports are listed port by port; wider ones are refused. */
const MAX_LISTED_PORTS = 64;

type Source = Record<string, string[]>;

interface Target {
  name: string;
  namespace: string;
  matchLabels: Record<string, string> | undefined;
  rules: Record<'ALLOW' | 'DENY', Record<string, unknown>[]>;
}

export function writeIstio(policy: Policy, _inventory: Inventory, _compiled: CompiledPolicy): ExportResult {
  const losses: Loss[] = [];
  const groups = groupsByName(policy);
  const rules = policy.rules.filter((r) => r.disabled !== true);
  const partsOf = selectorPartsOf(groups, 'Istio', losses);
  const parts = (g: Group): (SelectorParts | undefined)[] => partsOf(g.name);

  const targets = new Map<string, Target[]>();
  const targetsOf = (name: string, rule: Rule): Target[] => {
    const known = targets.get(name);
    if (known !== undefined) return known;
    const out: Target[] = [];
    const empty = (): Target['rules'] => ({ ALLOW: [], DENY: [] });
    const group = groups.get(name);
    if (name === 'any' || name === 'workloads') out.push({ name, namespace: ISTIO_ROOT_NAMESPACE, matchLabels: undefined, rules: empty() });
    else if (name === 'external' || name === 'nodes' || group === undefined) {
      losses.push(ruleLoss(rule, `rules into ${name} dropped: Istio authorizes at the server's sidecar and ${name} has none`));
    } else {
      group.selectors.forEach((s, i) => {
        const p = parts(group)[i];
        if (p === undefined) return;
        if (p.kind !== 'identity') {
          losses.push(groupLoss(group, `selector ${s.criteria.map(describeCriterion).join(', ')} as a destination dropped: Istio authorizes at workloads' sidecars, not at addresses`));
          return;
        }
        const notEquality = p.labels.filter((r) => r.op !== 'eq');
        if (notEquality.length > 0 || p.namespaceLabels.length > 0 || p.namespaces.length > 1) {
          losses.push(groupLoss(group, `selector ${s.criteria.map(describeCriterion).join(', ')} as a destination dropped: Istio selects workloads by label equality in one namespace only`));
          return;
        }
        const matchLabels = Object.fromEntries(p.labels.map((r) => [r.key, r.values[0] ?? '']));
        out.push({ name, namespace: p.namespaces[0] ?? ISTIO_ROOT_NAMESPACE, matchLabels: Object.keys(matchLabels).length > 0 ? matchLabels : undefined, rules: empty() });
      });
    }
    targets.set(name, out);
    return out;
  };

  /** Istio sources for a group; undefined means any source (no `from`). */
  const sources = (name: string, rule: Rule): Source[] | undefined => {
    if (name === 'any') return undefined;
    if (name === 'workloads') return [{ principals: ['*'] }];
    if (name === 'external') return [{ notPrincipals: ['*'] }];
    const group = groups.get(name);
    if (name === 'nodes' || group === undefined) {
      losses.push(ruleLoss(rule, `source ${name} dropped: Istio has no node identity`));
      return [];
    }
    return parts(group).flatMap((p): Source[] => {
      if (p === undefined) return [];
      if (p.kind === 'addresses') return [{ ipBlocks: p.cidrs }];
      if (p.kind === 'names') {
        losses.push(ruleLoss(rule, `source fqdn ${p.patterns.join(', ')} dropped: Istio has no DNS names for sources`));
        return [];
      }
      if (p.labels.length > 0 || p.namespaceLabels.length > 0) {
        const kept = p.namespaces.length > 0 ? `its namespaces [${p.namespaces.join(', ')}]` : 'every mesh identity';
        losses.push(ruleLoss(rule, `source ${name} widened to ${kept}: Istio knows clients by service account and namespace, not by labels`));
      }
      return [p.namespaces.length > 0 ? { namespaces: p.namespaces } : { principals: ['*'] }];
    });
  };

  /** TCP ports as Istio lists them; undefined means every port. */
  const ports = (rule: Rule): string[] | undefined => {
    if (rule.ports.length === 0 || rule.ports.some((p) => p.proto === 'any')) return undefined;
    const other = rule.ports.filter((p) => p.proto !== 'tcp');
    if (other.length > 0) losses.push(ruleLoss(rule, `ports [${other.map(formatPort).join(', ')}] dropped: Istio's sidecars authorize TCP only`));
    const out: string[] = [];
    for (const p of rule.ports.filter((x) => x.proto === 'tcp')) {
      if (p.first === undefined) return undefined;
      const last = p.last ?? p.first;
      if (last - p.first >= MAX_LISTED_PORTS) {
        losses.push(ruleLoss(rule, `ports [${formatPort(p)}] dropped: Istio lists ports one by one, this range is too wide`));
        continue;
      }
      for (let port = p.first; port <= last; port++) out.push(String(port));
    }
    return out;
  };

  for (const rule of rules) {
    const nonHttp = rule.applications.filter((a) => !HTTP_APPLICATIONS.has(a));
    if (nonHttp.length > 0) losses.push(ruleLoss(rule, `applications ${applicationList(nonHttp)} dropped: Istio authorizes them as TCP by port only`));
    const into = rule.to.flatMap((to) => targetsOf(to, rule));
    if (into.length === 0) continue;
    const from = rule.from.map((f) => sources(f, rule));
    const anySource = from.some((f) => f === undefined);
    const clauses = from.flatMap((f) => f ?? []);
    if (!anySource && clauses.length === 0) continue;
    const listed = ports(rule);
    if (listed !== undefined && listed.length === 0) continue;
    const entry: Record<string, unknown> = {
      ...(anySource ? {} : { from: clauses.map((source) => ({ source })) }),
      ...(listed !== undefined ? { to: [{ operation: { ports: listed } }] } : {}),
    };
    for (const t of into) t.rules[rule.action === 'allow' ? 'ALLOW' : 'DENY'].push(entry);
  }
  losses.push(...denyFirstLosses(rules, 'Istio applies DENY policies before ALLOW'));
  losses.push(
    ...modeLosses(
      policy,
      groups.values(),
      (mode) => `mode ${mode} exported as enforced: Istio's AUDIT action only logs and cannot stand in for a decision`,
      'has no Istio equivalent: workloads with an ALLOW policy deny everything else, others stay open',
    ),
  );

  const manifests: Manifest[] = [];
  const unique = new Map<string, (name: string) => string>();
  for (const list of targets.values()) {
    for (const t of list) {
      for (const action of ['DENY', 'ALLOW'] as const) {
        if (t.rules[action].length === 0) continue;
        let names = unique.get(t.namespace);
        if (names === undefined) unique.set(t.namespace, (names = uniqueNames()));
        manifests.push({
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: names(objectName(`palisade-${t.name}-${action.toLowerCase()}`)), namespace: t.namespace, labels: { ...MANAGED_BY } },
          spec: { ...(t.matchLabels !== undefined ? { selector: { matchLabels: t.matchLabels } } : {}), action, rules: t.rules[action] },
        });
      }
    }
  }
  return { manifests, losses };
}
