import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyText } from '../../../src/policy/document/load.js';
import type { Group, Policy, Rule } from '../../../src/model/policy.js';

const apps = { knownApplications: ['Redis', 'PostgreSQL', 'HTTP'] };

function parse(text: string): Policy {
  const { policy, diagnostics } = parsePolicyText(text, 'p.yaml', apps);
  assert.deepEqual(diagnostics, []);
  return policy;
}

function userGroups(policy: Policy): Group[] {
  return policy.groups.filter((g) => g.reserved !== true);
}

const withoutPos = <T extends { pos?: unknown }>(x: T): Omit<T, 'pos'> => {
  const { pos: _pos, ...rest } = x;
  return rest;
};

test('a Policy document sets the default mode and holds groups and rules', () => {
  const policy = parse(`apiVersion: palisade.dev/v1
kind: Policy
metadata:
  name: shop
spec:
  mode: protect
  groups:
  - name: web
    mode: monitor
    comment: the storefront
    selectors:
    - app=web
  rules:
  - id: web-out
    from: web
    to: [external, any]
    ports: [tcp/443, udp/53]
    applications: [http]
    action: allow
    priority: 5
    source: learned
    disabled: true
    comment: calls payment providers
`);
  assert.equal(policy.defaultMode, 'protect');
  assert.deepEqual(userGroups(policy).map(withoutPos), [
    {
      name: 'web',
      mode: 'monitor',
      comment: 'the storefront',
      selectors: [
        {
          criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: ['web'] } }],
          pos: { file: 'p.yaml', line: 12, col: 7, path: 'spec.groups[0].selectors[0]' },
        },
      ],
    },
  ]);
  const expected: Rule = {
    id: 'web-out',
    from: ['web'],
    to: ['external', 'any'],
    ports: [
      { proto: 'tcp', first: 443, last: 443 },
      { proto: 'udp', first: 53, last: 53 },
    ],
    applications: ['http'],
    action: 'allow',
    priority: 5,
    source: 'learned',
    disabled: true,
    comment: 'calls payment providers',
    pos: { file: 'p.yaml', line: 14, col: 5, path: 'spec.rules[0]' },
  };
  assert.deepEqual(policy.rules, [expected]);
});

test('the default mode is discover when no document sets one', () => {
  assert.equal(parse('apiVersion: palisade.dev/v1\nkind: Policy\nmetadata: {name: p}\n').defaultMode, 'discover');
});

test('the reserved groups come first in every policy, marked reserved', () => {
  assert.deepEqual(
    parse('apiVersion: palisade.dev/v1\nkind: Policy\nmetadata: {name: p}\n').groups,
    ['any', 'workloads', 'nodes', 'external'].map((name) => ({ name, selectors: [], reserved: true })),
  );
});

test('a Group document is named by metadata.name and maps every selector form onto criteria', () => {
  const policy = parse(`apiVersion: palisade.dev/v1
kind: Group
metadata:
  name: backends
  labels: {team: core}
spec:
  mode: protect
  selectors:
  - labels: {app: api, version: 2}
    namespace: shop
    namespaceLabels: "env in (prod, staging)"
  - service: payments
    image: "registry.example.com/pay/*"
    node: node-1
  - address: 10.0.0.0/24
  - address: fd00::1-fd00::ff
  - fqdn: "*.Example.com"
`);
  const [group] = userGroups(policy);
  assert.ok(group);
  assert.equal(group.name, 'backends');
  assert.equal(group.mode, 'protect');
  assert.deepEqual(group.pos, { file: 'p.yaml', line: 4, col: 9, path: 'metadata.name' });
  assert.deepEqual(
    group.selectors.map((s) => s.criteria),
    [
      [
        { kind: 'label', req: { key: 'app', op: 'eq', values: ['api'] } },
        { kind: 'label', req: { key: 'version', op: 'eq', values: ['2'] } },
        { kind: 'namespace', name: 'shop' },
        { kind: 'namespaceLabel', req: { key: 'env', op: 'in', values: ['prod', 'staging'] } },
      ],
      [
        { kind: 'service', name: 'payments' },
        { kind: 'image', glob: 'registry.example.com/pay/*' },
        { kind: 'node', name: 'node-1' },
      ],
      [{ kind: 'address', spec: '10.0.0.0/24' }],
      [{ kind: 'address', spec: 'fd00::1-fd00::ff' }],
      [{ kind: 'fqdn', pattern: '*.example.com' }],
    ],
  );
});

