import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Group, Mode, Policy, Rule } from '../../../src/model/policy.js';
import { compile } from '../../../src/policy/compile.js';
import { app, conn, group, inventory, policy, resolver, rule, tcp, workload } from './fixtures.js';

// api (10.0.0.1) and db (10.0.0.2), each in a group of its own with the modes a test chooses.
const shop = inventory([workload('api', '10.0.0.1'), workload('db', '10.0.0.2')]);
const API_TO_DB = conn('10.0.0.1', '10.0.0.2', 5432);

function twoGroups(rules: Rule[], apiMode?: Mode, dbMode?: Mode, defaultMode: Mode = 'protect'): Policy {
  return policy([group('api', [app('api')], apiMode), group('db', [app('db')], dbMode)], rules, defaultMode);
}

const decide = (p: Policy, c = API_TO_DB) => compile(p, shop).decide(c);

// Order

test('a higher-priority rule decides before a lower-priority one', () => {
  const p = twoGroups([rule('low', 'api', 'db', { priority: 1 }), rule('high', 'api', 'db', { priority: 2, action: 'deny' })]);
  assert.equal(decide(p).ruleId, 'high');
});

test('at equal priority a deny rule decides before an allow rule', () => {
  const p = twoGroups([rule('a', 'api', 'db'), rule('b', 'api', 'db', { action: 'deny' })]);
  assert.equal(decide(p).ruleId, 'b');
});

test('at equal priority and action the rule with the smaller id decides', () => {
  const p = twoGroups([rule('r2', 'api', 'db'), rule('r1', 'api', 'db')]);
  assert.equal(decide(p).ruleId, 'r1');
});

test('a disabled rule never matches', () => {
  const p = twoGroups([rule('off', 'api', 'db', { disabled: true })]);
  assert.equal(decide(p).ruleId, 'default');
});

test('a rule naming a group the policy does not define never matches', () => {
  const p = twoGroups([rule('typo', 'api', 'dbb')]);
  assert.equal(decide(p).ruleId, 'default');
});

// Ports

test('a rule for another protocol does not match', () => {
  const p = twoGroups([rule('udp', 'api', 'db', { ports: [{ proto: 'udp', first: 5432, last: 5432 }] })]);
  assert.equal(decide(p).ruleId, 'default');
});

test('a port range admits its first and its last port', () => {
  const p = twoGroups([rule('range', 'api', 'db', { ports: [tcp(8000, 8080)] })]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 8000)).ruleId, 'range');
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 8080)).ruleId, 'range');
});

test('a port range does not admit the port just past its end', () => {
  const p = twoGroups([rule('range', 'api', 'db', { ports: [tcp(8000, 8080)] })]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 8081)).ruleId, 'default');
});

test('a rule without ports admits any protocol and port', () => {
  const p = twoGroups([rule('all', 'api', 'db')]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 53, { ipProto: 'udp' })).ruleId, 'all');
});

test('tcp/any admits every TCP port', () => {
  const p = twoGroups([rule('tcp', 'api', 'db', { ports: [{ proto: 'tcp' }] })]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 65535)).ruleId, 'tcp');
});

test('tcp/any does not admit UDP', () => {
  const p = twoGroups([rule('tcp', 'api', 'db', { ports: [{ proto: 'tcp' }] })]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 53, { ipProto: 'udp' })).ruleId, 'default');
});

test('an icmp rule ranges over the ICMP type', () => {
  const p = twoGroups([rule('ping', 'api', 'db', { ports: [{ proto: 'icmp', first: 8, last: 8 }] })]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 8, { ipProto: 'icmp' })).ruleId, 'ping');
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 0, { ipProto: 'icmp' })).ruleId, 'default');
});

// Applications

test('a rule naming applications matches once DPI identified one of them', () => {
  const p = twoGroups([rule('pg', 'api', 'db', { applications: ['postgresql'] })]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 5432, { app: 'postgresql' })).ruleId, 'pg');
});

