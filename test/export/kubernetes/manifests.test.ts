import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { manifestFiles, readManifestText } from '../../../src/export/kubernetes/manifests.js';
import { formatProblem, type Problem } from '../../../src/export/kubernetes/problems.js';
import { clusterFrom, connlist, errorsOf, policy } from './fixtures.js';

function read(text: string, file = 'm.yaml'): { kinds: string[]; problems: string[] } {
  const problems: Problem[] = [];
  const objects = readManifestText(file, text, problems);
  return { kinds: objects.map((o) => o.kind), problems: problems.map(formatProblem) };
}

const pod = (name: string, extra = ''): string => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name}}
${extra}`;

test('a YAML stream yields one object per document, empty documents skipped', () => {
  assert.deepEqual(read('kind: Pod\n---\n# only a comment\n---\nkind: Namespace\n').kinds, ['Pod', 'Namespace']);
});

test('a List yields its items under their own kinds', () => {
  assert.deepEqual(read('{"kind": "List", "items": [{"kind": "Pod"}, {"kind": "Deployment"}]}', 'l.json').kinds, ['Pod', 'Deployment']);
});

test('the items of a PodList without kind are Pods', () => {
  assert.deepEqual(read('kind: PodList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n').kinds, ['Pod', 'Pod']);
});

test('a document without kind is skipped with a warning naming the file and the document', () => {
  const { kinds, problems } = read('kind: Pod\n---\nname: x\n');
  assert.deepEqual(kinds, ['Pod']);
  assert.deepEqual(problems, ["warning: m.yaml:3: document 2: field 'kind' is missing in the object; skipped"]);
});

test('a YAML syntax error is reported with its line and column', () => {
  const { problems } = read('kind: Pod\nmetadata:\n  name: "a" %b\n');
  assert.equal(problems.length, 1);
  assert.match(problems[0] as string, /^m\.yaml:3:\d+: YAML syntax error: found character that cannot start any token \('%'\)/);
});

test('a pod with a controller owner is reported as its owner, with the owner kind', () => {
  const owned = '  ownerReferences: [{kind: DaemonSet, name: agents, controller: true}]\n';
  const lines = connlist(pod('a', owned) + pod('b', owned) + pod('solo'));
  assert.deepEqual(lines.filter((l) => !l.includes('External')), [
    'default/agents[DaemonSet] => default/solo[Pod] : All Connections',
    'default/solo[Pod] => default/agents[DaemonSet] : All Connections',
  ]);
});

test('an owner reference without kind is reported as a Pod of the owner name', () => {
  const { cluster } = clusterFrom(pod('a', '  ownerReferences: [{name: group, controller: true}]\n'));
  assert.deepEqual(cluster.workloads.map((w) => w.id), ['default/group[Pod]']);
});

test('a pod owned by a Node, or by a non-controller owner, is its own peer', () => {
  const { cluster } = clusterFrom(
    pod('static', '  ownerReferences: [{kind: Node, name: n1, controller: true}]\n') +
      pod('loose', '  ownerReferences: [{kind: ReplicaSet, name: rs, controller: false}]\n'),
  );
  assert.deepEqual(cluster.workloads.map((w) => w.id), ['default/static[Pod]', 'default/loose[Pod]']);
});

test('a CronJob takes its labels from the job template', () => {
  const cron = `---
kind: CronJob
metadata: {name: nightly, namespace: ops}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: nightly}}
`;
  const { cluster } = clusterFrom(cron);
  assert.deepEqual(cluster.workloads.map((w) => [w.id, w.labels]), [['ops/nightly[CronJob]', { app: 'nightly' }]]);
});

test('pods of one owner whose labels a selector tells apart are refused', () => {
  const owned = '  ownerReferences: [{kind: ReplicaSet, name: rs, controller: true}]\n';
  const errors = errorsOf(pod('a', owned) + pod('b', owned) + policy('p', '  podSelector: {matchLabels: {app: a}}'));
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /NetworkPolicy default\/p: spec\.podSelector: Found Pods of the same owner workload `default\/rs` and with differences in their labels/);
  assert.match(errors[0] as string, /matches Pod default\/a \(test\.yaml\) but not Pod default\/b/);
});

test('pods of one owner told apart only by a rule peer of a policy elsewhere are refused, naming that peer', () => {
  const owned = '  ownerReferences: [{kind: ReplicaSet, name: rs, controller: true}]\n';
  const peers = '  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n    - namespaceSelector: {}\n      podSelector: {matchLabels: {app: b}}';
  const errors = errorsOf(pod('a', owned) + pod('b', owned) + policy('open', '  podSelector: {}') + policy('p', peers, 'other'));
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /NetworkPolicy other\/p: spec\.ingress\[0\]\.from\[1\]: Found Pods of the same owner workload `default\/rs`/);
  assert.match(errors[0] as string, /matches Pod default\/b \(test\.yaml\) but not Pod default\/a/);
});

test('pods of one owner whose labels differ only where no selector looks are accepted', () => {
  const owned = '  ownerReferences: [{kind: ReplicaSet, name: rs, controller: true}]\n';
  assert.deepEqual(errorsOf(pod('a', owned) + pod('b', owned) + policy('p', '  podSelector: {matchExpressions: [{key: app, operator: Exists}]}')), []);
});

test('an input without workloads is refused', () => {
  assert.deepEqual(errorsOf(policy('p', '  podSelector: {}')), ['no relevant Kubernetes workload resources found (Pods or workload controllers)']);
});

test('a label value that is no string is refused at the line and column of the value', () => {
  const errors = errorsOf('kind: Pod\nmetadata:\n  name: a\n  labels: {version: 2}\n');
  assert.deepEqual(errors, ['test.yaml:4:21: Pod default/a: metadata.labels.version: a label value must be a string (quote it)']);
});

test('manifest files are found in sub-folders, in name order, by their .yaml, .yml or .json suffix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-k8s-'));
  try {
    mkdirSync(join(dir, 'b'));
    for (const f of ['b/pods.JSON', 'a.yml', 'notes.txt', 'c.yaml', 'b/ns.yaml']) writeFileSync(join(dir, f), '');
    assert.deepEqual(manifestFiles(dir).map((f) => relative(dir, f)), ['a.yml', join('b', 'ns.yaml'), join('b', 'pods.JSON'), 'c.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
