// Which label selectors of the NetworkPolicies match which pods, for many pods at once: an index
// by namespace and label keeps this near-linear. classes.ts groups workloads by the answer, and
// cluster.ts checks with it that the pods of one workload look alike.

import type { Labels } from '../../model/workload.js';
import type { Cluster } from './cluster.js';
import { matchesSelector, type LabelSelector } from './selector.js';

/** A pod as selectors see it (or a workload, which stands for its pods). */
export interface Pod {
  namespace: string;
  labels: Labels;
}

/**
 * The selectors of the policies are numbered in cluster order: each policy's podSelector, then
 * the pods peers of its ingress rules, then those of its egress rules.
 */
export interface SelectorMatches {
  /** Per pod, the numbers of the selectors matching it, ascending. */
  passed: number[][];
  /** Per selector, the pods it matches, in no particular order. */
  matched: number[][];
  /** Per policy: the number of its podSelector, and per direction and rule those of its pods peers. */
  numbers: { podSelector: number; rules: Record<'ingress' | 'egress', number[][]> }[];
}

/**
 * The pods by namespace and by label, so a selector is tried on the few pods that can match it
 * (those in its namespaces, or carrying one of its required labels) and not on all.
 */
class PodIndex {
  private readonly byNamespace = new Map<string, number[]>();
  private readonly byKey = new Map<string, { all: number[]; byValue: Map<string, number[]> }>();

  constructor(private readonly pods: readonly Pod[]) {
    pods.forEach((pod, i) => {
      const inNamespace = this.byNamespace.get(pod.namespace);
      if (inNamespace === undefined) this.byNamespace.set(pod.namespace, [i]);
      else inNamespace.push(i);
      for (const [key, value] of Object.entries(pod.labels)) {
        let entry = this.byKey.get(key);
        if (entry === undefined) this.byKey.set(key, (entry = { all: [], byValue: new Map() }));
        entry.all.push(i);
        const same = entry.byValue.get(value);
        if (same === undefined) entry.byValue.set(value, [i]);
        else same.push(i);
      }
    });
  }

  /** The namespaces that hold pods. */
  namespaces(): IterableIterator<string> {
    return this.byNamespace.keys();
  }

  /** The pods in one of `namespaces` whose labels `selector` matches, in no particular order. */
  matching(selector: LabelSelector, namespaces: readonly string[]): number[] {
    const matches = (i: number): boolean => matchesSelector(selector, (this.pods[i] as Pod).labels);
    const labelled = this.labelled(selector);
    const inNamespaces = namespaces.reduce((n, ns) => n + (this.byNamespace.get(ns)?.length ?? 0), 0);
    if (labelled !== undefined && labelled.length < inNamespaces) {
      const wanted = new Set(namespaces);
      return labelled.filter((i) => wanted.has((this.pods[i] as Pod).namespace) && matches(i));
    }
    return namespaces.flatMap((ns) => (this.byNamespace.get(ns) ?? []).filter(matches));
  }

  /** The fewest pods that an `In` or `Exists` requirement of `selector` needs; undefined when it has none. */
  private labelled(selector: LabelSelector): readonly number[] | undefined {
    let best: readonly number[] | undefined;
    for (const req of selector.requirements) {
      if (req.operator !== 'In' && req.operator !== 'Exists') continue;
      const entry = this.byKey.get(req.key);
      if (entry === undefined) return [];
      // Pods of distinct values are distinct, so the lists need no merging.
      const found = req.operator === 'Exists' ? entry.all : [...new Set(req.values)].flatMap((v) => entry.byValue.get(v) ?? []);
      if (best === undefined || found.length < best.length) best = found;
    }
    return best;
  }
}

export function matchSelectors(cluster: Cluster, pods: readonly Pod[]): SelectorMatches {
  const index = new PodIndex(pods);
  // A pod whose namespace the cluster does not list is taken to have a namespace without labels.
  const namespaceLabels = new Map<string, Labels>([...index.namespaces()].map((ns) => [ns, cluster.namespaces.get(ns)?.labels ?? {}]));
  const passed: number[][] = pods.map(() => []);
  const matched: number[][] = [];
  const record = (found: number[]): number => {
    const n = matched.length;
    matched.push(found);
    for (const i of found) (passed[i] as number[]).push(n);
    return n;
  };
  const numbers = cluster.policies.map((policy) => {
    const podSelector = record(index.matching(policy.podSelector, [policy.namespace]));
    const rules = { ingress: [] as number[][], egress: [] as number[][] };
    for (const direction of ['ingress', 'egress'] as const) {
      for (const rule of policy[direction]) {
        const peers: number[] = [];
        for (const peer of rule.peers ?? []) {
          if (peer.kind !== 'pods') continue;
          const { namespaceSelector } = peer;
          const namespaces: string[] = [];
          if (namespaceSelector === undefined) namespaces.push(policy.namespace);
          else for (const [ns, labels] of namespaceLabels) if (matchesSelector(namespaceSelector, labels)) namespaces.push(ns);
          peers.push(record(index.matching(peer.podSelector, namespaces)));
        }
        rules[direction].push(peers);
      }
    }
    return { podSelector, rules };
  });
  return { passed, matched, numbers };
}