test('a rule naming applications leaves the session pending while DPI is still identifying it', () => {
  const p = twoGroups([rule('pg', 'api', 'db', { applications: ['postgresql'] })], 'protect', 'protect');
  const v = decide(p, conn('10.0.0.1', '10.0.0.2', 5432, { appPending: true }));
  assert.deepEqual(
    { pending: v.pending, allowed: v.allowed, enforced: v.enforced, ruleId: v.ruleId, violation: v.violation, reason: v.reason },
    {
      pending: true,
      allowed: true,
      enforced: false,
      ruleId: 'pg',
      violation: false,
      reason: 'waiting for application identification (rule pg names postgresql)',
    },
  );
});

test('a session whose application is final and not named falls through to later rules', () => {
  const p = twoGroups([rule('pg', 'api', 'db', { applications: ['postgresql'], priority: 5 }), rule('deny', 'api', 'db', { action: 'deny' })]);
  assert.equal(decide(p, conn('10.0.0.1', '10.0.0.2', 5432, { app: 'mysql' })).ruleId, 'deny');
});

test('a session without an identified application does not match a rule naming applications', () => {
  const p = twoGroups([rule('pg', 'api', 'db', { applications: ['postgresql'] })]);
  assert.equal(decide(p).ruleId, 'default');
});

test('a pending session is decided by an earlier rule that names no application', () => {
  const p = twoGroups([rule('first', 'api', 'db', { priority: 9 }), rule('pg', 'api', 'db', { applications: ['postgresql'] })]);
  const v = decide(p, conn('10.0.0.1', '10.0.0.2', 5432, { appPending: true }));
  assert.equal(v.ruleId, 'first');
  assert.equal(v.pending, undefined);
});

// Perimeters and modes

function outcome(rules: Rule[], dbMode: Mode) {
  const v = decide(twoGroups(rules, 'discover', dbMode));
  const db = v.perimeters.find((p) => p.side === 'ingress');
  return { allowed: db?.allowed, violation: db?.violation, learn: db?.learn };
}

test('an allow rule lets the connection through on a protect side without a violation', () => {
  assert.deepEqual(outcome([rule('ok', 'api', 'db')], 'protect'), { allowed: true, violation: false, learn: false });
});

test('a deny rule in discover allows and reports a violation', () => {
  assert.deepEqual(outcome([rule('no', 'api', 'db', { action: 'deny' })], 'discover'), { allowed: true, violation: true, learn: false });
});

test('a deny rule in monitor allows and reports a violation', () => {
  assert.deepEqual(outcome([rule('no', 'api', 'db', { action: 'deny' })], 'monitor'), { allowed: true, violation: true, learn: false });
});

test('a deny rule in protect blocks and reports a violation', () => {
  assert.deepEqual(outcome([rule('no', 'api', 'db', { action: 'deny' })], 'protect'), { allowed: false, violation: true, learn: false });
});

test('no matching rule in discover allows and records a learned candidate', () => {
  assert.deepEqual(outcome([], 'discover'), { allowed: true, violation: false, learn: true });
});

test('no matching rule in monitor allows and reports a violation', () => {
  assert.deepEqual(outcome([], 'monitor'), { allowed: true, violation: true, learn: false });
});

test('no matching rule in protect blocks and reports a violation', () => {
  assert.deepEqual(outcome([], 'protect'), { allowed: false, violation: true, learn: false });
});

test('one side in protect blocks the connection although the other side is in discover', () => {
  const v = decide(twoGroups([], 'discover', 'protect'));
  assert.deepEqual({ allowed: v.allowed, mode: v.mode, violation: v.violation }, { allowed: false, mode: 'protect', violation: true });
});

