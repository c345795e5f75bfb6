// Third step of reading a cluster from manifests: typed objects become one consistent cluster
// (namespaces with their labels, one peer per workload, NetworkPolicies), refusing what the
// analysis cannot answer faithfully. reach.ts computes connectivity over the result.

import type { Labels } from '../../model/workload.js';
import { readManifestDir, type ManifestObject } from './manifests.js';
import { hasErrors, type Problem } from './problems.js';
import {
  describeObject,
  NAMESPACE_NAME_LABEL,
  readController,
  readNamespace,
  readNetworkPolicy,
  readPod,
  WORKLOAD_KINDS,
  type ClusterNamespace,
  type ClusterWorkload,
  type NetworkPolicy,
  type ObjectRef,
  type PolicyPeer,
} from './resources.js';
import { matchSelectors } from './selection.js';
import { matchesSelector } from './selector.js';

export interface Cluster {
  /** Every namespace a Namespace object or a workload names, with `kubernetes.io/metadata.name` set. */
  namespaces: ReadonlyMap<string, ClusterNamespace>;
  workloads: readonly ClusterWorkload[];
  policies: readonly NetworkPolicy[];
}

/** Reads every manifest under dir; the cluster is undefined when any problem is an error. */
export function readCluster(dir: string): { cluster?: Cluster; problems: Problem[] } {
  const problems: Problem[] = [];
  const objects = readManifestDir(dir, problems);
  const cluster = assembleCluster(objects, problems);
  return hasErrors(problems) ? { problems } : { cluster, problems };
}

const isWorkloadObject = (o: ManifestObject): boolean => o.kind === 'Pod' || (WORKLOAD_KINDS as readonly string[]).includes(o.kind);

export function assembleCluster(objects: readonly ManifestObject[], problems: Problem[]): Cluster {
  const namespaces = new Map<string, ClusterNamespace>();
  const workloads = new Map<string, ClusterWorkload>();
  const policies: NetworkPolicy[] = [];
  const written = new Map<string, ObjectRef>();
  /** False (and an error) when an object of that kind, namespace and name was written before. */
  const firstTime = (ref: ObjectRef): boolean => {
    const key = describeObject(ref);
    const first = written.get(key);
    if (first === undefined) {
      written.set(key, ref);
      return true;
    }
    const at = `${first.file}${first.line !== undefined ? `:${first.line}` : ''}`;
    problems.push({ severity: 'error', file: ref.file, line: ref.line, object: key, message: `defined twice (first defined in ${at})` });
    return false;
  };

  for (const obj of objects) {
    if (obj.kind === 'Namespace') {
      const ns = readNamespace(obj, problems);
      if (ns !== undefined && firstTime(ns.ref)) namespaces.set(ns.name, { name: ns.name, labels: { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name } });
    } else if (obj.kind === 'NetworkPolicy') {
      const policy = readNetworkPolicy(obj, problems);
      if (policy !== undefined && firstTime(policy.ref)) policies.push(policy);
    } else if (isWorkloadObject(obj)) {
      const workload = obj.kind === 'Pod' ? readPod(obj, problems) : readController(obj, problems);
      if (workload === undefined || !firstTime(workload.members[0].ref)) continue;
      // Pods of one controller (and the controller itself, when written too) are one peer.
      const known = workloads.get(workload.id);
      if (known === undefined) workloads.set(workload.id, workload);
      else known.members.push(...workload.members);
    }
    // Other kinds (Service, ConfigMap, ...) do not change which pods may talk.
  }

  for (const w of workloads.values()) {
    if (!namespaces.has(w.namespace)) namespaces.set(w.namespace, { name: w.namespace, labels: { [NAMESPACE_NAME_LABEL]: w.namespace } });
  }

  const cluster: Cluster = { namespaces, workloads: [...workloads.values()], policies };
  if (!objects.some(isWorkloadObject)) problems.push({ severity: 'error', message: 'no relevant Kubernetes workload resources found (Pods or workload controllers)' });
  if (!objects.some((o) => o.kind === 'NetworkPolicy')) problems.push({ severity: 'warning', message: 'no relevant Kubernetes network policy resources found: every connection is allowed' });
  checkMembersAlike(cluster, problems);
  return cluster;
}

/** Whether a policy selects a pod with these labels in this namespace. */
export function policySelects(policy: NetworkPolicy, namespace: string, labels: Labels): boolean {
  return policy.namespace === namespace && matchesSelector(policy.podSelector, labels);
}

/** Whether a pods peer of a rule of `policy` matches a pod with these labels in this namespace. */
export function peerMatchesPod(
  peer: PolicyPeer,
  policy: NetworkPolicy,
  namespace: ClusterNamespace,
  labels: Labels,
): boolean {
  if (peer.kind !== 'pods') return false;
  if (peer.namespaceSelector === undefined ? namespace.name !== policy.namespace : !matchesSelector(peer.namespaceSelector, namespace.labels)) {
    return false;
  }
  return matchesSelector(peer.podSelector, labels);
}

/**
 * A workload is one peer, so all its pods must look alike to every policy. Pods of one owner
 * whose labels differ are fine until a selector tells them apart; then the answer would depend
 * on which pod stands for the owner, and the input is refused.
 */
function checkMembersAlike(cluster: Cluster, problems: Problem[]): void {
  const owners = cluster.workloads.filter((w) => w.members.length > 1);
  const { passed } = matchSelectors(
    cluster,
    owners.flatMap((w) => w.members.map((m) => ({ namespace: w.namespace, labels: m.labels }))),
  );
  let pod = 0;
  for (const w of owners) {
    const seen = passed.slice(pod, pod + w.members.length).map((selectors) => selectors.join(','));
    pod += w.members.length;
    if (seen.some((selectors) => selectors !== seen[0])) reportMembersDiffer(cluster, w, problems);
  }
}

/** The first selector, in policy order, that tells two pods of `w` apart, as an error. */
function reportMembersDiffer(cluster: Cluster, w: ClusterWorkload, problems: Problem[]): void {
  const ns = cluster.namespaces.get(w.namespace) as ClusterNamespace;
  const first = w.members[0];
  for (const policy of cluster.policies) {
    const tests: { field: string; test: (labels: Labels) => boolean }[] = [
      { field: 'spec.podSelector', test: (labels) => policySelects(policy, w.namespace, labels) },
    ];
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const peer of rule.peers ?? []) tests.push({ field: peer.field, test: (labels) => peerMatchesPod(peer, policy, ns, labels) });
    }
    for (const { field, test } of tests) {
      const expected = test(first.labels);
      const other = w.members.find((m) => test(m.labels) !== expected);
      if (other === undefined) continue;
      const [yes, no] = expected ? [first, other] : [other, first];
      problems.push({
        severity: 'error',
        file: policy.ref.file,
        ...(policy.locate(field) ?? { line: policy.ref.line }),
        object: describeObject(policy.ref),
        field,
        message:
          `Found Pods of the same owner workload \`${w.namespace}/${w.name}\` and with differences in their labels, ` +
          `while a network policy contains selectors impacted by this gap. The selector matches ${describeObject(yes.ref)} ` +
          `(${yes.ref.file}) but not ${describeObject(no.ref)} (${no.ref.file}).`,
      });
      return;
    }
  }
}
