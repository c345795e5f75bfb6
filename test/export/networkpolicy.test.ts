// The NetworkPolicy writer on small policies: the exact manifests, the loss lines, validation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/policy/compile.js';
import { writeEnforcedAllowSets, writeNetworkPolicies } from '../../src/export/networkpolicy.js';
import { validateManifests } from '../../src/export/validate.js';
import { formatLoss, type Loss } from '../../src/export/report.js';
import type { Manifest } from '../../src/export/manifest.js';
import type { Policy } from '../../src/model/policy.js';
import type { Inventory } from '../../src/model/workload.js';
import { app, group, inventory, policy, rule, tcp, workload } from '../policy/engine/fixtures.js';

function exportOf(p: Policy, inv: Inventory): ReturnType<typeof writeNetworkPolicies> {
  return writeNetworkPolicies(p, inv, compile(p, inv));
}

const shop = inventory([workload('web', '10.0.0.1'), workload('api', '10.0.0.2')], { namespaces: [{ name: 'shop', labels: {} }] });
const managed = { 'app.kubernetes.io/managed-by': 'palisade' };

test('an allow-only policy is written rule by rule: a default deny, then each rule at both ends', () => {
  const p = policy([group('web', [app('web')]), group('api', [app('api'), { kind: 'namespace', name: 'shop' }])], [rule('web-to-api', 'web', 'api', { ports: [tcp(8080)] })]);
  const { manifests, losses } = exportOf(p, shop);
  const ports = [{ protocol: 'TCP', port: 8080 }];
  const expected: Manifest[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'palisade-default-deny', namespace: 'shop', labels: managed },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'palisade-web-to-api-ingress', namespace: 'shop', labels: managed },
      spec: { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } }], ports }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'palisade-web-to-api-egress', namespace: 'shop', labels: managed },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { app: 'api' } } }], ports }],
      },
    },
  ];
  assert.deepEqual(manifests, expected);
  assert.deepEqual(losses.map(formatLoss), [
    "policy: the default deny and rules of groups without a namespace are written into this inventory's namespaces [shop]: namespaces created later need a new export",
  ]);
});

test('a policy with a deny is written as each workload\'s allow set, and the report says why', () => {
  const p = policy([group('web', [app('web')]), group('api', [app('api')])], [rule('web-to-api', 'web', 'api', { ports: [tcp(8080)] }), rule('no', 'api', 'web', { action: 'deny' })]);
  const { manifests, losses } = exportOf(p, shop);
  assert.deepEqual(
    manifests.map((m) => [m.metadata.name, m.spec['podSelector'], m.spec['policyTypes']]),
    [
      ['palisade-web', { matchLabels: { app: 'web' } }, ['Ingress', 'Egress']],
      ['palisade-api', { matchLabels: { app: 'api' } }, ['Ingress', 'Egress']],
    ],
  );
  assert.equal(
    formatLoss(losses[losses.length - 1] as Loss),
    'policy: deny rules [no] cannot be written rule by rule: exported as what each workload of this inventory may send and receive, selected by its labels',
  );
});

test('written as allow sets, a workload becomes egress on the client and ingress on the server', () => {
  const p = policy([group('web', [app('web')]), group('api', [app('api')])], [rule('web-to-api', 'web', 'api', { ports: [tcp(8080)] })]);
  const { manifests } = writeEnforcedAllowSets(p, shop, compile(p, shop));
  const expected: Manifest[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'palisade-web', namespace: 'shop', labels: managed },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [],
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'palisade-api', namespace: 'shop', labels: managed },
      spec: {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
        egress: [],
      },
    },
  ];
  assert.deepEqual(manifests, expected);
});

test('a port range becomes port and endPort, and a deny carves its ports out of the allow', () => {
  const p = policy(
    [group('web', [app('web')]), group('api', [app('api')])],
    [rule('range', 'web', 'api', { ports: [tcp(8000, 8100)] }), rule('no-debug', 'web', 'api', { ports: [tcp(8080)], action: 'deny', priority: 5 })],
  );
  const api = exportOf(p, shop).manifests.find((m) => m.metadata.name === 'palisade-api') as Manifest;
  assert.deepEqual(api.spec['ingress'], [
    {
      from: [{ podSelector: { matchLabels: { app: 'web' } } }],
      ports: [
        { protocol: 'TCP', port: 8000, endPort: 8079 },
        { protocol: 'TCP', port: 8081, endPort: 8100 },
      ],
    },
  ]);
});

test('external addresses become ipBlocks, the whole space with excepts when that is shorter', () => {
  const p = policy(
    [group('web', [app('web')]), group('office', [{ kind: 'address', spec: '192.168.0.0/16' }])],
    [rule('in', 'external', 'web', { ports: [tcp(443)] }), rule('not-office', 'office', 'web', { action: 'deny', priority: 1 })],
  );
  const web = exportOf(p, shop).manifests.find((m) => m.metadata.name === 'palisade-web') as Manifest;
  assert.deepEqual(web.spec['ingress'], [
    { from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['192.168.0.0/16'] } }, { ipBlock: { cidr: '::/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
  ]);
});

test('written as allow sets, a workload whose labels another one extends is selected with DoesNotExist on the extra key', () => {
  const inv = inventory([workload('web', '10.0.0.1'), workload('web-canary', '10.0.0.3', { labels: { app: 'web', track: 'canary' } })]);
  const p = policy([], []);
  const { manifests } = writeEnforcedAllowSets(p, inv, compile(p, inv));
  assert.deepEqual(
    manifests.map((m) => m.spec['podSelector']),
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'track', operator: 'DoesNotExist' }] }, { matchLabels: { app: 'web', track: 'canary' } }],
  );
});

