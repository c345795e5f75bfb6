import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parsePolicyText } from '../../../src/policy/document/load.js';
import { parseInventory } from '../../../src/inventory/load.js';
import { lintPolicy } from '../../../src/policy/lint/lint.js';
import type { Inventory } from '../../../src/model/workload.js';

const INVENTORY = parseInventory(
  'inv.yaml',
  [
    'workloads:',
    '  - { name: web, namespace: shop, labels: { app: web, tier: frontend }, addresses: [10.200.1.10] }',
    '  - { name: api, namespace: shop, labels: { app: api, tier: backend }, addresses: [10.200.1.20] }',
    '  - { name: db, namespace: data, labels: { app: db, tier: backend }, addresses: [10.200.3.10] }',
  ].join('\n'),
).inventory;

interface Spec {
  groups?: Record<string, unknown>[];
  rules: Record<string, unknown>[];
}

const GROUPS = [
  { name: 'web', selectors: ['app=web'] },
  { name: 'api', selectors: ['app=api'] },
  { name: 'db', selectors: ['app=db'] },
  { name: 'backend', selectors: ['tier=backend'] },
];

function lint(spec: Spec, inventory?: Inventory): string[] {
  const doc = { apiVersion: 'palisade.dev/v1', kind: 'Policy', metadata: { name: 't' }, spec: { groups: spec.groups ?? GROUPS, rules: spec.rules } };
  const { policy, diagnostics } = parsePolicyText(stringify(doc), 'p.yaml', { knownApplications: ['HTTP', 'PostgreSQL'] });
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  return lintPolicy(policy, inventory).map((d) => `${d.code}: ${d.message}`);
}

