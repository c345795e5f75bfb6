// Small builders for engine tests: a workload, group, rule or connection with only the fields a
// test cares about spelled out.

import type { Connection } from '../../../src/model/connection.js';
import type { Criterion, Group, Mode, Policy, PortRange, Rule } from '../../../src/model/policy.js';
import type { AddressLease, Inventory, Workload } from '../../../src/model/workload.js';
import type { Resolver } from '../../../src/policy/select.js';

export function workload(name: string, ip: string | AddressLease[], extra: Partial<Workload> = {}): Workload {
  const namespace = extra.namespace ?? 'shop';
  return {
    id: `${namespace}/${name}`,
    name,
    namespace,
    kind: 'Pod',
    labels: { app: name },
    node: 'n1',
    image: `registry.local/${name}:1.0`,
    service: name,
    addresses: typeof ip === 'string' ? [{ ip }] : ip,
    ...extra,
  };
}

export function inventory(workloads: Workload[], extra: Partial<Inventory> = {}): Inventory {
  return { workloads, namespaces: [], nodes: [], services: [], ...extra };
}

/** A group of one selector whose criteria are all given. */
export function group(name: string, criteria: Criterion[], mode?: Mode): Group {
  return mode === undefined ? { name, selectors: [{ criteria }] } : { name, selectors: [{ criteria }], mode };
}

export const app = (value: string): Criterion => ({ kind: 'label', req: { key: 'app', op: 'eq', values: [value] } });

export const tcp = (first: number, last = first): PortRange => ({ proto: 'tcp', first, last });

export function rule(id: string, from: string, to: string, extra: Partial<Rule> = {}): Rule {
  return { id, from: [from], to: [to], ports: [], applications: [], action: 'allow', priority: 0, source: 'user', ...extra };
}

export function policy(groups: Group[], rules: Rule[], defaultMode: Mode = 'protect'): Policy {
  return { groups, rules, defaultMode };
}

export function conn(client: string, server: string, port = 80, extra: Partial<Connection> = {}): Connection {
  return { ipProto: 'tcp', client: { ip: client, port: 40000 }, server: { ip: server, port }, at: 0, ...extra };
}

export function resolver(names: Record<string, string[]>): Resolver {
  return { namesOf: (ip) => names[ip] ?? [] };
}
