import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePolicyText } from '../../../src/policy/document/load.js';
import type { Group, Policy, Rule } from '../../../src/model/policy.js';

const FIXTURE = 'test/fixtures/policy/compact-redis.yaml';
const apps = { knownApplications: ['Redis', 'HTTP'] };

function parse(text: string, file = 'c.yaml'): Policy {
  const { policy, diagnostics } = parsePolicyText(text, file, apps);
  assert.deepEqual(diagnostics, []);
  return policy;
}

function userGroups(policy: Policy): Group[] {
  return policy.groups.filter((g) => g.reserved !== true);
}

test('the compact example means app=node-pod may reach app=redis-pod only with Redis', () => {
  const policy = parse(readFileSync(FIXTURE, 'utf8'), FIXTURE);
  const expectedGroups: Group[] = [
    {
      name: 'new-app.redis',
      selectors: [
        {
          criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: ['redis-pod'] } }],
          pos: { file: FIXTURE, line: 7, col: 7, path: 'groups.redis.selectors[0]' },
        },
      ],
      pos: { file: FIXTURE, line: 5, col: 3, path: 'groups.redis' },
    },
    {
      name: 'new-app.nodejsapp',
      selectors: [
        {
          criteria: [{ kind: 'label', req: { key: 'app', op: 'eq', values: ['node-pod'] } }],
          pos: { file: FIXTURE, line: 10, col: 7, path: 'groups.nodejsapp.selectors[0]' },
        },
      ],
      pos: { file: FIXTURE, line: 8, col: 3, path: 'groups.nodejsapp' },
    },
  ];
  const expectedRule: Rule = {
    id: 'new-app.nodejsapp.rule01',
    from: ['new-app.nodejsapp'],
    to: ['new-app.redis'],
    ports: [],
    applications: ['redis'],
    action: 'allow',
    priority: 0,
    source: 'user',
    pos: { file: FIXTURE, line: 12, col: 7, path: 'groups.nodejsapp.rules.rule01' },
  };
  assert.deepEqual(userGroups(policy), expectedGroups);
  assert.deepEqual(policy.rules, [expectedRule]);
  assert.equal(policy.defaultMode, 'discover');
});

test('compact ids stay the same when the rest of the document changes', () => {
  const edited = readFileSync(FIXTURE, 'utf8')
    .replace('- app=node-pod', '- app=node-pod\n    - app=node-canary')
    .replace('action: allow', 'action: allow\n        ports: [tcp/6379]\n        priority: 3');
  assert.deepEqual(parse(edited).rules.map((r) => r.id), ['new-app.nodejsapp.rule01']);
});

test('without a prefix groups and rule ids keep their own names', () => {
  const policy = parse(`apiVersion: v1
groups:
  api:
    selectors: [app=api]
    rules:
      out:
        toTarget: external
        ports: [tcp/443]
        action: allow
`);
  assert.deepEqual(userGroups(policy).map((g) => g.name), ['api']);
  assert.deepEqual(policy.rules.map((r) => [r.id, r.from, r.to]), [['api.out', ['api'], ['external']]]);
});

test('fromTarget writes an ingress rule under the destination group', () => {
  const policy = parse(`apiVersion: v1
prefix: shop
groups:
  web:
    selectors: [app=web]
  db:
    mode: protect
    comment: orders
    selectors: [app=db]
    rules:
      from-web:
        fromTarget: web
        ports: [tcp/5432]
        priority: 10
        comment: the shop reads orders
        action: allow
`);
  assert.deepEqual(userGroups(policy).map((g) => [g.name, g.mode, g.comment]), [
    ['shop.web', undefined, undefined],
    ['shop.db', 'protect', 'orders'],
  ]);
  const [rule] = policy.rules;
  assert.deepEqual(
    rule && [rule.id, rule.from, rule.to, rule.ports, rule.priority, rule.comment],
    ['shop.db.from-web', ['shop.web'], ['shop.db'], [{ proto: 'tcp', first: 5432, last: 5432 }], 10, 'the shop reads orders'],
  );
});

test('a compact target that is not a group of the document names a group defined elsewhere', () => {
  const policy = parse(`apiVersion: palisade.dev/v1
kind: Group
metadata: {name: shared.dns}
spec: {selectors: [k8s-app=kube-dns]}
---
apiVersion: v1
prefix: app
groups:
  web:
    selectors: [app=web]
    rules:
      dns:
        toTarget: shared.dns
        ports: [udp/53]
        action: allow
`);
  assert.deepEqual(policy.rules.map((r) => r.to), [['shared.dns']]);
});

test('a compact target misspelling a group of the document is suggested by its short name', () => {
  const { diagnostics } = parsePolicyText(readFileSync(FIXTURE, 'utf8').replace('toTarget: redis', 'toTarget: rediss'), 'c.yaml', apps);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.line, d.col, d.path, d.message, d.hint]),
    [['unknown-group', 15, 19, 'groups.nodejsapp.rules.rule01.toTarget', 'unknown group "rediss"', 'did you mean "redis"?']],
  );
});

test('a compact rule needs exactly one of toTarget and fromTarget', () => {
  const { policy, diagnostics } = parsePolicyText(
    `apiVersion: v1
groups:
  a:
    selectors: [app=a]
    rules:
      none:
        action: allow
      both:
        toTarget: a
        fromTarget: a
        action: allow
`,
    'c.yaml',
    apps,
  );
  assert.deepEqual(diagnostics.map((d) => [d.code, d.line, d.col]), [
    ['bad-target', 6, 7],
    ['bad-target', 8, 7],
  ]);
  assert.deepEqual(policy.rules, []);
});

test('a file may mix the compact format and Palisade documents', () => {
  const policy = parse(`${readFileSync(FIXTURE, 'utf8')}---
apiVersion: palisade.dev/v1
kind: Rule
metadata: {name: redis-admin}
spec: {from: nodes, to: new-app.redis, ports: [tcp/6379], action: allow}
`);
  assert.deepEqual(policy.rules.map((r) => r.id), ['new-app.nodejsapp.rule01', 'redis-admin']);
});

test('rules under a compact group with a reserved name are refused with it', () => {
  const { policy, diagnostics } = parsePolicyText(
    'apiVersion: v1\ngroups:\n  any:\n    selectors: [app=a]\n    rules:\n      out:\n        toTarget: external\n        action: allow\n',
    'c.yaml',
    apps,
  );
  assert.deepEqual(diagnostics.map((d) => d.code), ['reserved-group']);
  assert.deepEqual(policy.rules, []);
});
