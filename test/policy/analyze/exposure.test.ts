import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Group, Policy, Rule } from '../../../src/model/policy.js';
import type { Inventory, Workload } from '../../../src/model/workload.js';
import { compile } from '../../../src/policy/compile.js';
import { analyzeExposure, DEFAULT_WEIGHTS, parseWeight } from '../../../src/policy/analyze/exposure.js';
import { analyzeReach } from '../../../src/policy/analyze/reach.js';

const group = (name: string): Group => ({ name, selectors: [{ criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: [name] } }] }] });
const allow = (id: string, from: string, to: string): Rule => ({ id, from: [from], to: [to], ports: [{ proto: 'tcp', first: 80 }], applications: [], action: 'allow', priority: 0, source: 'user' });
const workload = (name: string, labels: Record<string, string> = {}): Workload => ({
  id: `ns/${name}`, name, namespace: 'ns', kind: 'Pod', labels: { app: name, ...labels }, node: 'n', image: 'i', service: name, addresses: [{ ip: `10.0.0.${name.charCodeAt(0) - 96}` }],
});

/** external → a → b → c, all in protect; d alone and sensitive. */
function chain() {
  const policy: Policy = {
    groups: ['a', 'b', 'c', 'd'].map(group).map((g) => ({ ...g, mode: 'protect' as const })),
    rules: [allow('ext-a', 'external', 'a'), allow('a-b', 'a', 'b'), allow('b-c', 'b', 'c')],
    defaultMode: 'protect',
  };
  const inventory: Inventory = { workloads: [workload('a'), workload('b'), workload('c', { pci: 'cde' }), workload('d', { pci: 'cde' })], namespaces: [], nodes: [], services: [] };
  return analyzeExposure(analyzeReach(policy, inventory, compile(policy, inventory)), { weights: DEFAULT_WEIGHTS, externalWeight: 100 }, inventory);
}

test('lateral movement follows allowed connections transitively', () => {
  const a = chain().find((x) => x.workload === 'ns/a');
  assert.deepEqual(a?.reaches, { direct: 1, transitive: 2, external: false });
  assert.deepEqual(a?.sensitiveReached, ['ns/c']);
});

test('who can reach a workload counts external, directly or through others', () => {
  const report = chain();
  assert.equal(report.find((x) => x.workload === 'ns/a')?.reachedBy.external, 'direct');
  assert.equal(report.find((x) => x.workload === 'ns/c')?.reachedBy.external, 'transitive');
  assert.equal(report.find((x) => x.workload === 'ns/d')?.reachedBy.external, 'no');
});

test('blast radius sums the sensitivity of everything reachable', () => {
  const a = chain().find((x) => x.workload === 'ns/a');
  // b (1) + c (1 + pci=cde 10)
  assert.equal(a?.blastRadius, 12);
});

test('the report is ordered riskiest first', () => {
  const report = chain();
  assert.equal(report[0]?.workload, 'ns/c');
  assert.equal(report[report.length - 1]?.workload, 'ns/d');
});

test('a weight reads label=value:n and label:n', () => {
  assert.deepEqual(parseWeight('pci=cde:10'), { key: 'pci', value: 'cde', weight: 10 });
  assert.deepEqual(parseWeight('tier:3'), { key: 'tier', weight: 3 });
  assert.equal(typeof parseWeight('pci=cde'), 'string');
});
