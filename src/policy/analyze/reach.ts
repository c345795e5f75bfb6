// Reachability, computed symbolically from the compiled policy: endpoints with equal group
// membership form one class; for each pair of classes the rules that can involve both are walked
// in decision order, each carving its port × application region out of what is left, and the
// rest falls to the modes' defaults. Exposure, assertions and diff all read this one answer.
// A workload's membership is the union over its leases (compile's groupsOfWorkload), so a group
// that selects only one of a workload's addresses counts for all of them.

import { formatIp, parseAddressSpec, type IpAddr } from '../../model/address.js';
import type { IpProto } from '../../model/flow.js';
import type { Group, Mode, Policy, Rule } from '../../model/policy.js';
import type { Inventory, Workload } from '../../model/workload.js';
import type { CompiledPolicy } from '../compile.js';
import { inGroup, inReservedGroup, isReservedGroup, selectEnv, type Endpoint } from '../select.js';
import { cellContains, cut, fullSpace, ruleCells, type Cell } from './space.js';

export type Outcome = 'allow' | 'deny' | 'default';

/** One region of the connection space between two classes, with what decides it. */
export interface Segment extends Cell {
  /** The first rule whose region holds it; undefined for the modes' default. */
  rule: Rule | undefined;
  outcome: Outcome;
  /** The connection gets through. */
  allowed: boolean;
  /** It gets through only because no side of it is in protect (no rule allows it). */
  unenforced: boolean;
}

export interface ReachEndpoint {
  /** Workload id, `node/<name>`, or `external` / `external <address or name>`. */
  id: string;
  kind: 'workload' | 'node' | 'external';
  /** Shown in output: the workload's name, `node <name>`, or the external label. */
  name: string;
  /** Key at service level: `namespace/service` for workloads, the id otherwise. */
  service: string;
  workload?: Workload;
  /** Groups the endpoint is in (reserved ones included). */
  groups: readonly string[];
  /** Perimeter mode, workloads only. */
  mode?: Mode;
  /** Index of its class. */
  cls: number;
}

export interface EndpointClass {
  kind: ReachEndpoint['kind'];
  mode?: Mode;
  /** Endpoint indices, in endpoint order. */
  members: number[];
}

/** A pair of classes with everything that is allowed between them. */
export interface ClassEdge {
  client: number;
  server: number;
  /** Allowed segments only. */
  segments: readonly Segment[];
}

export interface Reachability {
  readonly compiled: CompiledPolicy;
  readonly endpoints: readonly ReachEndpoint[];
  readonly classes: readonly EndpointClass[];
  /** Every segment (allowed or not) from one class to another; undefined when neither has a perimeter. */
  segments(client: number, server: number): readonly Segment[] | undefined;
  /** Every class pair with something allowed, computed on first use. */
  edges(): readonly ClassEdge[];
  /** The segment holding one concrete connection (app undefined: never identified). */
  segmentAt(client: number, server: number, proto: IpProto, port: number, app: string | undefined): Segment | undefined;
}

/** Policy groups by name, the first definition of a repeated name winning as in compile. */
function groupsByName(policy: Policy): Map<string, Group> {
  const out = new Map<string, Group>();
  for (const g of policy.groups) if (!out.has(g.name)) out.set(g.name, g);
  return out;
}

/** Externals that address or fqdn groups tell apart: one representative per such selector. */
function externalRepresentatives(policy: Policy): { label: string; ip: string; addr: IpAddr | undefined; names: string[] }[] {
  const out: { label: string; ip: string; addr: IpAddr | undefined; names: string[] }[] = [{ label: 'external', ip: '', addr: undefined, names: [] }];
  const seen = new Set<string>();
  for (const g of groupsByName(policy).values()) {
    if (isReservedGroup(g.name)) continue;
    for (const s of g.selectors) {
      if (s.criteria.length === 0 || s.criteria.some((c) => c.kind !== 'address' && c.kind !== 'fqdn')) continue;
      let range;
      const labels: string[] = [];
      const names: string[] = [];
      for (const c of s.criteria) {
        if (c.kind === 'address') {
          const r = parseAddressSpec(c.spec);
          if (r === undefined) continue;
          // An address in every range lies in their intersection; its start stands for all of it.
          range = range === undefined || range.version !== r.version ? r : r.first > range.first ? r : range;
          labels.push(c.spec);
        } else if (c.kind === 'fqdn') {
          names.push(c.pattern.startsWith('*.') ? `host${c.pattern.slice(1)}` : c.pattern);
          labels.push(c.pattern);
        }
      }
      const label = `external ${labels.join(' ')}`;
      if (seen.has(label)) continue;
      seen.add(label);
      const addr: IpAddr | undefined = range === undefined ? undefined : range.version === 4 ? { version: 4, value: range.first } : { version: 6, value: range.first };
      // Without an address the label stands in for one: only the names decide membership then.
      out.push({ label, ip: addr === undefined ? label : formatIp(addr), addr, names });
    }
  }
  return out;
}

function intersectSorted(a: Int32Array, b: Int32Array): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

