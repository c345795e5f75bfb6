import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Policy } from '../../../src/model/policy.js';
import { compile } from '../../../src/policy/compile.js';
import { diffReach } from '../../../src/policy/analyze/diff.js';
import { analyzeReach } from '../../../src/policy/analyze/reach.js';
import { loadShop } from './shop.js';

async function shopWith(change: (p: Policy) => Policy) {
  const { policy, inventory, reach } = await loadShop();
  const changed = change(structuredClone(policy));
  return { before: reach, after: analyzeReach(changed, inventory, compile(changed, inventory)) };
}

test('a widened port range shows as a changed pair with the new ports added', async () => {
  const { before, after } = await shopWith((p) => ({ ...p, rules: p.rules.map((r) => (r.id === 'api-to-redis' ? { ...r, ports: [{ proto: 'tcp', first: 6379, last: 6380 }] } : r)) }));
  const entries = diffReach(before, after, 'service');
  assert.deepEqual(entries.map((e) => `${e.change} ${e.from} → ${e.to}`), ['changed shop/api → data/redis']);
  assert.deepEqual(entries[0]?.lines.map((l) => `${l.ports} ${l.new?.rule}`), ['tcp/6380 api-to-redis']);
});

test('a removed rule shows its pair as removed, naming the rule', async () => {
  const { before, after } = await shopWith((p) => ({ ...p, rules: p.rules.filter((r) => r.id !== 'orders-to-postgres') }));
  const entries = diffReach(before, after, 'service');
  const pg = entries.find((e) => e.to === 'data/postgres');
  assert.equal(pg?.change, 'removed');
  assert.equal(pg?.lines[0]?.old?.rule, 'orders-to-postgres');
});

test('the same ports allowed by another rule show as changed with both rules', async () => {
  const { before, after } = await shopWith((p) => ({ ...p, rules: p.rules.map((r) => (r.id === 'web-to-api' ? { ...r, id: 'web-to-api-v2' } : r)) }));
  const line = diffReach(before, after, 'service').find((e) => e.from === 'shop/web' && e.to === 'shop/api')?.lines.find((l) => l.old && l.new);
  assert.equal(line?.old?.rule, 'web-to-api');
  assert.equal(line?.new?.rule, 'web-to-api-v2');
});
