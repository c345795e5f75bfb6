// Workloads that every NetworkPolicy treats alike form one class: the same selectors match them
// (so the same policies select them and the same rules admit them as the other end), and they
// declare the same named ports. reach.ts evaluates policies per class instead of per workload
// pair, so its cost follows the policies.

import type { Cluster } from './cluster.js';
import type { ClusterWorkload, ContainerPort, NetworkPolicy } from './resources.js';
import { matchSelectors } from './selection.js';

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

/** Only named ports matter to a policy: workloads differing in unnamed ones stay in one class. */
function namedPortsKey(ports: readonly ContainerPort[]): string {
  return JSON.stringify(ports.filter((p) => p.name !== undefined).map((p) => [p.name, p.protocol, p.port]));
}

export function classify(cluster: Cluster): Classification {
  const workloads = cluster.workloads;
  const { passed, matched, numbers } = matchSelectors(cluster, workloads);
  const selecting: number[][] = workloads.map(() => []);
  numbers.forEach(({ podSelector }, p) => {
    for (const w of matched[podSelector] as number[]) (selecting[w] as number[]).push(p);
  });

  const classes: WorkloadClass[] = [];
  const classOf: number[] = [];
  const bySignature = new Map<string, number>();
  workloads.forEach((w, i) => {
    const signature = `${(passed[i] as number[]).join(',')};${namedPortsKey(w.ports)}`;
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

  /** The classes one of the peers admits: those of the workloads their selectors match. */
  const toClasses = (peers: readonly number[]): number[] =>
    [...new Set(peers.flatMap((n) => (matched[n] as number[]).map((w) => classOf[w] as number)))].sort((a, b) => a - b);
  const admitted = numbers.map(({ rules }) => ({ ingress: rules.ingress.map(toClasses), egress: rules.egress.map(toClasses) }));
  return { classes, admitted };
}
