// NeuVector export and import: the exact objects for a small policy, what is reported as lost,
// reading errors with their place, and export → import giving back the same policy (property).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { compile } from '../../src/policy/compile.js';
import { writeNeuVector } from '../../src/export/neuvector.js';
import { readNeuVector } from '../../src/export/neuvector-read.js';
import { validateManifests } from '../../src/export/validate.js';
import { manifestsToYaml, type Manifest } from '../../src/export/manifest.js';
import { formatLoss } from '../../src/export/report.js';
import { readManifestDir, type ManifestObject } from '../../src/export/kubernetes/manifests.js';
import { formatProblem, type Problem } from '../../src/export/kubernetes/problems.js';
import type { Criterion, Group, LabelRequirement, Mode, Policy, PortRange, Rule } from '../../src/model/policy.js';
import { app, group, inventory, policy, rule, tcp } from '../policy/engine/fixtures.js';
import { loadShop } from '../policy/analyze/shop.js';

const none = inventory([]);
const exportOf = (p: Policy): ReturnType<typeof writeNeuVector> => writeNeuVector(p, none, compile(p, none));

/** The manifests written to a temporary file and read back the way a user's directory is. */
function readBack(manifests: readonly Manifest[], text = manifestsToYaml(manifests)): { policy: Policy; problems: Problem[] } {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-nv-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), text);
    const problems: Problem[] = [];
    const objects: ManifestObject[] = readManifestDir(dir, problems);
    return { policy: readNeuVector(objects, problems), problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a rule between two groups sits as ingress in the target group of its destination', () => {
  const p = policy(
    [group('web', [app('web'), { kind: 'namespace', name: 'shop' }], 'protect'), group('api', [app('api')])],
    [rule('web-to-api', 'web', 'api', { ports: [tcp(8080), { proto: 'udp', first: 53, last: 53 }], applications: ['http'], priority: 5 }), rule('out', 'api', 'external', { action: 'deny' })],
    'discover',
  );
  const { manifests, losses } = exportOf(p);
  assert.deepEqual(losses, []);
  const web = { name: 'web', criteria: [{ key: 'app', value: 'web', op: '=' }, { key: 'domain', value: 'shop', op: '=' }] };
  const api = { name: 'api', criteria: [{ key: 'app', value: 'api', op: '=' }] };
  assert.deepEqual(manifests, [
    {
      apiVersion: 'neuvector.com/v1',
      kind: 'NvSecurityRule',
      metadata: { name: 'palisade-web', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'palisade' } },
      spec: { target: { selector: web, policymode: 'Protect' }, ingress: [], egress: [], process: [], file: [] },
    },
    {
      apiVersion: 'neuvector.com/v1',
      kind: 'NvClusterSecurityRule',
      metadata: { name: 'palisade-api', labels: { 'app.kubernetes.io/managed-by': 'palisade' } },
      spec: {
        target: { selector: api },
        ingress: [{ name: 'web-to-api', selector: web, action: 'allow', applications: ['HTTP'], ports: 'tcp/8080,udp/53', priority: 5 }],
        egress: [{ name: 'out', selector: { name: 'external', criteria: [] }, action: 'deny', applications: ['any'], ports: 'any', priority: 0 }],
        process: [],
        file: [],
      },
    },
  ]);
});

test('label exists and in become a wildcard value and one criterion per value', () => {
  const exists: Criterion = { kind: 'label', req: { key: 'pci', op: 'exists', values: [] } };
  const tier: Criterion = { kind: 'label', req: { key: 'tier', op: 'in', values: ['front', 'back'] } };
  const [m] = exportOf(policy([group('g', [exists, tier])], [])).manifests;
  assert.deepEqual((m?.spec['target'] as { selector: unknown }).selector, {
    name: 'g',
    criteria: [
      { key: 'pci', value: '*', op: '=' },
      { key: 'tier', value: 'front', op: '=' },
      { key: 'tier', value: 'back', op: '=' },
    ],
  });
});

test('the report names the namespace labels, extra selectors and rules through any that NeuVector cannot hold', async () => {
  const { policy: shop } = await loadShop();
  const lines = exportOf(shop).losses.map(formatLoss);
  assert.deepEqual(lines, [
    'examples/shop/policy/20-cde.yaml:6: group cde: 2 selectors: a NeuVector group is one set of criteria, only the first is exported',
    'examples/shop/policy/20-cde.yaml:33: rule deny-into-cde: any has no NeuVector group: the rule from any to cde is dropped',
    'examples/shop/policy/20-cde.yaml:43: rule deny-out-of-cde: any has no NeuVector group: the rule from cde to any is dropped',
  ]);
});

test('the shop export passes the NeuVector schema', async () => {
  const { policy: shop } = await loadShop();
  assert.deepEqual(validateManifests(exportOf(shop).manifests), []);
});

test('a NeuVector object with an unknown op is refused with the file, line and field', () => {
  const text = [
    'apiVersion: neuvector.com/v1',
    'kind: NvClusterSecurityRule',
    'metadata: { name: bad }',
    'spec:',
    '  target:',
    '    selector:',
    '      name: web',
    '      criteria:',
    '        - { key: app, value: web, op: "~" }',
    '',
  ].join('\n');
  const { problems } = readBack([], text);
  assert.equal(problems.length, 1);
  assert.match(formatProblem(problems[0] as Problem), /rules\.yaml:9:\d+: NvClusterSecurityRule bad: spec\.target\.selector\.criteria\[0\]: a criterion needs key, value and op "=" or "!="$/);
});

