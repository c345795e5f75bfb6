// Small clusters for the semantic tests, written inline as YAML streams.

import { assembleCluster, type Cluster } from '../../../src/export/kubernetes/cluster.js';
import { formatConnlist } from '../../../src/export/kubernetes/connlist.js';
import { readManifestText } from '../../../src/export/kubernetes/manifests.js';
import { formatProblem, type Problem } from '../../../src/export/kubernetes/problems.js';
import { computeReach } from '../../../src/export/kubernetes/reach.js';

export function clusterFrom(yaml: string): { cluster: Cluster; problems: Problem[] } {
  const problems: Problem[] = [];
  const cluster = assembleCluster(readManifestText('test.yaml', yaml, problems), problems);
  return { cluster, problems };
}

/** The error messages of an input, formatted as the CLI prints them. */
export function errorsOf(yaml: string): string[] {
  return clusterFrom(yaml).problems.filter((p) => p.severity === 'error').map(formatProblem);
}

/** The connlist lines of an input that must be valid. */
export function connlist(yaml: string): string[] {
  const { cluster, problems } = clusterFrom(yaml);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatProblem).join('\n'));
  return formatConnlist(computeReach(cluster)).split('\n').filter((l) => l !== '');
}

/** A Deployment with these template labels and container ports (`name:port/PROTO`, name optional). */
export function deployment(name: string, labels: Record<string, string>, ports: string[] = [], namespace = 'default'): string {
  const portLines = ports.map((spec) => {
    const m = /^(?:([a-z0-9-]+):)?(\d+)(?:\/(TCP|UDP|SCTP))?$/.exec(spec);
    if (m === null) throw new Error(`bad port spec ${spec}`);
    return `        - containerPort: ${m[2]}\n          protocol: ${m[3] ?? 'TCP'}${m[1] ? `\n          name: ${m[1]}` : ''}`;
  });
  return `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  template:
    metadata:
      labels: ${JSON.stringify(labels)}
    spec:
      containers:
      - name: main
        image: img
${portLines.length > 0 ? `        ports:\n${portLines.join('\n')}\n` : ''}`;
}

export function namespace(name: string, labels: Record<string, string> = {}): string {
  return `---
apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
`;
}

/** A NetworkPolicy whose spec is given as YAML indented by two spaces. */
export function policy(name: string, spec: string, ns = 'default'): string {
  return `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ${name}
  namespace: ${ns}
spec:
${spec}
`;
}