test('written as allow sets, everything allowed has no ports, and a whole peer namespace is selected by its name', () => {
  const inv = inventory([workload('web', '10.0.0.1'), workload('db', '10.0.0.9', { namespace: 'data' })]);
  const p = policy([group('web', [app('web')]), group('data', [{ kind: 'namespace', name: 'data' }])], [rule('all', 'web', 'data')]);
  const web = writeEnforcedAllowSets(p, inv, compile(p, inv)).manifests.find((m) => m.metadata.name === 'palisade-web') as Manifest;
  assert.deepEqual(web.spec['egress'], [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } }] }]);
});

test('the report names every application, ICMP port, deny, fqdn, image criterion and mode it drops', () => {
  const p: Policy = {
    groups: [
      { name: 'web', selectors: [{ criteria: [app('web')] }], mode: 'monitor' },
      { name: 'db', selectors: [{ criteria: [{ kind: 'image', glob: 'postgres:*' }] }] },
      { name: 'stripe', selectors: [{ criteria: [{ kind: 'fqdn', pattern: 'api.stripe.example' }] }] },
    ],
    rules: [
      rule('web-to-db', 'web', 'db', { ports: [tcp(5432)], applications: ['postgresql'] }),
      rule('ping', 'web', 'db', { ports: [{ proto: 'icmp', first: 8, last: 8 }] }),
      rule('no-stripe', 'web', 'stripe', { action: 'deny', priority: 3 }),
    ],
    defaultMode: 'discover',
  };
  const lines = exportOf(p, shop).losses.map(formatLoss);
  assert.deepEqual(lines, [
    'rule web-to-db: applications [PostgreSQL] dropped: NetworkPolicy is L3/L4, the ports are allowed for any application',
    'rule ping: ports [icmp/8] dropped: NetworkPolicy has no ICMP',
    'rule no-stripe: deny at priority 3 has no NetworkPolicy equivalent: folded into the allow lists computed on this inventory',
    'group db: image postgres:* has no label equivalent: its workloads on this inventory are selected by their labels, new ones are not covered',
    'group stripe: fqdn api.stripe.example dropped: NetworkPolicy has no DNS names, nothing is allowed to or from them',
    'group web: mode monitor has no NetworkPolicy equivalent: exported as enforced (protect)',
    'policy: default mode discover has no NetworkPolicy equivalent: every workload is isolated (protect)',
    'policy: deny rules [no-stripe] cannot be written rule by rule: exported as what each workload of this inventory may send and receive, selected by its labels',
  ]);
});

test('rules through the nodes are reported as written with the inventory\'s node addresses', () => {
  const inv = inventory([workload('web', '10.0.0.1')], { nodes: [{ name: 'n1', addresses: ['10.0.9.1'] }] });
  const { manifests, losses } = exportOf(policy([group('web', [app('web')])], [rule('probes', 'nodes', 'web', { ports: [tcp(8080)] })]), inv);
  assert.equal(formatLoss(losses[0] as Loss), "group nodes: nodes have no NetworkPolicy selector: exported as ipBlocks of the inventory's node addresses");
  const ingress = manifests.find((m) => m.metadata.name === 'palisade-probes-ingress') as Manifest;
  assert.deepEqual(ingress.spec['ingress'], [{ from: [{ ipBlock: { cidr: '10.0.9.1/32' } }], ports: [{ protocol: 'TCP', port: 8080 }] }]);
});

test('a loss line starts with the file and line where the rule was written', () => {
  const r = rule('web-to-api', 'web', 'api', { applications: ['http'], pos: { file: 'policy/shop.yaml', line: 14, col: 7, path: 'rules[0]' } });
  const lines = exportOf(policy([group('web', [app('web')]), group('api', [app('api')])], [r]), shop).losses.map(formatLoss);
  assert.equal(lines[0], 'policy/shop.yaml:14: rule web-to-api: applications [HTTP] dropped: NetworkPolicy is L3/L4, the ports are allowed for any application');
});

test('workloads NetworkPolicy cannot tell apart are reported when the policy treats them differently', () => {
  const inv = inventory([workload('a', '10.0.0.1', { labels: { app: 'x' }, node: 'n1' }), workload('b', '10.0.0.2', { labels: { app: 'x' }, node: 'n2' })]);
  const p = policy([group('on-n1', [{ kind: 'node', name: 'n1' }])], [rule('in', 'external', 'on-n1', { ports: [tcp(80)] })]);
  const lines = exportOf(p, inv).losses.map(formatLoss);
  assert.ok(lines.some((l) => l.startsWith('workloads shop/a, shop/b') && l.includes('cannot tell them apart')), lines.join('\n'));
});

test('an invalid manifest is refused with the object named', () => {
  const bad: Manifest = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x', namespace: 'shop' }, spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP', port: 8 }] }] } };
  const problems = validateManifests([bad]);
  assert.equal(problems.length, 1);
  assert.match(problems[0] as string, /^NetworkPolicy shop\/x: .*protocol/);
});

test('every manifest the writer produces passes the NetworkPolicy schema', async () => {
  const { loadShop } = await import('../policy/analyze/shop.js');
  const { policy: p, inventory: inv } = await loadShop();
  assert.deepEqual(validateManifests(exportOf(p, inv).manifests), []);
});
