import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Policy } from '../../src/model/policy.js';
import type { Inventory } from '../../src/model/workload.js';
import { compile } from '../../src/policy/compile.js';
import { compileRuleset, type Ruleset, type RulesetOptions } from '../../src/enforce/nft/ruleset.js';
import { app, group, inventory, policy, rule, tcp, workload } from '../policy/engine/fixtures.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');

function ruleset(p: Policy, inv: Inventory, opts: Partial<RulesetOptions> = {}): Ruleset {
  return compileRuleset(p, inv, compile(p, inv, { now: () => NOW }), { now: NOW, logGroup: 0, logPerSecond: 20, ...opts });
}

/** The lines of one chain, trimmed, without its hook line. */
function chainLines(r: Ruleset, name: string): string[] {
  const start = r.text.indexOf(`  chain ${name} {\n`);
  assert.ok(start >= 0, `no chain ${name} in\n${r.text}`);
  const end = r.text.indexOf('\n  }', start);
  return r.text
    .slice(start, end)
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => !l.startsWith('type filter'));
}

/** The elements of a set as written, or [] for a set without elements. */
function elements(r: Ruleset, set: string): string[] {
  const m = new RegExp(`set ${set} \\{[^\\n]*?elements = \\{ ([^}]*) \\}`).exec(r.text);
  if (m === null) {
    assert.match(r.text, new RegExp(`set ${set} \\{`), `no set ${set}`);
    return [];
  }
  return (m[1] as string).split(', ');
}

/** The set a rule line matches on one side, e.g. g0 for `ip saddr @g0_v4`. */
function setOn(line: string, side: 'saddr' | 'daddr'): string {
  const m = new RegExp(`ip6? ${side} @(g\\d+)_v[46]`).exec(line);
  assert.ok(m, `no ${side} set in ${line}`);
  return m[1] as string;
}

const shop = inventory([workload('web', '10.0.0.1'), workload('api', '10.0.0.2'), workload('db', '10.0.0.3')]);
const groups = (modes: { web?: 'discover' | 'monitor' | 'protect'; api?: 'discover' | 'monitor' | 'protect'; db?: 'discover' | 'monitor' | 'protect' } = {}) => [
  group('web', [app('web')], modes.web),
  group('api', [app('api')], modes.api),
  group('db', [app('db')], modes.db),
];

test('the script replaces only the palisade table, in one transaction', () => {
  const r = ruleset(policy(groups(), [rule('a', 'web', 'api')]), shop);
  const head = r.text.split('\n').slice(0, 3);
  assert.deepEqual(head, ['table inet palisade', 'delete table inet palisade', 'table inet palisade {']);
  assert.deepEqual([...r.text.matchAll(/^(?:table|delete table) (\S+ \S+)/gm)].map((m) => m[1]), ['inet palisade', 'inet palisade', 'inet palisade']);
});

