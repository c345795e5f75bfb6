import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../../src/policy/compile.js';
import { VerdictCache } from '../../../src/policy/decide.js';
import type { Verdict } from '../../../src/model/verdict.js';
import { app, conn, group, inventory, policy, rule, tcp, workload } from './fixtures.js';

const perimeter = Object.freeze({ workload: 'shop/api', side: 'egress' as const, mode: 'protect' as const, allowed: false, violation: true, learn: false });
const blocked: Verdict = { allowed: false, enforced: true, ruleId: 'default', mode: 'protect', reason: 'no rule matches api → db on tcp/5432', violation: true, perimeters: [perimeter] };

/** A verdict is kept on the second miss of its key. */
function remember(cache: VerdictCache, [a, b, c, d]: [number, number, number, number]): void {
  cache.missed(a, b, c, d, blocked);
  cache.missed(a, b, c, d, blocked);
}

test('a verdict is kept only once its key misses a second time', () => {
  const cache = new VerdictCache(8);
  cache.missed(1, 2, 3, 4, blocked);
  assert.equal(cache.get(1, 2, 3, 4), undefined);
  cache.missed(1, 2, 3, 4, blocked);
  assert.deepEqual(cache.get(1, 2, 3, 4), blocked);
});

test('a verdict cache never holds more entries than its size, however many keys it is given', () => {
  const cache = new VerdictCache(16);
  for (let k = 0; k < 10_000; k++) remember(cache, [k, k + 1, 80, 0]);
  let held = 0;
  for (let k = 0; k < 10_000; k++) if (cache.get(k, k + 1, 80, 0) !== undefined) held++;
  assert.equal(cache.size, 16);
  assert.ok(held <= 16 && held > 0, `${held} entries held`);
});

test('a verdict cache size is rounded up to a power of two', () => {
  assert.equal(new VerdictCache(3000).size, 4096);
});

test('a key that differs in any part misses', () => {
  const cache = new VerdictCache(1);
  remember(cache, [1, 2, 3, 4]);
  assert.deepEqual(cache.get(1, 2, 3, 4), blocked);
  const others: [number, number, number, number][] = [[9, 2, 3, 4], [1, 9, 3, 4], [1, 2, 9, 4], [1, 2, 3, 9]];
  for (const [a, b, c, d] of others) assert.equal(cache.get(a, b, c, d), undefined);
});

test('every hit is a verdict of its own: changing one leaves the next hit as remembered', () => {
  const cache = new VerdictCache(8);
  remember(cache, [1, 2, 3, 4]);
  const first = cache.get(1, 2, 3, 4) as Verdict;
  first.reason = 'changed';
  first.perimeters.pop();
  assert.deepEqual(cache.get(1, 2, 3, 4), blocked);
});

test('repeated decisions answer the same with and without the verdict cache, per application state', () => {
  const shop = inventory([workload('api', '10.0.0.1'), workload('db', '10.0.0.2')]);
  const p = policy(
    [group('api', [app('api')], 'monitor'), group('db', [app('db')], 'protect')],
    [rule('pg', 'api', 'db', { ports: [tcp(5432)], applications: ['postgresql'] }), rule('web', 'api', 'db', { ports: [tcp(80)], action: 'deny' })],
  );
  const cached = compile(p, shop);
  const uncached = compile(p, shop, { verdictCache: 0 });
  const conns = [
    conn('10.0.0.1', '10.0.0.2', 5432),
    conn('10.0.0.1', '10.0.0.2', 5432, { app: 'PostgreSQL' }),
    conn('10.0.0.1', '10.0.0.2', 5432, { appPending: true }),
    conn('10.0.0.1', '10.0.0.2', 5432, { app: 'mysql', appPending: true }),
    conn('10.0.0.1', '10.0.0.2', 80),
    conn('10.0.0.2', '10.0.0.1', 80),
    conn('10.0.0.1', '10.0.0.2', 80, { ipProto: 'udp' }),
  ];
  for (let round = 0; round < 3; round++) for (const c of conns) assert.deepEqual(cached.decide(c), uncached.decide(c));
});
