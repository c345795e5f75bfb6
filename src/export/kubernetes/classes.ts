// Workloads that every NetworkPolicy treats alike form one class: the same policies select them,
// the same rules admit them as the other end, and they declare the same named ports. reach.ts
// evaluates policies per class instead of per workload pair, so its cost follows the policies.

import type { Labels } from '../../model/workload.js';
import type { Cluster } from './cluster.js';
import type { ClusterWorkload, ContainerPort, NetworkPolicy } from './resources.js';
import { matchesSelector, type LabelSelector } from './selector.js';

export interface WorkloadClass {
  /** In cluster order; never empty. */
  members: ClusterWorkload[];
  /** The policies selecting the class that restrict each direction, in cluster order. */
  selectedBy: Record<'ingress' | 'egress', NetworkPolicy[]>;
  /** What named ports resolve against: every member declares the same named ports. */
  ports: readonly ContainerPort[];
}

export interface Classification {
  classes: WorkloadClass[];
  /**
   * Per policy (cluster order), per direction, per rule: the classes one of the rule's pod peers
   * admits, ascending. Rules without peers admit everyone and are not looked up here.
   */
  admitted: readonly Readonly<Record<'ingress' | 'egress', readonly (readonly number[])[]>>[];
}

/**
 * The workloads by label, so a selector is tried on the few workloads that carry one of its
 * required labels rather than on every workload.
 */
class LabelIndex {
  private readonly byKey = new Map<string, { all: number[]; byValue: Map<string, number[]> }>();
  private readonly everyone: number[];

  constructor(private readonly labels: readonly Labels[]) {
    this.everyone = labels.map((_, i) => i);
    labels.forEach((set, i) => {
      for (const [key, value] of Object.entries(set)) {
        let entry = this.byKey.get(key);
        if (entry === undefined) this.byKey.set(key, (entry = { all: [], byValue: new Map() }));
        entry.all.push(i);
        const same = entry.byValue.get(value);
        if (same === undefined) entry.byValue.set(value, [i]);
        else same.push(i);
      }
    });
  }

  /** Ascending indices of the label sets that `selector` matches and `keep` accepts. */
  matching(selector: LabelSelector, keep: (index: number) => boolean): number[] {
    return this.candidates(selector).filter((i) => keep(i) && matchesSelector(selector, this.labels[i] as Labels));
  }

  /** The smallest superset the index gives: the label sets an `In` or `Exists` requirement needs. */
  private candidates(selector: LabelSelector): readonly number[] {
    let best: readonly number[] = this.everyone;
    for (const req of selector.requirements) {
      if (req.operator !== 'In' && req.operator !== 'Exists') continue;
      const entry = this.byKey.get(req.key);
      if (entry === undefined) return [];
      let found: readonly number[] = entry.all;
      if (req.operator === 'In') {
        const lists = req.values.map((v) => entry.byValue.get(v) ?? []);
        found = lists.length === 1 ? (lists[0] as number[]) : [...new Set(lists.flat())].sort((a, b) => a - b);
      }
      if (found.length < best.length) best = found;
    }
    return best;
  }
}

/** Only the named ports matter to a policy, and only the first of each name. */
function namedPortsKey(ports: readonly ContainerPort[]): string {
  return JSON.stringify(ports.filter((p) => p.name !== undefined).map((p) => [p.name, p.protocol, p.port]));
}

export function classify(cluster: Cluster): Classification {
  const workloads = cluster.workloads;
  const index = new LabelIndex(workloads.map((w) => w.labels));
  // A workload whose namespace the cluster does not list is taken to have a namespace without labels.
  const namespaceLabels = (name: string): Labels => cluster.namespaces.get(name)?.labels ?? {};
  const selecting: number[][] = workloads.map(() => []);
  const admittedBy: number[][] = workloads.map(() => []);
  const admittedWorkloads: Record<'ingress' | 'egress', number[][]>[] = [];
  let ruleNumber = 0;

  cluster.policies.forEach((policy, p) => {
    for (const w of index.matching(policy.podSelector, (i) => (workloads[i] as ClusterWorkload).namespace === policy.namespace)) {
      (selecting[w] as number[]).push(p);
    }
    const perDirection = { ingress: [] as number[][], egress: [] as number[][] };
    for (const direction of ['ingress', 'egress'] as const) {
      for (const rule of policy[direction]) {
        const admitted = new Set<number>();
        for (const peer of rule.peers ?? []) {
          if (peer.kind !== 'pods') continue;
          const { namespaceSelector } = peer;
          const inNamespace = (i: number): boolean => {
            const ns = (workloads[i] as ClusterWorkload).namespace;
            return namespaceSelector === undefined ? ns === policy.namespace : matchesSelector(namespaceSelector, namespaceLabels(ns));
          };
          for (const w of index.matching(peer.podSelector, inNamespace)) admitted.add(w);
        }
        const sorted = [...admitted].sort((a, b) => a - b);
        for (const w of sorted) (admittedBy[w] as number[]).push(ruleNumber);
        perDirection[direction].push(sorted);
        ruleNumber++;
      }
    }
    admittedWorkloads.push(perDirection);
  });

  const classes: WorkloadClass[] = [];
  const classOf: number[] = [];
  const bySignature = new Map<string, number>();
  workloads.forEach((w, i) => {
    const signature = `${(selecting[i] as number[]).join(',')};${(admittedBy[i] as number[]).join(',')};${namedPortsKey(w.ports)}`;
    let c = bySignature.get(signature);
    if (c === undefined) {
      c = classes.length;
      bySignature.set(signature, c);
      const policies = (selecting[i] as number[]).map((p) => cluster.policies[p] as NetworkPolicy);
      classes.push({
        members: [],
        selectedBy: { ingress: policies.filter((p) => p.restrictsIngress), egress: policies.filter((p) => p.restrictsEgress) },
        ports: w.ports,
      });
    }
    (classes[c] as WorkloadClass).members.push(w);
    classOf.push(c);
  });

  const toClasses = (members: readonly number[]): number[] => [...new Set(members.map((w) => classOf[w] as number))].sort((a, b) => a - b);
  const admitted = admittedWorkloads.map(({ ingress, egress }) => ({ ingress: ingress.map(toClasses), egress: egress.map(toClasses) }));
  return { classes, admitted };
}