test('the forward chain accepts established and related packets before any rule', () => {
  const r = ruleset(policy(groups({ db: 'protect' }), [rule('a', 'web', 'api')]), shop);
  assert.match(r.text, /chain forward \{\n {4}type filter hook forward priority filter; policy accept;\n {4}ct state established,related accept\n/);
});

test('rules appear in decision order: priority, then deny before allow, then id', () => {
  const p = policy(groups(), [
    rule('b-allow', 'web', 'api'),
    rule('a-allow', 'web', 'api'),
    rule('deny', 'web', 'api', { action: 'deny' }),
    rule('high', 'web', 'db', { priority: 5 }),
  ]);
  const r = ruleset(p, shop);
  const order = chainLines(r, 'forward')
    .flatMap((l) => /counter name "(r\d+)"/.exec(l)?.[1] ?? [])
    .map((c) => r.counters.get(c));
  assert.deepEqual(order.slice(0, 4), ['high', 'deny', 'a-allow', 'b-allow']);
});

test('an allow rule matches the sets of its groups and its ports, counts on its own counter, and accepts', () => {
  const p = policy(groups(), [rule('web-to-api', 'web', 'api', { ports: [tcp(80), tcp(8000, 8080), tcp(80)] })]);
  const r = ruleset(p, shop);
  const line = chainLines(r, 'forward')[1] as string;
  assert.match(line, /^ip saddr @g\d+_v4 ip daddr @g\d+_v4 meta l4proto tcp th dport \{ 80, 8000-8080 \} counter name "r0" accept$/);
  assert.deepEqual(elements(r, `${setOn(line, 'saddr')}_v4`), ['10.0.0.1']);
  assert.deepEqual(elements(r, `${setOn(line, 'daddr')}_v4`), ['10.0.0.2']);
  assert.equal(r.counters.get('r0'), 'web-to-api');
  assert.match(r.text, /counter r0 \{ comment "rule web-to-api" \}/);
});

test('a deny rule drops only where a side is a protect workload, and otherwise alerts for workload sides', () => {
  const p = policy(groups({ db: 'protect', web: 'monitor' }), [rule('no-web-db', 'web', 'db', { action: 'deny' })], 'discover');
  const r = ruleset(p, shop);
  assert.ok(chainLines(r, 'forward').some((l) => /counter name "r0" goto deny_r0$/.test(l)));
  assert.deepEqual(chainLines(r, 'deny_r0'), [
    'ip saddr @protect_v4 limit rate 20/second burst 40 packets log prefix "pal:no-web-db:drop" group 0 queue-threshold 1',
    'ip saddr @protect_v4 drop',
    'ip daddr @protect_v4 limit rate 20/second burst 40 packets log prefix "pal:no-web-db:drop" group 0 queue-threshold 1',
    'ip daddr @protect_v4 drop',
    'ip saddr @local_v4 limit rate 20/second burst 40 packets log prefix "pal:no-web-db:alert" group 0 queue-threshold 1',
    'ip saddr @local_v4 accept',
    'ip daddr @local_v4 limit rate 20/second burst 40 packets log prefix "pal:no-web-db:alert" group 0 queue-threshold 1',
    'ip daddr @local_v4 accept',
    'accept',
  ]);
  assert.deepEqual(elements(r, 'protect_v4'), ['10.0.0.3']);
});

test('with no matching rule protect sides drop, monitor sides alert, and discover sides pass silently', () => {
  const r = ruleset(policy(groups({ db: 'protect', api: 'monitor', web: 'discover' }), []), shop);
  assert.deepEqual(chainLines(r, 'defaults'), [
    'ip saddr @protect_v4 limit rate 20/second burst 40 packets log prefix "pal:default:drop" group 0 queue-threshold 1',
    'ip saddr @protect_v4 counter name "default" drop',
    'ip daddr @protect_v4 limit rate 20/second burst 40 packets log prefix "pal:default:drop" group 0 queue-threshold 1',
    'ip daddr @protect_v4 counter name "default" drop',
    'ip saddr @monitor_v4 limit rate 20/second burst 40 packets log prefix "pal:default:alert" group 0 queue-threshold 1',
    'ip saddr @monitor_v4 counter name "default" accept',
    'ip daddr @monitor_v4 limit rate 20/second burst 40 packets log prefix "pal:default:alert" group 0 queue-threshold 1',
    'ip daddr @monitor_v4 counter name "default" accept',
  ]);
  assert.deepEqual(elements(r, 'protect_v4'), ['10.0.0.3']);
  assert.deepEqual(elements(r, 'monitor_v4'), ['10.0.0.2']);
});

test('a policy without protect or monitor workloads never drops or alerts by default', () => {
  const r = ruleset(policy(groups(), [], 'discover'), shop);
  assert.deepEqual(chainLines(r, 'forward'), ['ct state established,related accept', 'goto defaults']);
  assert.deepEqual(chainLines(r, 'defaults'), []);
});

test('address criteria become interval elements, overlapping ranges merged', () => {
  const nets = { name: 'nets', selectors: [{ criteria: [{ kind: 'address' as const, spec: '192.168.0.0/24' }] }, { criteria: [{ kind: 'address' as const, spec: '192.168.0.200-192.168.1.9' }] }] };
  const r = ruleset(policy([...groups(), nets], [rule('out', 'web', 'nets')]), shop);
  const line = chainLines(r, 'forward')[1] as string;
  assert.deepEqual(elements(r, `${setOn(line, 'daddr')}_v4`), ['192.168.0.0-192.168.1.9']);
});

test('the external group matches addresses that no workload or node holds', () => {
  const inv = inventory(shop.workloads, { nodes: [{ name: 'n1', addresses: ['10.0.9.1'] }] });
  const r = ruleset(policy(groups(), [rule('in', 'external', 'web')]), inv);
  assert.match(chainLines(r, 'forward')[1] as string, /^ip saddr != @known_v4 ip daddr @g\d+_v4 counter name "r0" accept$/);
  assert.deepEqual(elements(r, 'known_v4'), ['10.0.0.1-10.0.0.3', '10.0.9.1']);
});

test('a rule between "any" and "any" matches both families without address checks', () => {
  const r = ruleset(policy(groups(), [rule('all', 'any', 'any', { ports: [tcp(22)] })]), shop);
  assert.equal(chainLines(r, 'p_tcp_22').at(-2), 'meta l4proto tcp th dport { 22 } counter name "r0" accept');
});

test('IPv6 workloads get ip6 matches; icmp types match in IPv4 only and icmpv6 types in IPv6 only', () => {
  const inv = inventory([workload('web', [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }]), workload('api', [{ ip: '10.0.0.2' }, { ip: 'fd00::2' }])]);
  const ports = [{ proto: 'icmp' as const, first: 8, last: 8 }, { proto: 'icmpv6' as const, first: 128, last: 128 }];
  const r = ruleset(policy(groups(), [rule('ping', 'web', 'api', { ports })], 'discover'), inv);
  const lines = chainLines(r, 'forward').slice(1, -1);
  assert.equal(lines.length, 2);
  assert.match(lines[0] as string, /^ip saddr @g\d+_v4 ip daddr @g\d+_v4 icmp type \{ 8 \} counter name "r0" accept$/);
  assert.match(lines[1] as string, /^ip6 saddr @g\d+_v6 ip6 daddr @g\d+_v6 icmpv6 type \{ 128 \} counter name "r0" accept$/);
  assert.deepEqual(elements(r, `${setOn(lines[1] as string, 'saddr')}_v6`), ['fd00::1']);
});

