import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Criterion, Group, LabelRequirement } from '../../../src/model/policy.js';
import {
  classifyEndpoint,
  fqdnMatches,
  globMatches,
  inGroup,
  matchesCriterion,
  matchesLabels,
  matchesSelector,
  selectEnv,
  type Endpoint,
} from '../../../src/policy/select.js';
import { inventory, resolver, workload } from './fixtures.js';

const inv = inventory([workload('api', '10.0.0.1', { labels: { app: 'api', tier: 'web' }, namespace: 'shop' })], {
  namespaces: [{ name: 'shop', labels: { team: 'payments' } }],
  nodes: [{ name: 'n1', addresses: ['10.1.0.1'] }],
});
const env = selectEnv(inv, resolver({ '10.0.0.1': ['api.shop.example.com'], '203.0.113.7': ['Mail.Example.COM.'] }));
const at = 0;
const api = classifyEndpoint(inv, '10.0.0.1', at);
const node = classifyEndpoint(inv, '10.1.0.1', at);
const outside = classifyEndpoint(inv, '203.0.113.7', at);
const holds = (c: Criterion, ep: Endpoint = api): boolean => matchesCriterion(c, ep, env);
const req = (key: string, op: LabelRequirement['op'], ...values: string[]): LabelRequirement => ({ key, op, values });

test('an address is a workload while a lease holds, else a node, else external', () => {
  assert.deepEqual([api.kind, node.kind, outside.kind], ['workload', 'node', 'external']);
});

test('text that is no address is an external endpoint without an address', () => {
  assert.deepEqual(classifyEndpoint(inv, 'not-an-ip', at), { kind: 'external', ip: 'not-an-ip', addr: undefined });
});

test('a label eq requirement needs the key with that value', () => {
  assert.equal(matchesLabels({ app: 'api' }, req('app', 'eq', 'api')), true);
  assert.equal(matchesLabels({}, req('app', 'eq', 'api')), false);
});

test('a label neq requirement also holds when the key is absent', () => {
  assert.equal(matchesLabels({}, req('app', 'neq', 'api')), true);
  assert.equal(matchesLabels({ app: 'api' }, req('app', 'neq', 'api')), false);
});

test('a label exists requirement needs only the key', () => {
  assert.equal(matchesLabels({ app: '' }, req('app', 'exists')), true);
  assert.equal(matchesLabels({}, req('app', 'exists')), false);
});

test('a label in requirement needs the key with one of the values', () => {
  assert.equal(matchesLabels({ tier: 'web' }, req('tier', 'in', 'db', 'web')), true);
  assert.equal(matchesLabels({}, req('tier', 'in', 'db', 'web')), false);
});

test('label keys inherited from Object.prototype are not labels', () => {
  assert.equal(matchesLabels({}, req('constructor', 'exists')), false);
});

test('namespace, service and node criteria compare the workload fields', () => {
  assert.equal(holds({ kind: 'namespace', name: 'shop' }), true);
  assert.equal(holds({ kind: 'service', name: 'api' }), true);
  assert.equal(holds({ kind: 'node', name: 'n2' }), false);
});

test('a namespace label criterion reads the labels of the workload namespace', () => {
  assert.equal(holds({ kind: 'namespaceLabel', req: req('team', 'eq', 'payments') }), true);
});

test('a namespace the inventory does not list has no labels', () => {
  const elsewhere = classifyEndpoint(inventory([workload('x', '10.0.0.9', { namespace: 'other' })]), '10.0.0.9', at);
  assert.equal(matchesCriterion({ kind: 'namespaceLabel', req: req('team', 'neq', 'payments') }, elsewhere, env), true);
  assert.equal(matchesCriterion({ kind: 'namespaceLabel', req: req('team', 'exists') }, elsewhere, env), false);
});

test('an image glob takes * for any run and ? for one character', () => {
  assert.equal(globMatches('registry.local/*:?.0', 'registry.local/api:1.0'), true);
  assert.equal(globMatches('registry.local/*:?.0', 'registry.local/api:10.0'), false);
  assert.equal(globMatches('*', ''), true);
  assert.equal(globMatches('a*b*c', 'aXbYbZc'), true);
});

test('identity criteria never hold for a node or an external endpoint', () => {
  for (const ep of [node, outside]) {
    assert.equal(holds({ kind: 'label', req: req('app', 'neq', 'x') }, ep), false);
    assert.equal(holds({ kind: 'image', glob: '*' }, ep), false);
  }
});

test('an address criterion holds for any kind of endpoint in the range', () => {
  assert.equal(holds({ kind: 'address', spec: '10.0.0.0/24' }, api), true);
  assert.equal(holds({ kind: 'address', spec: '10.1.0.1' }, node), true);
  assert.equal(holds({ kind: 'address', spec: '203.0.113.1-203.0.113.9' }, outside), true);
});

test('an address criterion that does not parse holds for nothing', () => {
  assert.equal(holds({ kind: 'address', spec: '10.0.0.0/99' }), false);
});

test('an fqdn criterion matches the names DNS gave the address, ignoring case and a trailing dot', () => {
  assert.equal(holds({ kind: 'fqdn', pattern: 'mail.example.com' }, outside), true);
  assert.equal(holds({ kind: 'fqdn', pattern: '*.shop.example.com' }, api), true);
});

test('a wildcard fqdn pattern covers names below the suffix, not the suffix itself', () => {
  assert.equal(fqdnMatches('*.example.com', 'a.b.example.com'), true);
  assert.equal(fqdnMatches('*.example.com', 'example.com'), false);
  assert.equal(fqdnMatches('*.example.com', 'badexample.com'), false);
});

test('an fqdn criterion without a resolver holds for nothing', () => {
  assert.equal(matchesCriterion({ kind: 'fqdn', pattern: 'mail.example.com' }, outside, selectEnv(inv)), false);
});

test('all criteria of a selector must hold, and a selector without criteria holds for every endpoint', () => {
  const both = { criteria: [{ kind: 'namespace', name: 'shop' }, { kind: 'service', name: 'db' }] as Criterion[] };
  assert.equal(matchesSelector(both, api, env), false);
  assert.equal(matchesSelector({ criteria: [] }, outside, env), true);
});

test('a group holds when any of its selectors does', () => {
  const g: Group = { name: 'g', selectors: [{ criteria: [{ kind: 'service', name: 'db' }] }, { criteria: [{ kind: 'service', name: 'api' }] }] };
  assert.equal(inGroup(g, api, env), true);
});

test('reserved groups keep their built-in meaning whatever selectors a document gave them', () => {
  const nodes: Group = { name: 'nodes', selectors: [{ criteria: [] }], reserved: true };
  const external: Group = { name: 'external', selectors: [], reserved: true };
  assert.deepEqual([inGroup(nodes, api, env), inGroup(nodes, node, env)], [false, true]);
  assert.deepEqual([inGroup(external, outside, env), inGroup(external, api, env)], [true, false]);
  assert.equal(inGroup({ name: 'any', selectors: [] }, outside, env), true);
  assert.equal(inGroup({ name: 'workloads', selectors: [] }, node, env), false);
});