const allow = (id: string, from: string, to: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({ id, from, to, action: 'allow', ...more });
const deny = (id: string, from: string, to: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({ id, from, to, action: 'deny', ...more });

test('a rule whose ports are split over two earlier rules is covered by both, named together', () => {
  const found = lint({
    rules: [
      deny('low', 'web', 'api', { ports: 'tcp/1-100', priority: 5 }),
      allow('high', 'web', 'api', { ports: 'tcp/101-200', priority: 5 }),
      allow('middle', 'web', 'api', { ports: 'tcp/50-150' }),
    ],
  });
  assert.deepEqual(found, ['shadowed-rule: rule "middle" never decides: rules "low" and "high" match every connection it could match first']);
});

test('a rule only partly covered by earlier rules is not reported', () => {
  assert.deepEqual(lint({ rules: [deny('some', 'web', 'api', { ports: 'tcp/1-100', priority: 5 }), allow('more', 'web', 'api', { ports: 'tcp/50-150' })] }), []);
});

test('an earlier rule naming an application does not cover a later rule for any application', () => {
  assert.deepEqual(lint({ rules: [deny('http-only', 'web', 'api', { applications: 'HTTP', priority: 5 }), allow('all', 'web', 'api')] }), []);
});

test('an earlier rule for any application covers a later rule naming one', () => {
  const found = lint({ rules: [allow('all', 'web', 'api', { priority: 5 }), allow('http', 'web', 'api', { applications: 'HTTP', ports: 'tcp/80' })] });
  assert.deepEqual(found.map((f) => f.split(':')[0]), ['redundant-rule']);
});

test('a disabled rule covers nothing', () => {
  assert.deepEqual(lint({ rules: [deny('off', 'web', 'api', { priority: 5, disabled: true }), allow('on', 'web', 'api')] }), []);
});

test('a later rule of higher priority is never covered by an earlier-written one of lower priority', () => {
  assert.deepEqual(lint({ rules: [deny('wide', 'any', 'api'), allow('narrow', 'web', 'api', { priority: 1 })] }), []);
});

test('without an inventory, workloads covers a group that can only hold workloads', () => {
  const found = lint({ rules: [deny('all-workloads', 'workloads', 'api', { priority: 5 }), allow('web-api', 'web', 'api')] });
  assert.deepEqual(found.map((f) => f.split(':')[0]), ['shadowed-rule']);
});

test('without an inventory, two different groups are never taken to overlap', () => {
  assert.deepEqual(lint({ rules: [deny('backend', 'web', 'backend', { priority: 5 }), allow('api', 'web', 'api')] }), []);
});

test('with an inventory, a group whose workloads all lie in another group is covered by it', () => {
  const found = lint({ rules: [deny('backend', 'web', 'backend', { priority: 5 }), allow('api', 'web', 'api')] }, INVENTORY);
  assert.deepEqual(found, ['shadowed-rule: rule "api" never decides: rule "backend" matches every connection it could match first']);
});

test('an address range inside a wider one is covered by it', () => {
  const groups = [...GROUPS, { name: 'partner', selectors: [{ address: '192.0.2.0/28' }] }, { name: 'partners', selectors: [{ address: '192.0.2.0/24' }] }];
  const found = lint({ groups, rules: [allow('partners', 'partners', 'api', { ports: 'tcp/443', priority: 5 }), allow('partner', 'partner', 'api', { ports: 'tcp/443' })] }, INVENTORY);
  assert.deepEqual(found.map((f) => f.split(':')[0]), ['redundant-rule']);
});

test('an allow and a deny of one priority that overlap conflict; at different priorities they do not', () => {
  const same = lint({ rules: [deny('no-db', 'backend', 'db'), allow('api-db', 'api', 'backend', { ports: 'tcp/5432' })] }, INVENTORY);
  assert.deepEqual(same.map((f) => f.split(':')[0]), ['conflicting-rules']);
  const ranked = lint({ rules: [deny('no-db', 'backend', 'db', { priority: 1 }), allow('api-db', 'api', 'backend', { ports: 'tcp/5432' })] }, INVENTORY);
  assert.deepEqual(ranked, []);
});

test('external to workloads on every port is over-broad; on one port it is not', () => {
  assert.deepEqual(lint({ rules: [allow('open', 'external', 'workloads')] }).map((f) => f.split(':')[0]), ['over-broad-rule']);
  assert.deepEqual(lint({ rules: [allow('https', 'external', 'workloads', { ports: 'tcp/443' })] }), []);
});

test('a deny from any to any is a default deny, not over-broad', () => {
  assert.deepEqual(lint({ rules: [deny('default-deny', 'any', 'any', { priority: -1000 })] }), []);
});

test('a group of DNS names only is not reported for matching nothing in the inventory', () => {
  const groups = [...GROUPS, { name: 'provider', selectors: [{ fqdn: 'api.psp.example' }] }];
  assert.deepEqual(lint({ groups, rules: [allow('out', 'api', 'provider', { ports: 'tcp/443' })] }, INVENTORY).filter((f) => f.startsWith('selector')), []);
});

test('only the selector of a group that matches nothing is reported', () => {
  const groups = [...GROUPS.slice(0, 3), { name: 'backend', selectors: ['tier=backend', 'app=gone'] }];
  assert.deepEqual(lint({ groups, rules: [] }, INVENTORY), ['selector-matches-nothing: selector 2 of group "backend" matches no workload or node in the inventory']);
});

test('groups with one mode, or one without a mode, never conflict', () => {
  const groups = [
    { name: 'web', selectors: ['app=web'], mode: 'protect' },
    { name: 'frontend', selectors: ['tier=frontend'], mode: 'protect' },
    { name: 'shop', selectors: [{ namespace: 'shop' }] },
    { name: 'rest', selectors: ['tier=backend'] },
  ];
  assert.deepEqual(lint({ groups, rules: [] }, INVENTORY), []);
});

test('a workload in no group is reported even when no position is known for it', () => {
  const groups = [{ name: 'web', selectors: ['app=web'] }, { name: 'api', selectors: ['app=api'] }];
  const { policy } = parsePolicyText(stringify({ apiVersion: 'palisade.dev/v1', kind: 'Policy', metadata: { name: 't' }, spec: { groups } }), 'p.yaml');
  const found = lintPolicy(policy, INVENTORY);
  assert.deepEqual(found.map((d) => [d.code, d.file, d.line]), [['uncovered-workload', '', 1]]);
  assert.match(found[0]?.message ?? '', /"data\/db"/);
});
