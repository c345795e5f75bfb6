import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Aggregator, type AggregateOptions } from '../../src/events/aggregate.js';
import { EVENT_ACTIONS, EVENT_KINDS, type Event } from '../../src/events/event.js';
import { violation } from './sample-events.js';

function setup(options: Partial<AggregateOptions> = {}): { agg: Aggregator; out: Event[]; clock: { now: number } } {
  const clock = { now: 0 };
  const out: Event[] = [];
  const agg = new Aggregator({ windowMs: 10_000, rate: 10, burst: 20, maxKeys: 100, maxPorts: 8, ...options, clock: () => clock.now }, (e) => out.push(e));
  return { agg, out, clock };
}

const total = (events: Event[]): number => events.reduce((n, e) => n + e.count, 0);

test('the first attempt of a key is emitted at once', () => {
  const { agg, out } = setup();
  agg.push(violation());
  assert.equal(out.length, 1);
  assert.equal(out[0]?.count, 1);
});

test('repeated attempts within the window become one event with their count when the window ends', () => {
  const { agg, out, clock } = setup();
  for (let i = 0; i < 50; i++) agg.push(violation({ client: { ip: '10.200.1.5', port: 40000 + i, workload: 'shop/frontend-7d9' } }));
  assert.equal(out.length, 1);
  clock.now = 10_000;
  agg.tick();
  assert.deepEqual(out.map((e) => e.count), [1, 49]);
});

test('a port scan from one client becomes one event listing the ports', () => {
  const { agg, out } = setup({ maxPorts: 1000 });
  for (const port of [22, 80, 443, 3306, 5432]) agg.push(violation({ server: { ip: '10.200.2.9', port, workload: 'shop/postgres-0' } }));
  agg.flush();
  assert.equal(out.length, 2);
  assert.deepEqual(out[1]?.serverPorts, { ports: [80, 443, 3306, 5432], truncated: false });
});

test('the port list is bounded and says when ports were left out', () => {
  const { agg, out } = setup({ maxPorts: 8 });
  agg.push(violation({ server: { ip: '10.200.2.9', port: 1 } }));
  for (let port = 2; port <= 1000; port++) agg.push(violation({ server: { ip: '10.200.2.9', port } }));
  agg.flush();
  assert.equal(out[1]?.count, 999);
  assert.equal(out[1]?.serverPorts?.ports.length, 8);
  assert.equal(out[1]?.serverPorts?.truncated, true);
});

test('attempts from different clients or under different rules stay apart', () => {
  const { agg, out } = setup();
  agg.push(violation());
  agg.push(violation({ client: { ip: '10.200.1.6', port: 1 } }));
  agg.push(violation({ ruleId: 'deny-db' }));
  agg.push(violation({ action: 'alert', mode: 'monitor' }));
  assert.equal(out.length, 4);
});

test('a merged event spans the first and last attempt times', () => {
  const { agg, out } = setup();
  agg.push(violation({ firstSeen: '2025-03-01T10:00:05.000Z' }));
  agg.push(violation({ firstSeen: '2025-03-01T10:00:09.000Z' }));
  agg.push(violation({ firstSeen: '2025-03-01T10:00:07.000Z' }));
  agg.flush();
  assert.equal(out[1]?.firstSeen, '2025-03-01T10:00:07.000Z');
  assert.equal(out[1]?.lastSeen, '2025-03-01T10:00:09.000Z');
});

test('a steady stream on one key yields one event per window', () => {
  const { agg, out, clock } = setup();
  for (let t = 0; t < 60_000; t += 100) {
    clock.now = t;
    agg.push(violation());
  }
  assert.equal(out.length, 6);
});

test('an empty token bucket holds new keys back until their window ends', () => {
  const { agg, out, clock } = setup({ rate: 1, burst: 3 });
  for (let i = 0; i < 5; i++) agg.push(violation({ client: { ip: `10.200.1.${i}`, port: 1 } }));
  assert.equal(out.length, 3);
  clock.now = 10_000;
  agg.tick();
  assert.equal(out.length, 5);
  assert.equal(agg.stats.deferred, 0, 'aggregates not yet due are not deferred');
});