test('with --node only the workloads on that node have perimeters, and rules with no local side are left out', () => {
  const inv = inventory([workload('web', '10.0.0.1', { node: 'n1' }), workload('api', '10.0.0.2', { node: 'n2' }), workload('db', '10.0.0.3', { node: 'n2' })]);
  const p = policy(groups({ web: 'protect', api: 'protect', db: 'protect' }), [rule('web-api', 'web', 'api'), rule('api-db', 'api', 'db')]);
  const r = ruleset(p, inv, { node: 'n1' });
  assert.deepEqual(elements(r, 'protect_v4'), ['10.0.0.1']);
  assert.deepEqual([...r.counters.values()], ['default', 'web-api']);
  assert.equal(r.stats.localWorkloads, 1);
});

test('an allow rule naming applications accepts only where no side is in protect', () => {
  const p = policy(groups({ db: 'protect' }), [rule('api-db', 'api', 'db', { ports: [tcp(5432)], applications: ['postgresql'] })]);
  const r = ruleset(p, shop);
  assert.match(chainLines(r, 'p_tcp_5432').at(-2) as string, /ip saddr != @protect_v4 ip daddr != @protect_v4 meta l4proto tcp th dport \{ 5432 \} counter name "r0" accept$/);
  assert.ok(r.notes.some((n) => n.includes('api-db') && n.includes('no side is in protect')));
});

