import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadPolicy } from '../../../src/policy/document/load.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { lintPolicy } from '../../../src/policy/lint/lint.js';
import type { Diagnostic } from '../../../src/policy/diagnostics.js';

const APPS = ['HTTP', 'TLS', 'DNS', 'PostgreSQL', 'Redis', 'AMQP'];
const root = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
const example = root('../../../examples/shop');
const defects = root('../../fixtures/shop-defects');

async function lintDir(dir: string, withInventory: boolean): Promise<Diagnostic[]> {
  const { policy, diagnostics } = await loadPolicy([join(dir, 'policy')], { knownApplications: APPS });
  assert.deepEqual(diagnostics, [], 'the documents load cleanly');
  if (!withInventory) return lintPolicy(policy);
  const inv = await loadInventory(join(dir, 'inventory.yaml'));
  assert.deepEqual(inv.diagnostics, []);
  return lintPolicy(policy, inv.inventory, { workloadPos: (id) => inv.positions.get(id) });
}

function only(found: Diagnostic[], code: string): Diagnostic {
  const hits = found.filter((d) => d.code === code);
  assert.equal(hits.length, 1, `${code} reported ${hits.length} times`);
  return hits[0] as Diagnostic;
}

const where = (d: Diagnostic): string => `${d.file.slice(d.file.indexOf('shop-defects'))}:${d.line}:${d.col}`;

test('the shop example has no lint findings with its inventory', async () => {
  assert.deepEqual(await lintDir(example, true), []);
});

test('the shop example has no lint findings without an inventory', async () => {
  assert.deepEqual(await lintDir(example, false), []);
});

test('the seeded copy reports seven findings, one per seeded defect', async () => {
  assert.deepEqual(
    (await lintDir(defects, true)).map((d) => d.code).sort(),
    ['conflicting-rules', 'mode-conflict', 'over-broad-rule', 'redundant-rule', 'selector-matches-nothing', 'shadowed-rule', 'uncovered-workload'],
  );
});

test('a selector that matches nothing is reported at the selector', async () => {
  const d = only(await lintDir(defects, true), 'selector-matches-nothing');
  assert.equal(where(d), 'shop-defects/policy/90-defects.yaml:11:19');
  assert.equal(d.severity, 'warning');
  assert.match(d.message, /group "reporting" matches no workload or node/);
});

test('a shadowed rule is reported at the rule and names the rule that takes its connections', async () => {
  const d = only(await lintDir(defects, true), 'shadowed-rule');
  assert.equal(where(d), 'shop-defects/policy/90-defects.yaml:18:7');
  assert.equal(d.severity, 'error');
  assert.match(d.message, /"payments-to-redis" never decides: rule "deny-out-of-cde"/);
});

test('an allow overlapping a deny of the same priority is reported at the allow, naming the deny', async () => {
  const d = only(await lintDir(defects, true), 'conflicting-rules');
  assert.equal(where(d), 'shop-defects/policy/90-defects.yaml:25:7');
  assert.match(d.message, /"api-to-databases" \(allow\) and rule "deny-api-to-postgres" \(deny\)/);
});

test('a copy of a rule is redundant, reported at the copy', async () => {
  const d = only(await lintDir(defects, true), 'redundant-rule');
  assert.equal(where(d), 'shop-defects/policy/90-defects.yaml:37:7');
  assert.match(d.message, /"web-to-api-copy" changes nothing: rule "web-to-api" already allows/);
});

test('an allow from any to any is over-broad', async () => {
  const d = only(await lintDir(defects, true), 'over-broad-rule');
  assert.equal(where(d), 'shop-defects/policy/90-defects.yaml:44:7');
});

test('groups with different modes that share workloads are reported at the later group, naming the workloads', async () => {
  const d = only(await lintDir(defects, true), 'mode-conflict');
  assert.equal(where(d), 'shop-defects/policy/90-defects.yaml:13:7');
  assert.match(d.message, /"backend" \(protect\) and "storefront" \(monitor\) both hold shop\/api, shop\/orders/);
});

test('a workload no group selects is reported at its entry in the inventory', async () => {
  const d = only(await lintDir(defects, true), 'uncovered-workload');
  assert.equal(where(d), 'shop-defects/inventory.yaml:139:5');
  assert.match(d.message, /"batch\/legacy-cron" is in no group/);
});

test('without an inventory only the findings that names alone prove remain', async () => {
  assert.deepEqual((await lintDir(defects, false)).map((d) => d.code), ['redundant-rule', 'over-broad-rule']);
});

test('with kubectl JSON as the inventory, a pod no group selects is reported at its item', async () => {
  const { policy } = await loadPolicy([join(example, 'policy')], { knownApplications: APPS });
  const inv = await loadInventory(root('../../inventory/fixtures/kubectl-shop.json'));
  const found = lintPolicy(policy, inv.inventory, { workloadPos: (id) => inv.positions.get(id) }).filter((d) => d.code === 'uncovered-workload');
  assert.deepEqual(
    found.map((d) => [d.path, d.line, d.message.split(':')[0]]),
    [['items[4]', 148, 'workload "kube-system/kube-proxy-7xw2b" is in no group']],
  );
});