test('a connection an allow rule lets through is still enforced when a side is in protect', () => {
  const v = decide(twoGroups([rule('ok', 'api', 'db')], 'discover', 'protect'));
  assert.deepEqual({ allowed: v.allowed, enforced: v.enforced }, { allowed: true, enforced: true });
});

test('a connection with no side in protect is not enforced', () => {
  const v = decide(twoGroups([], 'discover', 'monitor'));
  assert.deepEqual({ enforced: v.enforced, mode: v.mode }, { enforced: false, mode: 'monitor' });
});

test('a workload in several groups with modes takes the strictest one', () => {
  const p = policy(
    [group('db', [app('db')], 'discover'), group('also-db', [{ kind: 'service', name: 'db' }], 'protect')],
    [],
    'discover',
  );
  assert.equal(decide(p).perimeters.find((x) => x.side === 'ingress')?.mode, 'protect');
});

test('a workload in no group with a mode takes the policy default', () => {
  const v = decide(twoGroups([], undefined, undefined, 'monitor'));
  assert.deepEqual(v.perimeters.map((p) => p.mode), ['monitor', 'monitor']);
});

test('a connection crosses the client egress perimeter and the server ingress perimeter, in that order', () => {
  const v = decide(twoGroups([]));
  assert.deepEqual(v.perimeters.map((p) => [p.workload, p.side]), [['shop/api', 'egress'], ['shop/db', 'ingress']]);
});

test('a workload connecting to itself crosses its own egress and ingress perimeters', () => {
  const v = decide(twoGroups([]), conn('10.0.0.1', '10.0.0.1', 80));
  assert.deepEqual(v.perimeters.map((p) => [p.workload, p.side]), [['shop/api', 'egress'], ['shop/api', 'ingress']]);
});

test('an external client has no perimeter: only the server side counts', () => {
  const v = decide(twoGroups([], undefined, 'discover'), conn('203.0.113.9', '10.0.0.2', 443));
  assert.deepEqual({ sides: v.perimeters.map((p) => p.side), allowed: v.allowed }, { sides: ['ingress'], allowed: true });
});

test('a node has no perimeter', () => {
  const inv = inventory([workload('db', '10.0.0.2')], { nodes: [{ name: 'n1', addresses: ['10.1.0.1'] }] });
  const v = compile(twoGroups([], undefined, 'protect'), inv).decide(conn('10.0.0.2', '10.1.0.1', 10250));
  assert.deepEqual(v.perimeters.map((p) => p.side), ['egress']);
});

test('a connection between two endpoints without perimeter is allowed, not enforced, in the default mode', () => {
  const v = decide(twoGroups([], 'protect', 'protect', 'monitor'), conn('203.0.113.9', '198.51.100.7', 80));
  assert.deepEqual(
    { allowed: v.allowed, enforced: v.enforced, mode: v.mode, violation: v.violation, perimeters: v.perimeters },
    { allowed: true, enforced: false, mode: 'monitor', violation: false, perimeters: [] },
  );
  assert.match(v.reason, /neither endpoint has a perimeter/);
});

test('the reason of an allow rule names the rule, its priority, both endpoints and the service', () => {
  const v = decide(twoGroups([rule('db-allow', 'api', 'db', { priority: 10, ports: [tcp(5432)] })]));
  assert.equal(v.reason, 'rule db-allow (priority 10) allows api → db on tcp/5432');
});

test('the reason of a default block names the workload in protect', () => {
  const v = decide(twoGroups([], 'discover', 'protect'));
  assert.equal(
    v.reason,
    'no rule matches api → db on tcp/5432; api is in discover: allowed, recorded for learning; db is in protect: blocked',
  );
});

// Addresses over time