test('a deny rule naming applications is left out of the kernel and reported', () => {
  const p = policy(groups({ db: 'protect' }), [rule('no-sql', 'any', 'db', { action: 'deny', applications: ['mysql'] })]);
  const r = ruleset(p, shop);
  assert.equal(r.text.includes('deny_r0'), false);
  assert.ok(r.notes.some((n) => n.startsWith('rule no-sql:') && n.includes('the L7 proxy is off') && n.includes('never blocks')));
});

/** The lines of the nat chain and of the chains it dispatches to, keyed by chain name. */
const natChain = (r: Ruleset, name: string): string[] => chainLines(r, name).filter((l) => !l.startsWith('type nat'));

test('with the L7 proxy, new TCP connections whose first matching rule names applications are redirected where a side is in protect', () => {
  const p = policy(groups({ db: 'protect' }), [
    rule('web-api', 'web', 'api', { ports: [tcp(5432)], priority: 3 }),
    rule('api-db', 'api', 'db', { ports: [tcp(5432)], applications: ['postgresql'], priority: 2 }),
    rule('no-sql', 'any', 'db', { action: 'deny', applications: ['mysql'], priority: 1 }),
    rule('later', 'web', 'db', { ports: [tcp(5432)] }),
  ]);
  const r = ruleset(p, shop, { proxy: { port: 15001 } });
  assert.match(r.text, /chain l7 \{\n    type nat hook prerouting priority dstnat; policy accept;/);
  const l7 = natChain(r, 'l7');
  assert.equal(l7[0], 'meta l4proto != { tcp, udp } accept');
  assert.equal(l7[1], 'meta l4proto . th dport vmap { tcp . 5432 : goto n_tcp_5432 }');
  const port = natChain(r, 'n_tcp_5432');
  // The app-less rule before the redirecting ones stops the walk without a redirect; the rule
  // after the last redirecting one is not there at all.
  const walk = port.filter((l) => !l.includes('vmap'));
  assert.match(walk[0] as string, /^ip saddr @g\d+_v4 ip daddr @g\d+_v4 meta l4proto tcp th dport \{ 5432 \} accept$/);
  const redirects = walk.filter((l) => l.endsWith('redirect to :15001'));
  assert.ok(redirects.some((l) => /ip daddr @protect_v4 tcp dport \{ 5432 \} counter name "l7" redirect to :15001$/.test(l)));
  assert.ok(redirects.some((l) => /ip saddr @protect_v4 meta l4proto tcp counter name "l7" redirect to :15001$/.test(l)), 'the deny naming applications has no ports: every TCP port');
  assert.equal(walk.at(-1), 'accept');
  assert.equal(walk.filter((l) => l.endsWith(' accept')).length, 1);
  assert.equal(r.stats.redirectingRules, 2);
  assert.equal(r.text.includes('deny_r2'), false, 'the deny naming applications is decided by the proxy, not by the filter walk');
  assert.equal(r.notes.some((n) => n.startsWith('rule api-db:')), false);
});

test('with the L7 proxy, UDP destinations a rule names one by one each get a listening port of the proxy', () => {
  const p = policy(groups({ db: 'protect' }), [
    rule('dns', 'api', 'db', { ports: [{ proto: 'udp', first: 53, last: 53 }], applications: ['dns'] }),
    rule('ntp', 'api', 'db', { ports: [{ proto: 'udp', first: 123, last: 123 }], applications: ['ntp'] }),
  ]);
  const r = ruleset(p, shop, { proxy: { port: 15001, udp: { first: 20000, count: 8 } } });
  assert.deepEqual(r.udpDestinations, [{ ip: '10.0.0.3', port: 53, listen: 20000 }, { ip: '10.0.0.3', port: 123, listen: 20001 }]);
  assert.match(r.text, /map l7udp_v4 \{ type ipv4_addr \. inet_service : inet_service; .*elements = \{ 10\.0\.0\.3 \. 53 : 20000, 10\.0\.0\.3 \. 123 : 20001 \} \}/);
  assert.equal(natChain(r, 'l7')[0], 'meta l4proto != { tcp, udp } accept');
  assert.ok(natChain(r, 'n_udp_53').some((l) => /ip daddr @protect_v4 udp dport \{ 53 \} counter name "l7" redirect to : ip daddr \. udp dport map @l7udp_v4$/.test(l)));
  assert.equal(r.notes.some((n) => n.startsWith('rule dns:')), false);
});

test('with the L7 proxy, rules naming applications over UDP to destinations that cannot be listed stay as without it, and a policy with no such rule gets no nat chain', () => {
  const p = policy(groups({ db: 'protect' }), [rule('dns', 'api', 'any', { ports: [{ proto: 'udp', first: 53, last: 53 }], applications: ['dns'] })]);
  const r = ruleset(p, shop, { proxy: { port: 15001 } });
  assert.equal(r.text.includes('chain l7'), false);
  assert.deepEqual(r.udpDestinations, []);
  assert.ok(r.notes.some((n) => n.startsWith('rule dns:') && n.includes('one by one')));
  const plain = ruleset(policy(groups({ db: 'protect' }), [rule('api-db', 'api', 'db', { ports: [tcp(5432)] })]), shop, { proxy: { port: 15001 } });
  assert.equal(plain.text.includes('chain l7'), false);
  assert.equal(plain.text.includes('redirect'), false);
});

test('only leases that hold now put an address in the sets', () => {
  const inv = inventory([
    workload('web', [{ ip: '10.0.0.9', until: '2026-01-01T00:00:00Z' }, { ip: '10.0.0.1', since: '2026-01-01T00:00:00Z' }]),
    workload('db', '10.0.0.3'),
  ]);
  const r = ruleset(policy(groups({ web: 'protect' }), [], 'discover'), inv);
  assert.deepEqual(elements(r, 'protect_v4'), ['10.0.0.1']);
});

test('a disabled rule is not in the ruleset', () => {
  const r = ruleset(policy(groups(), [rule('off', 'web', 'api', { disabled: true })]), shop);
  assert.deepEqual([...r.counters.values()], ['default']);
});

test('a rule whose groups hold no address is reported and left out', () => {
  const r = ruleset(policy([...groups(), group('nobody', [app('nobody')])], [rule('ghost', 'web', 'nobody')]), shop);
  assert.deepEqual([...r.counters.values()], ['default']);
  assert.ok(r.notes.includes('rule ghost: matches no address on this node'));
});

test('log tags map back to rule ids, and an id unsafe in a log prefix is logged by its counter name', () => {
  const p = policy(groups({ db: 'protect' }), [rule('x"y', 'web', 'db', { action: 'deny' })]);
  const r = ruleset(p, shop);
  assert.equal(r.tags.get('r0'), 'x"y');
  assert.match(r.text, /log prefix "pal:r0:drop"/);
});

test('a group with a selector without criteria holds every address of both families', () => {
  const everyone = { name: 'everyone', selectors: [{ criteria: [] }] };
  const r = ruleset(policy([...groups(), everyone], [rule('all', 'web', 'everyone')], 'discover'), shop);
  const line = chainLines(r, 'forward')[1] as string;
  assert.deepEqual(elements(r, `${setOn(line, 'daddr')}_v4`), ['0.0.0.0-255.255.255.255']);
  assert.deepEqual(elements(r, `${setOn(line, 'daddr')}_v6`), ['::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']);
});

test('a selector whose address criteria share no address adds none', () => {
  const disjoint = { name: 'none', selectors: [{ criteria: [{ kind: 'address' as const, spec: '10.9.0.0/24' }, { kind: 'address' as const, spec: '10.8.0.0/24' }] }] };
  const r = ruleset(policy([...groups(), disjoint], [rule('x', 'web', 'none')], 'discover'), shop);
  assert.ok(r.notes.includes('rule x: matches no address on this node'));
});

test('new connections are dispatched by protocol and port to the rules that can admit them', () => {
  const p = policy(
    groups(),
    [
      rule('web-80', 'web', 'api', { ports: [tcp(80)], priority: 3 }),
      rule('wide', 'web', 'api', { ports: [tcp(1, 1000)], priority: 2 }),
      rule('db-53', 'web', 'db', { ports: [{ proto: 'udp', first: 53, last: 53 }], priority: 1 }),
      rule('anything', 'api', 'db'),
    ],
    'discover',
  );
  const r = ruleset(p, shop);
  const forward = chainLines(r, 'forward');
  assert.equal(forward[1], 'meta l4proto . th dport vmap { tcp . 80 : goto p_tcp_80, udp . 53 : goto p_udp_53 }');
  const ids = (lines: string[]): (string | undefined)[] => lines.flatMap((l) => /counter name "(r\d+)"/.exec(l)?.[1] ?? []).map((c) => r.counters.get(c));
  assert.deepEqual(ids(chainLines(r, 'p_tcp_80')), ['web-80', 'wide', 'anything']);
  assert.deepEqual(ids(chainLines(r, 'p_udp_53')), ['db-53', 'anything']);
  assert.deepEqual(ids(forward), ['wide', 'anything']);
  assert.equal(chainLines(r, 'p_tcp_80').at(-1), 'goto defaults');
  assert.equal(forward.at(-1), 'goto defaults');
});

test('within a port, new connections are dispatched by server address to the rules whose groups hold it', () => {
  const p = policy(groups(), [rule('web-api', 'web', 'api', { ports: [tcp(80)] }), rule('any-db', 'any', 'db', { ports: [tcp(80)] })], 'discover');
  const r = ruleset(p, shop);
  const lines = chainLines(r, 'p_tcp_80');
  assert.equal(lines[0], 'ip daddr vmap { 10.0.0.1 : goto defaults, 10.0.0.2 : goto p_tcp_80_4_1, 10.0.0.3 : goto p_tcp_80_4_2 }');
  const ids = (chain: string): (string | undefined)[] => chainLines(r, chain).flatMap((l) => /counter name "(r\d+)"/.exec(l)?.[1] ?? []).map((c) => r.counters.get(c));
  assert.deepEqual(ids('p_tcp_80_4_1'), ['web-api']);
  assert.deepEqual(ids('p_tcp_80_4_2'), ['any-db']);
  // Addresses no workload or node holds walk every rule of the port, in decision order.
  assert.deepEqual(ids('p_tcp_80'), ['any-db', 'web-api']);
  assert.equal(lines.at(-1), 'goto defaults');
});

test('UDP destinations in force keep their proxy ports across a change, and new ones never take a port in force', () => {
  const dns = rule('dns', 'api', 'db', { ports: [{ proto: 'udp', first: 53, last: 53 }], applications: ['dns'] });
  const ntp = rule('ntp', 'api', 'db', { ports: [{ proto: 'udp', first: 123, last: 123 }], applications: ['ntp'] });
  const range = { first: 20000, count: 8 };
  const before = ruleset(policy(groups({ db: 'protect' }), [dns]), shop, { proxy: { port: 15001, udp: range } });
  assert.deepEqual(before.udpDestinations, [{ ip: '10.0.0.3', port: 53, listen: 20000 }]);
  // ntp sorts before dns now (priority), yet dns keeps 20000 and ntp takes the next free port.
  const after = ruleset(policy(groups({ db: 'protect' }), [dns, { ...ntp, priority: 5 }]), shop, { proxy: { port: 15001, udp: { ...range, keep: before.udpDestinations } } });
  assert.deepEqual(after.udpDestinations, [{ ip: '10.0.0.3', port: 123, listen: 20001 }, { ip: '10.0.0.3', port: 53, listen: 20000 }]);
  const full = ruleset(policy(groups({ db: 'protect' }), [dns, ntp]), shop, { proxy: { port: 15001, udp: { first: 20000, count: 1 } } });
  assert.equal(full.udpDestinations.length, 1);
  assert.ok(full.notes.some((n) => n.includes('UDP listening ports are all taken')));
});
