import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSelector, parseSelector, type LabelSelector } from '../../../src/export/kubernetes/selector.js';

function selector(raw: unknown): LabelSelector {
  const { selector, errors } = parseSelector(raw);
  assert.deepEqual(errors, []);
  return selector;
}

const expr = (key: string, operator: string, values?: string[]): unknown => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });

test('an empty selector selects every label set', () => {
  assert.ok(matchesSelector(selector({}), {}));
  assert.ok(matchesSelector(selector(undefined), { app: 'x' }));
});

test('matchLabels needs every listed key with exactly that value', () => {
  const s = selector({ matchLabels: { app: 'web', tier: 'front' } });
  assert.ok(matchesSelector(s, { app: 'web', tier: 'front', other: 'x' }));
  assert.ok(!matchesSelector(s, { app: 'web' }));
  assert.ok(!matchesSelector(s, { app: 'web', tier: 'back' }));
});

test('In matches a label whose value is one of the values', () => {
  const s = selector(expr('app', 'In', ['a', 'b']));
  assert.ok(matchesSelector(s, { app: 'b' }));
  assert.ok(!matchesSelector(s, { app: 'c' }));
  assert.ok(!matchesSelector(s, {}));
});

test('NotIn matches a missing label or a value outside the values', () => {
  const s = selector(expr('app', 'NotIn', ['a']));
  assert.ok(matchesSelector(s, {}));
  assert.ok(matchesSelector(s, { app: 'b' }));
  assert.ok(!matchesSelector(s, { app: 'a' }));
});

test('Exists matches any value of the key, DoesNotExist only its absence', () => {
  assert.ok(matchesSelector(selector(expr('app', 'Exists')), { app: '' }));
  assert.ok(!matchesSelector(selector(expr('app', 'Exists')), { other: 'x' }));
  assert.ok(matchesSelector(selector(expr('app', 'DoesNotExist')), { other: 'x' }));
  assert.ok(!matchesSelector(selector(expr('app', 'DoesNotExist')), { app: 'x' }));
});

test('matchLabels and matchExpressions must all hold', () => {
  const s = selector({ matchLabels: { tier: 'db' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] });
  assert.ok(matchesSelector(s, { tier: 'db', env: 'dev' }));
  assert.ok(!matchesSelector(s, { tier: 'db', env: 'prod' }));
});

test('an invalid label key is a selector error naming the key', () => {
  const { errors } = parseSelector({ matchLabels: { 'app@b': 'x' } });
  assert.equal(errors.length, 1);
  assert.match(errors[0]?.message ?? '', /^selector error: key: Invalid value: "app@b"/);
});

test('an invalid label value is a selector error naming the value', () => {
  const { errors } = parseSelector({ matchLabels: { app: '$backend' } });
  assert.equal(errors[0]?.field, 'matchLabels.app');
  assert.match(errors[0]?.message ?? '', /selector error: values: Invalid value: "\$backend"/);
});

test('In without values and Exists with values are refused', () => {
  assert.equal(parseSelector(expr('app', 'In', [])).errors[0]?.field, 'matchExpressions[0].values');
  assert.equal(parseSelector(expr('app', 'Exists', ['a'])).errors[0]?.field, 'matchExpressions[0].values');
});

test('an unknown operator is refused naming the field', () => {
  assert.equal(parseSelector(expr('app', 'Equals', ['a'])).errors[0]?.field, 'matchExpressions[0].operator');
});

test('a prefixed key with a DNS subdomain prefix is valid', () => {
  assert.deepEqual(parseSelector({ matchLabels: { 'foo.com/managed-state': 'managed' } }).errors, []);
});