test('a Rule document is identified by metadata.name and takes the defaults', () => {
  const policy = parse(`apiVersion: palisade.dev/v1
kind: Rule
metadata:
  name: anything-to-dns
spec:
  from: workloads
  to: external
  ports: udp/53
  action: allow
`);
  assert.deepEqual(policy.rules, [
    {
      id: 'anything-to-dns',
      from: ['workloads'],
      to: ['external'],
      ports: [{ proto: 'udp', first: 53, last: 53 }],
      applications: [],
      action: 'allow',
      priority: 0,
      source: 'user',
      pos: { file: 'p.yaml', line: 4, col: 9, path: 'metadata.name' },
    },
  ]);
});

test('application names are normalised to the lower-cased registry name and any means every application', () => {
  const rule = (applications: string): string[] =>
    parse(`apiVersion: palisade.dev/v1
kind: Rule
metadata: {name: r}
spec: {from: any, to: any, action: deny, applications: ${applications}}
`).rules[0]?.applications ?? ['missing'];
  assert.deepEqual(rule('[REDIS, PostgreSQL, redis]'), ['redis', 'postgresql']);
  assert.deepEqual(rule('[redis, Any]'), []);
  assert.deepEqual(rule('any'), []);
});

test('application names follow the protocol registry when no list is given', () => {
  const { diagnostics } = parsePolicyText(
    'apiVersion: palisade.dev/v1\nkind: Rule\nmetadata: {name: r}\nspec: {from: any, to: any, action: deny, applications: [no-such-protocol-xyz]}\n',
    'p.yaml',
  );
  assert.deepEqual(diagnostics.map((d) => d.code), ['unknown-application']);
});

test('several documents of one file merge into one policy in order', () => {
  const policy = parse(`apiVersion: palisade.dev/v1
kind: Group
metadata: {name: web}
spec: {selectors: [app=web]}
---
apiVersion: palisade.dev/v1
kind: Group
metadata: {name: db}
spec: {selectors: [app=db]}
---
apiVersion: palisade.dev/v1
kind: Rule
metadata: {name: web-db}
spec: {from: web, to: db, ports: [tcp/5432], applications: [postgresql], action: allow}
---
`);
  assert.deepEqual(userGroups(policy).map((g) => g.name), ['web', 'db']);
  assert.deepEqual(policy.rules.map((r) => [r.id, r.from, r.to]), [['web-db', ['web'], ['db']]]);
});

test('a JSON document reads like the YAML one', () => {
  const policy = parse(
    JSON.stringify({
      apiVersion: 'palisade.dev/v1',
      kind: 'Rule',
      metadata: { name: 'r' },
      spec: { from: 'any', to: ['nodes'], action: 'deny', priority: -1 },
    }),
  );
  assert.deepEqual(policy.rules.map((r) => [r.id, r.to, r.priority]), [['r', ['nodes'], -1]]);
});

test('a YAML anchor reused in two places yields the same selectors in both groups', () => {
  const policy = parse(`apiVersion: palisade.dev/v1
kind: Policy
metadata: {name: p}
spec:
  groups:
  - name: a
    selectors: &sel [app=x]
  - name: b
    selectors: *sel
`);
  const [a, b] = userGroups(policy);
  assert.deepEqual(a?.selectors.map((s) => s.criteria), b?.selectors.map((s) => s.criteria));
});