test('an invalid NeuVector manifest is refused by the schema with the object named', () => {
  const bad: Manifest = { apiVersion: 'neuvector.com/v1', kind: 'NvSecurityRule', metadata: { name: 'x', namespace: 'shop' }, spec: { target: { selector: { name: 'x' }, policymode: 'Enforce' } } };
  const problems = validateManifests([bad]);
  assert.equal(problems.length, 1);
  assert.match(problems[0] as string, /^NvSecurityRule shop\/x: \/spec\/target\/policymode/);
});

// What NeuVector can hold: one selector per group, one label criterion per key, address groups
// apart, rules with one end a group of the policy.
const KEYS = ['app', 'tier', 'team'];
const labelReq = (key: string): fc.Arbitrary<LabelRequirement> =>
  fc.oneof(
    fc.constantFrom('a', 'b').map((v) => ({ key, op: 'eq' as const, values: [v] })),
    fc.constantFrom('a', 'b').map((v) => ({ key, op: 'neq' as const, values: [v] })),
    fc.constant<LabelRequirement>({ key, op: 'exists', values: [] }),
    fc.constant<LabelRequirement>({ key, op: 'in', values: ['a', 'b'] }),
  );
const identityCriteria: fc.Arbitrary<Criterion[]> = fc
  .tuple(
    fc.subarray(KEYS).chain((keys) => fc.tuple(...keys.map(labelReq))),
    fc.option(fc.constantFrom('shop', 'data'), { nil: undefined }),
    fc.option(fc.constantFrom('docker.io/library/postgres:*', 'redis:7'), { nil: undefined }),
    fc.option(fc.constantFrom('node-1', 'node-2'), { nil: undefined }),
  )
  .map(([labels, ns, image, node]) => [
    ...labels.map((req): Criterion => ({ kind: 'label', req })),
    ...(ns !== undefined ? [{ kind: 'namespace' as const, name: ns }] : []),
    ...(image !== undefined ? [{ kind: 'image' as const, glob: image }] : []),
    ...(node !== undefined ? [{ kind: 'node' as const, name: node }] : []),
  ])
  .filter((cs) => cs.length > 0);
const addressCriteria: fc.Arbitrary<Criterion[]> = fc.constantFrom<Criterion[]>(
  [{ kind: 'address', spec: '10.0.0.0/8' }],
  [{ kind: 'address', spec: '192.168.1.5' }],
  [{ kind: 'fqdn', pattern: '*.stripe.example' }],
);
const port: fc.Arbitrary<PortRange> = fc
  .record({ proto: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'), first: fc.integer({ min: 1, max: 65000 }), span: fc.integer({ min: 0, max: 100 }) })
  .map((p) => ({ proto: p.proto, first: p.first, last: p.first + p.span }));
const nvPolicy: fc.Arbitrary<Policy> = fc
  .array(fc.record({ criteria: fc.oneof(identityCriteria, addressCriteria), mode: fc.option(fc.constantFrom<Mode>('discover', 'monitor', 'protect'), { nil: undefined }) }), { minLength: 1, maxLength: 4 })
  .chain((specs) => {
    const groups = specs.map((s, i): Group => ({ name: `g${i}`, selectors: [{ criteria: s.criteria }], ...(s.mode !== undefined ? { mode: s.mode } : {}) }));
    const own = groups.map((g) => g.name);
    const ends = fc.oneof(
      fc.tuple(fc.constantFrom(...own, 'external', 'nodes', 'workloads'), fc.constantFrom(...own)),
      fc.tuple(fc.constantFrom(...own), fc.constantFrom('external', 'nodes', 'workloads')),
    );
    const r = fc.record({
      ends,
      ports: fc.uniqueArray(port, { maxLength: 3, selector: (p) => `${p.proto}/${p.first}-${p.last}` }),
      applications: fc.subarray(['http', 'postgresql', 'redis'], { maxLength: 2 }),
      action: fc.constantFrom<Rule['action']>('allow', 'deny'),
      priority: fc.integer({ min: -5, max: 100 }),
    });
    return fc.array(r, { maxLength: 6 }).map((rs): Policy => ({
      groups,
      rules: rs.map((x, i): Rule => ({ id: `rule-${i}`, from: [x.ends[0]], to: [x.ends[1]], ports: x.ports, applications: x.applications, action: x.action, priority: x.priority, source: 'imported' })),
      defaultMode: 'discover',
    }));
  });

/** What makes two policies equivalent: groups and rules by name, criteria in any order, no positions. */
function essence(p: Policy): unknown {
  const byName = <T extends { name?: string; id?: string }>(xs: T[]): T[] => [...xs].sort((a, b) => ((a.name ?? a.id ?? '') < (b.name ?? b.id ?? '') ? -1 : 1));
  return {
    groups: byName(p.groups.map((g) => ({ name: g.name, mode: g.mode, criteria: g.selectors.map((s) => s.criteria.map((c) => JSON.stringify(c)).sort()) }))),
    rules: byName(p.rules.map((r) => ({ id: r.id, from: r.from, to: r.to, ports: r.ports, applications: r.applications, action: r.action, priority: r.priority }))),
  };
}

test('export then import gives back the same groups, modes and rules (property)', () => {
  fc.assert(
    fc.property(nvPolicy, (p) => {
      const { manifests, losses } = exportOf(p);
      assert.deepEqual(losses.map(formatLoss), []);
      assert.deepEqual(validateManifests(manifests), []);
      const back = readBack(manifests);
      assert.deepEqual(back.problems.map(formatProblem), []);
      assert.deepEqual(essence(back.policy), essence(p));
    }),
    { numRuns: 150 },
  );
});
