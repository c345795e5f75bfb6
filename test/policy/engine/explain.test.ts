import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../../src/policy/compile.js';
import { describePorts } from '../../../src/policy/explain.js';
import { app, conn, group, inventory, policy, rule, tcp, workload } from './fixtures.js';

const shop = inventory([workload('api', '10.0.0.1'), workload('db', '10.0.0.2')]);
const groups = [group('api', [app('api')]), group('db', [app('db')], 'protect')];

test('explain names each endpoint, the groups it is in and the group that set its mode', () => {
  const e = compile(policy(groups, [], 'monitor'), shop).explain(conn('10.0.0.1', '10.0.0.2', 5432));
  assert.deepEqual(e.client, { ip: '10.0.0.1', kind: 'workload', workload: 'shop/api', groups: ['any', 'workloads', 'api'], mode: 'monitor', modeFrom: 'default' });
  assert.deepEqual(e.server, { ip: '10.0.0.2', kind: 'workload', workload: 'shop/db', groups: ['any', 'workloads', 'db'], mode: 'protect', modeFrom: 'db' });
});

test('explain describes an external endpoint by its address and groups only', () => {
  const e = compile(policy(groups, []), shop).explain(conn('203.0.113.9', '10.0.0.2', 443));
  assert.deepEqual(e.client, { ip: '203.0.113.9', kind: 'external', groups: ['any', 'external'] });
});

test('explain carries the rule that matched and lists no near misses', () => {
  const e = compile(policy(groups, [rule('db-allow', 'api', 'db', { ports: [tcp(5432)] })]), shop).explain(conn('10.0.0.1', '10.0.0.2', 5432));
  assert.deepEqual({ rule: e.rule?.id, nearMisses: e.nearMisses }, { rule: 'db-allow', nearMisses: [] });
});

test('a rule whose groups match but whose ports do not is a near miss, with the ports it has', () => {
  const e = compile(policy(groups, [rule('db-allow', 'api', 'db', { ports: [tcp(5432)] })]), shop).explain(conn('10.0.0.1', '10.0.0.2', 3306));
  assert.deepEqual(e.nearMisses, [{ ruleId: 'db-allow', priority: 0, action: 'allow', why: 'its ports (tcp/5432) do not include tcp/3306' }]);
});

test('a rule whose groups match but whose applications do not is a near miss, naming the session application', () => {
  const p = policy(groups, [rule('pg', 'api', 'db', { applications: ['postgresql'] })]);
  const e = compile(p, shop).explain(conn('10.0.0.1', '10.0.0.2', 5432, { app: 'mysql' }));
  assert.equal(e.nearMisses[0]?.why, 'it names applications postgresql and the session is mysql');
});

test('a rule whose groups do not match both endpoints is no near miss', () => {
  const e = compile(policy(groups, [rule('db-to-api', 'db', 'api')]), shop).explain(conn('10.0.0.1', '10.0.0.2', 5432));
  assert.deepEqual(e.nearMisses, []);
});

test('ports read as written: any, exact, ranges, whole protocols and ICMP types', () => {
  assert.equal(describePorts([]), 'any');
  assert.equal(
    describePorts([tcp(80), tcp(8000, 8080), { proto: 'udp' }, { proto: 'icmp', first: 8, last: 8 }, { proto: 'icmpv6' }]),
    'tcp/80, tcp/8000-8080, udp/any, icmp type 8, icmpv6',
  );
});