const reused = inventory([
  workload('old', [{ ip: '10.0.0.5', since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z' }]),
  workload('new', [{ ip: '10.0.0.5', since: '2026-01-02T00:00:00Z' }]),
  workload('api', '10.0.0.1'),
]);
const at = (iso: string): number => Date.parse(iso);
const reusedPolicy = policy([group('old', [app('old')]), group('api', [app('api')])], [rule('to-old', 'api', 'old')]);

test('an address belongs to a workload while its lease holds', () => {
  const v = compile(reusedPolicy, reused).decide(conn('10.0.0.1', '10.0.0.5', 80, { at: at('2026-01-01T12:00:00Z') }));
  assert.equal(v.ruleId, 'to-old');
});

test('a lease no longer holds at its until time', () => {
  const v = compile(reusedPolicy, reused).decide(conn('10.0.0.1', '10.0.0.5', 80, { at: at('2026-01-02T00:00:00Z') }));
  assert.deepEqual(v.perimeters.map((p) => p.workload), ['shop/api', 'shop/new']);
});

test('when several leases hold an address, the one that started latest decides the workload', () => {
  const inv = inventory([
    workload('early', [{ ip: '10.0.0.5', since: '2026-01-01T00:00:00Z' }]),
    workload('late', [{ ip: '10.0.0.5', since: '2026-01-03T00:00:00Z' }]),
  ]);
  const v = compile(policy([], []), inv).decide(conn('10.0.0.5', '203.0.113.1', 80, { at: at('2026-01-04T00:00:00Z') }));
  assert.equal(v.perimeters[0]?.workload, 'shop/late');
});

test('a connection without a time is decided at the clock given to compile', () => {
  const compiled = compile(reusedPolicy, reused, { now: () => at('2026-01-01T12:00:00Z') });
  assert.equal(compiled.decide(conn('10.0.0.1', '10.0.0.5', 80, { at: undefined })).ruleId, 'to-old');
});

test('an IPv4-mapped IPv6 address is the workload holding the IPv4 address', () => {
  const v = decide(twoGroups([rule('ok', 'api', 'db')]), conn('::ffff:10.0.0.1', '10.0.0.2', 5432));
  assert.equal(v.ruleId, 'ok');
});

// DNS names

test('an fqdn group holds for a workload once DNS names its address', () => {
  const p = policy([group('named', [{ kind: 'fqdn', pattern: '*.example.com' }]), group('db', [app('db')])], [rule('ok', 'named', 'db')]);
  const dns = resolver({ '10.0.0.1': ['api.example.com'] });
  assert.equal(compile(p, shop).decide(API_TO_DB, dns).ruleId, 'ok');
  assert.equal(compile(p, shop).decide(API_TO_DB).ruleId, 'default');
});

test('each selector of a group checks its own names for the workloads it is about', () => {
  const inv = inventory([workload('api', '10.0.0.1'), workload('web', '10.0.0.3'), workload('db', '10.0.0.2')]);
  const named: Group = {
    name: 'named',
    selectors: [
      { criteria: [app('api'), { kind: 'fqdn', pattern: 'a.example.com' }] },
      { criteria: [app('web'), { kind: 'fqdn', pattern: 'b.example.com' }] },
    ],
  };
  const p = policy([named, group('db', [app('db')])], [rule('ok', 'named', 'db')]);
  const dns = resolver({ '10.0.0.1': ['b.example.com'], '10.0.0.3': ['b.example.com'] });
  const compiled = compile(p, inv);
  assert.equal(compiled.decide(conn('10.0.0.3', '10.0.0.2', 80), dns).ruleId, 'ok');
  assert.equal(compiled.decide(conn('10.0.0.1', '10.0.0.2', 80), dns).ruleId, 'default');
});

test('an address group holds for external addresses in its range', () => {
  const p = policy([group('partners', [{ kind: 'address', spec: '203.0.113.0/24' }]), group('db', [app('db')])], [rule('ok', 'partners', 'db')]);
  assert.equal(decide(p, conn('203.0.113.9', '10.0.0.2', 80)).ruleId, 'ok');
  assert.equal(decide(p, conn('198.51.100.9', '10.0.0.2', 80)).ruleId, 'default');
});
