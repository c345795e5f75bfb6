import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applicationCatalog } from '../../../src/policy/document/applications.js';
import { checkAssertions, parseAssertions } from '../../../src/policy/analyze/assertions.js';
import { loadShop, SHOP_APPLICATIONS } from './shop.js';

const APPS = applicationCatalog(SHOP_APPLICATIONS);

test('every assertion of the shop example holds for the shop policy', async () => {
  const { reach, inventory } = await loadShop();
  const file = 'examples/shop/assertions.yaml';
  const { assertions, diagnostics } = parseAssertions(readFileSync(file, 'utf8'), file, reach.compiled.groups, APPS);
  assert.deepEqual(diagnostics, []);
  const failing = checkAssertions(reach, inventory, assertions).filter((r) => !r.holds);
  assert.deepEqual(failing.map((r) => r.message), []);
});

test('only-into fails with the source outside the allowed set as counterexample', async () => {
  const { reach, inventory } = await loadShop();
  const text = 'assertions:\n  - only: { into: { service: redis }, from: { service: orders } }\n';
  const { assertions } = parseAssertions(text, 'a.yaml', reach.compiled.groups, APPS);
  const [result] = checkAssertions(reach, inventory, assertions);
  assert.equal(result?.holds, false);
  assert.equal(result?.counterexample?.from, 'shop/api');
  assert.equal(result?.counterexample?.rule, 'api-to-redis');
  assert.match(result?.counterexample?.ruleAt ?? '', /^examples\/shop\/policy\/10-data\.yaml:\d+$/);
});

test('deny holds where a higher-priority deny in protect carves out everything', async () => {
  const { reach, inventory } = await loadShop();
  const text = 'assertions:\n  - deny: { from: { service: web }, to: { group: cde } }\n';
  const { assertions } = parseAssertions(text, 'a.yaml', reach.compiled.groups, APPS);
  assert.equal(checkAssertions(reach, inventory, assertions)[0]?.holds, true);
});

test('allow with ports fails when one of the ports is blocked', async () => {
  const { reach, inventory } = await loadShop();
  const text = 'assertions:\n  - allow: { from: { service: orders }, to: { service: payments }, ports: [tcp/8443, tcp/9000] }\n';
  const { assertions } = parseAssertions(text, 'a.yaml', reach.compiled.groups, APPS);
  const [result] = checkAssertions(reach, inventory, assertions);
  assert.equal(result?.holds, false);
  assert.equal(result?.counterexample?.port, 'tcp/9000');
  assert.equal(result?.counterexample?.app, undefined);
});

test('positions of assertions are their lines in the file', () => {
  const text = 'assertions:\n  - deny: { from: external, to: any }\n\n  - allow: { from: any, to: any }\n';
  const { assertions } = parseAssertions(text, 'a.yaml', ['any'], APPS);
  assert.deepEqual(assertions.map((a) => a.pos.line), [2, 4]);
});

test('a file without an assertions list is reported at line 1', () => {
  const { diagnostics } = parseAssertions('rules: []\n', 'a.yaml', [], APPS);
  assert.equal(diagnostics[0]?.line, 1);
  assert.match(diagnostics[0]?.message ?? '', /list under "assertions"/);
});
