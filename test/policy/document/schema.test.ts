import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { newAjv, policySchema } from '../../../src/policy/document/schema.js';

function validator(): ReturnType<ReturnType<typeof newAjv>['compile']> {
  return newAjv().compile(policySchema());
}

function documentsOf(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((d) => (Array.isArray(d) ? [] : [d.toJS()]));
}

test('the published schema compiles in ajv in strict mode', () => {
  assert.equal(typeof validator(), 'function');
});

test('the published schema accepts the documents of every kind and the compact format', () => {
  const validate = validator();
  const docs = [
    'test/fixtures/policy/shop/00-policy.yaml',
    'test/fixtures/policy/shop/groups/cache.yml',
    'test/fixtures/policy/shop/rules/web-cache.json',
    'test/fixtures/policy/compact-redis.yaml',
  ].flatMap(documentsOf);
  assert.equal(docs.length, 4);
  for (const doc of docs) assert.equal(validate(doc), true, JSON.stringify(validate.errors));
});

test('the published schema rejects a rule without action and with an unknown field', () => {
  const validate = validator();
  const ok = validate({
    apiVersion: 'palisade.dev/v1',
    kind: 'Rule',
    metadata: { name: 'r' },
    spec: { from: 'web', to: 'db', port: ['tcp/80'] },
  });
  assert.equal(ok, false);
  const found = (validate.errors ?? []).map((e) => [e.instancePath, e.keyword]);
  assert.ok(found.some(([path, keyword]) => path === '/spec' && keyword === 'required'), JSON.stringify(found));
  assert.ok(found.some(([path, keyword]) => path === '/spec' && keyword === 'additionalProperties'), JSON.stringify(found));
});

test('the published schema rejects a Palisade document without kind', () => {
  assert.equal(validator()({ apiVersion: 'palisade.dev/v1', metadata: { name: 'x' } }), false);
});