test('a due aggregate waits for a token and is counted as deferred once', () => {
  const { agg, out, clock } = setup({ rate: 0.05, burst: 1 });
  agg.push(violation());
  agg.push(violation());
  clock.now = 5_000;
  agg.push(violation({ client: { ip: '10.200.1.6', port: 1 } }));
  clock.now = 10_000;
  agg.tick();
  agg.tick();
  assert.equal(out.length, 1);
  assert.equal(agg.stats.deferred, 1);
  clock.now = 20_000;
  agg.tick();
  assert.deepEqual(out.map((e) => e.count), [1, 1]);
});

test('a full key table flushes its oldest key into a summary when no token is left', () => {
  const { agg, out } = setup({ maxKeys: 3, burst: 3, rate: 0 });
  for (let i = 0; i < 10; i++) agg.push(violation({ client: { ip: `10.200.1.${i}`, port: 1, workload: `shop/c${i}` } }));
  assert.equal(agg.keys, 3);
  assert.equal(agg.stats.evicted, 7);
  agg.flush();
  const summary = out.find((e) => e.summary !== undefined);
  assert.equal(summary?.count, 7);
  assert.deepEqual(summary?.summary, { aggregates: 7 });
  assert.equal(summary?.client.ip, '*');
  assert.equal(agg.stats.summarized, 7);
  assert.equal(total(out), 10);
});

test('summaries are kept apart per kind and action', () => {
  const { agg, out } = setup({ maxKeys: 100, burst: 0, rate: 0 });
  agg.push(violation());
  agg.push(violation({ kind: 'threat', action: 'block', finding: { name: 'sql-injection', severity: 'high', detail: 'x' } }));
  agg.push(violation({ client: { ip: '10.0.0.1', port: 1 } }));
  agg.flush();
  assert.deepEqual(out.map((e) => [e.kind, e.action, e.count]).sort(), [
    ['threat', 'block', 1],
    ['violation', 'drop', 2],
  ]);
});

const arbitraryInput = fc.record({
  dt: fc.integer({ min: 0, max: 3_000 }),
  client: fc.integer({ min: 0, max: 30 }),
  server: fc.integer({ min: 0, max: 3 }),
  port: fc.integer({ min: 1, max: 200 }),
  kind: fc.constantFrom(...EVENT_KINDS),
  action: fc.constantFrom(...EVENT_ACTIONS),
  count: fc.integer({ min: 1, max: 5 }),
});

const arbitraryOptions = fc.record({
  windowMs: fc.integer({ min: 0, max: 20_000 }),
  rate: fc.integer({ min: 0, max: 20 }),
  burst: fc.integer({ min: 0, max: 20 }),
  maxKeys: fc.integer({ min: 1, max: 40 }),
  maxPorts: fc.integer({ min: 1, max: 16 }),
});

test('aggregation loses no attempt and emits no more than the limits allow (property)', () => {
  fc.assert(
    fc.property(arbitraryOptions, fc.array(arbitraryInput, { maxLength: 300 }), (options, inputs) => {
      const { agg, out, clock } = setup(options);
      const summaryKeys = new Set<string>();
      for (const i of inputs) {
        clock.now += i.dt;
        summaryKeys.add(`${i.kind}/${i.action}`);
        agg.push(
          violation({
            kind: i.kind,
            action: i.action,
            count: i.count,
            client: { ip: `10.200.1.${i.client}`, port: 40000 },
            server: { ip: `10.200.2.${i.server}`, port: i.port },
          }),
        );
        if (i.dt % 7 === 0) agg.tick();
      }
      agg.flush();
      assert.equal(total(out), inputs.reduce((n, i) => n + i.count, 0));
      assert.equal(agg.stats.received, total(out));
      assert.ok(out.length <= options.burst + (options.rate * clock.now) / 1000 + summaryKeys.size);
      assert.equal(agg.stats.emitted, out.length);
      for (const e of out) assert.ok((e.serverPorts?.ports.length ?? 0) <= options.maxPorts);
    }),
    { numRuns: 300 },
  );
});
