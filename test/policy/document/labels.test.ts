import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabelExpressions } from '../../../src/policy/document/labels.js';

test('every label operator parses into a requirement', () => {
  assert.deepEqual(parseLabelExpressions('app=web, tier!=db, pci, env in (prod, staging)'), {
    ok: true,
    reqs: [
      { key: 'app', op: 'eq', values: ['web'] },
      { key: 'tier', op: 'neq', values: ['db'] },
      { key: 'pci', op: 'exists', values: [] },
      { key: 'env', op: 'in', values: ['prod', 'staging'] },
    ],
  });
});

test('double equals and prefixed keys are accepted', () => {
  assert.deepEqual(parseLabelExpressions('app.kubernetes.io/name==shop'), {
    ok: true,
    reqs: [{ key: 'app.kubernetes.io/name', op: 'eq', values: ['shop'] }],
  });
});

test('a bad term is reported at its offset and the good ones do not hide it', () => {
  const r = parseLabelExpressions('app=web, tier=d b');
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.problems.map((p) => p.offset), [14]);
});

test('every bad term of one string is reported', () => {
  const r = parseLabelExpressions('!pci, env notin (a), =x');
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.problems.map((p) => p.offset), [0, 6, 21]);
});

test('an unbalanced parenthesis is reported where it opens', () => {
  const r = parseLabelExpressions('app=web, env in (prod, staging');
  assert.deepEqual(!r.ok && r.problems.map((p) => p.offset), [16]);
});

test('an empty value inside a set is refused', () => {
  assert.equal(parseLabelExpressions('env in (prod,,dev)').ok, false);
});