export function analyzeReach(policy: Policy, inventory: Inventory, compiled: CompiledPolicy): Reachability {
  const groupIndex = new Map(compiled.groups.map((g, i) => [g, i]));
  const defs = groupsByName(policy);
  const env = selectEnv(inventory);
  const endpoints: ReachEndpoint[] = [];
  const classes: EndpointClass[] = [];
  const classKeys = new Map<string, number>();
  const classGroups: number[][] = [];

  const addEndpoint = (e: Omit<ReachEndpoint, 'cls'>): void => {
    const idx = e.groups.map((g) => groupIndex.get(g) as number).sort((a, b) => a - b);
    const key = `${e.kind}|${idx.join(',')}`;
    let cls = classKeys.get(key);
    if (cls === undefined) {
      cls = classes.length;
      classKeys.set(key, cls);
      const c: EndpointClass = { kind: e.kind, members: [] };
      if (e.mode !== undefined) c.mode = e.mode;
      classes.push(c);
      classGroups.push(idx);
    }
    (classes[cls] as EndpointClass).members.push(endpoints.length);
    endpoints.push({ ...e, cls });
  };
  /** Membership of a node or external endpoint, by the single definition in select.ts. */
  const groupsOf = (ep: Endpoint, names: string[]): string[] => {
    const epEnv = names.length === 0 ? env : selectEnv(inventory, { namesOf: () => names });
    return compiled.groups.filter((name) => {
      if (isReservedGroup(name)) return inReservedGroup(name, ep);
      const g = defs.get(name);
      return g !== undefined && inGroup(g, ep, epEnv);
    });
  };

  const seenWorkload = new Set<string>();
  for (const w of inventory.workloads) {
    if (seenWorkload.has(w.id)) continue;
    seenWorkload.add(w.id);
    addEndpoint({
      id: w.id,
      kind: 'workload',
      name: w.name,
      service: `${w.namespace}/${w.service}`,
      workload: w,
      groups: compiled.groupsOfWorkload(w.id),
      mode: compiled.modeOfWorkload(w.id),
    });
  }
  for (const node of inventory.nodes) {
    const ip = node.addresses[0];
    const parsed = ip === undefined ? undefined : parseAddressSpec(ip);
    const addr: IpAddr | undefined = parsed === undefined ? undefined : parsed.version === 4 ? { version: 4, value: parsed.first } : { version: 6, value: parsed.first };
    if (ip === undefined || addr === undefined) continue;
    const id = `node/${node.name}`;
    addEndpoint({ id, kind: 'node', name: `node ${node.name}`, service: id, groups: groupsOf({ kind: 'node', ip, addr, node }, []) });
  }
  for (const rep of externalRepresentatives(policy)) {
    addEndpoint({ id: rep.label, kind: 'external', name: rep.label, service: rep.label, groups: groupsOf({ kind: 'external', ip: rep.ip, addr: rep.addr }, rep.names) });
  }

  // Rules that can involve each class, per direction, ascending decision order.
  const rules = compiled.rules;
  const cells = rules.map((r) => ruleCells(r.ports, r.applications));
  const fromRules: number[][] = compiled.groups.map(() => []);
  const toRules: number[][] = compiled.groups.map(() => []);
  rules.forEach((r, i) => {
    for (const g of new Set(r.from)) fromRules[groupIndex.get(g) ?? -1]?.push(i);
    for (const g of new Set(r.to)) toRules[groupIndex.get(g) ?? -1]?.push(i);
  });
  const listOf = (byGroup: number[][], groups: number[]): Int32Array => Int32Array.from(new Set(groups.flatMap((g) => byGroup[g] ?? []))).sort();
  const egress = classGroups.map((gs) => listOf(fromRules, gs));
  const ingress = classGroups.map((gs) => listOf(toRules, gs));

  const protect = (c: EndpointClass): boolean => c.kind === 'workload' && c.mode === 'protect';
  const hasPerimeter = (c: EndpointClass): boolean => c.kind === 'workload';
  // Pairs no rule involves are all default: two shared answers serve every such pair.
  const allDefault = (blocked: boolean): Segment[] =>
    fullSpace().map((c) => ({ ...c, rule: undefined, outcome: 'default' as const, allowed: !blocked, unenforced: !blocked }));
  const defaultOpen = allDefault(false);
  const defaultShut = allDefault(true);

  const segments = (ci: number, si: number): readonly Segment[] | undefined => {
    const client = classes[ci] as EndpointClass;
    const server = classes[si] as EndpointClass;
    if (!hasPerimeter(client) && !hasPerimeter(server)) return undefined;
    const blocks = protect(client) || protect(server);
    const candidates = intersectSorted(egress[ci] as Int32Array, ingress[si] as Int32Array);
    if (candidates.length === 0) return blocks ? defaultShut : defaultOpen;
    const out: Segment[] = [];
    let rest: Cell[] = fullSpace();
    for (const r of candidates) {
      const rule = rules[r] as Rule;
      const { inside, outside } = cut(rest, cells[r] as Cell[]);
      const allowed = rule.action === 'allow' || !blocks;
      for (const c of inside) out.push({ ...c, rule, outcome: rule.action, allowed, unenforced: allowed && rule.action !== 'allow' });
      rest = outside;
      if (rest.length === 0) break;
    }
    for (const c of rest) out.push({ ...c, rule: undefined, outcome: 'default', allowed: !blocks, unenforced: !blocks });
    return out;
  };

  let edgeList: ClassEdge[] | undefined;
  const edges = (): readonly ClassEdge[] => {
    if (edgeList !== undefined) return edgeList;
    edgeList = [];
    for (let ci = 0; ci < classes.length; ci++) {
      for (let si = 0; si < classes.length; si++) {
        const all = segments(ci, si);
        if (all === undefined) continue;
        const allowed = all === defaultOpen ? all : all.filter((s) => s.allowed);
        if (allowed.length > 0) edgeList.push({ client: ci, server: si, segments: allowed });
      }
    }
    return edgeList;
  };

  return {
    compiled,
    endpoints,
    classes,
    segments,
    edges,
    segmentAt: (ci, si, proto, port, app) => segments(ci, si)?.find((s) => cellContains(s, proto, port, app)),
  };
}
