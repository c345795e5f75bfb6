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
 * The workloads by namespace and by label, so a selector is tried on the few workloads that can
 * match it (those in its namespaces, or carrying one of its required labels) and not on all.
 */
class WorkloadIndex {
  private readonly byNamespace = new Map<string, number[]>();
  private readonly byKey = new Map<string, { all: number[]; byValue: Map<string, number[]> }>();

  constructor(private readonly workloads: readonly ClusterWorkload[]) {
    workloads.forEach((w, i) => {
      const inNamespace = this.byNamespace.get(w.namespace);
      if (inNamespace === undefined) this.byNamespace.set(w.namespace, [i]);
      else inNamespace.push(i);
      for (const [key, value] of Object.entries(w.labels)) {
        let entry = this.byKey.get(key);
        if (entry === undefined) this.byKey.set(key, (entry = { all: [], byValue: new Map() }));
        entry.all.push(i);
        const same = entry.byValue.get(value);
        if (same === undefined) entry.byValue.set(value, [i]);
        else same.push(i);
      }
    });
  }

  /** The namespaces that hold workloads. */
  namespaces(): IterableIterator<string> {
    return this.byNamespace.keys();
  }

  /** The workloads in one of `namespaces` whose labels `selector` matches, in no particular order. */
  matching(selector: LabelSelector, namespaces: readonly string[]): number[] {
    const matches = (i: number): boolean => matchesSelector(selector, (this.workloads[i] as ClusterWorkload).labels);
    const labelled = this.labelled(selector);
    const inNamespaces = namespaces.reduce((n, ns) => n + (this.byNamespace.get(ns)?.length ?? 0), 0);
    if (labelled !== undefined && labelled.length < inNamespaces) {
      const wanted = new Set(namespaces);
      return labelled.filter((i) => wanted.has((this.workloads[i] as ClusterWorkload).namespace) && matches(i));
    }
    return namespaces.flatMap((ns) => (this.byNamespace.get(ns) ?? []).filter(matches));
  }

  /** The fewest workloads that an `In` or `Exists` requirement of `selector` needs; undefined when it has none. */
  private labelled(selector: LabelSelector): readonly number[] | undefined {
    let best: readonly number[] | undefined;
    for (const req of selector.requirements) {
      if (req.operator !== 'In' && req.operator !== 'Exists') continue;
      const entry = this.byKey.get(req.key);
      if (entry === undefined) return [];
      // Workloads of distinct values are distinct, so the lists need no merging.
      const found = req.operator === 'Exists' ? entry.all : [...new Set(req.values)].flatMap((v) => entry.byValue.get(v) ?? []);
      if (best === undefined || found.length < best.length) best = found;
    }
    return best;
  }
}

/** Only named ports matter to a policy: workloads differing in unnamed ones stay in one class. */
function namedPortsKey(ports: readonly ContainerPort[]): string {
  return JSON.stringify(ports.filter((p) => p.name !== undefined).map((p) => [p.name, p.protocol, p.port]));
}

export function classify(cluster: Cluster): Classification {
  const workloads = cluster.workloads;
  const index = new WorkloadIndex(workloads);
  // A workload whose namespace the cluster does not list is taken to have a namespace without labels.
  const namespaceLabels = new Map<string, Labels>([...index.namespaces()].map((ns) => [ns, cluster.namespaces.get(ns)?.labels ?? {}]));
  const selecting: number[][] = workloads.map(() => []);
  const admittedBy: number[][] = workloads.map(() => []);
  const admittedWorkloads: Record<'ingress' | 'egress', number[][]>[] = [];
  let ruleNumber = 0;

  cluster.policies.forEach((policy, p) => {
    for (const w of index.matching(policy.podSelector, [policy.namespace])) {
      (selecting[w] as number[]).push(p);
    }
    const perDirection = { ingress: [] as number[][], egress: [] as number[][] };
    for (const direction of ['ingress', 'egress'] as const) {
      for (const rule of policy[direction]) {
        const admitted = new Set<number>();
        for (const peer of rule.peers ?? []) {
          if (peer.kind !== 'pods') continue;
          const { namespaceSelector } = peer;
          const namespaces: string[] = [];
          if (namespaceSelector === undefined) namespaces.push(policy.namespace);
          else for (const [ns, labels] of namespaceLabels) if (matchesSelector(namespaceSelector, labels)) namespaces.push(ns);
          for (const w of index.matching(peer.podSelector, namespaces)) admitted.add(w);
        }
        for (const w of admitted) (admittedBy[w] as number[]).push(ruleNumber);
        perDirection[direction].push([...admitted]);
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
