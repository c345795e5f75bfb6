import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AddressIndex } from '../../src/inventory/attribute.js';
import { LiveInventory, type WatchedKind, type WatchEvent } from '../../src/inventory/kubernetes.js';

// The recorded stream: one watch event per line, each object carrying its kind as the API sends it.
const T0 = Date.parse('2026-01-10T10:00:00Z');
const events: WatchEvent[] = readFileSync('test/fixtures/learn/watch-stream.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l) as WatchEvent);
const kindOf = (e: WatchEvent): WatchedKind => (e.object as { kind: WatchedKind }).kind;

/** Feeds the first `n` events, event i arriving at T0 + i minutes. */
function replay(n = events.length): LiveInventory {
  let i = 0;
  const live = new LiveInventory({ now: () => T0 + i * 60_000 });
  for (; i < n; i++) assert.deepEqual(live.handle(kindOf(events[i] as WatchEvent), events[i] as WatchEvent), []);
  return live;
}

const at = (iso: string): number => Date.parse(iso);

test('a pod picked by a Service belongs to that service, named after the Service', () => {
  const api = replay().inventory().workloads.find((w) => w.name === 'api-0');
  assert.equal(api?.service, 'api');
  assert.equal(api?.kind, 'StatefulSet');
});

test('a pod without a Service or name label is named by its owner, never by the pod-template-hash', () => {
  const worker = replay().inventory().workloads.find((w) => w.name === 'worker-5f6c7d8b9-q4k2z');
  assert.equal(worker?.service, 'worker');
  assert.equal(worker?.kind, 'Deployment');
});

test('a pending pod without an address holds no lease until it gets one, dated back to its start', () => {
  const pending = replay(4).inventory().workloads.find((w) => w.name === 'api-0');
  assert.deepEqual(pending?.addresses, []);
  const running = replay(5).inventory().workloads.find((w) => w.name === 'api-0');
  assert.deepEqual(running?.addresses, [{ ip: '10.1.0.20', since: '2026-01-10T09:59:00.000Z' }]);
});

test('a pod that changes its IP ends the old lease and starts a new one at that moment', () => {
  const api = replay().inventory().workloads.find((w) => w.name === 'api-0');
  assert.deepEqual(api?.addresses, [
    { ip: '10.1.0.20', since: '2026-01-10T09:59:00.000Z', until: '2026-01-10T10:06:00.000Z' },
    { ip: '10.1.0.21', since: '2026-01-10T10:06:00.000Z' },
  ]);
});

test('an address reused by a new pod is attributed to whoever held it at the time of the flow', () => {
  const index = new AddressIndex(replay().inventory());
  const before = index.at('10.1.0.10', at('2026-01-10T10:06:30Z'));
  const after = index.at('10.1.0.10', at('2026-01-10T10:09:00Z'));
  assert.equal(before.kind === 'workload' ? before.workload.service : before.kind, 'web');
  assert.equal(after.kind === 'workload' ? after.workload.service : after.kind, 'worker');
});

test('namespaces, nodes and services come from their watch events', () => {
  const inv = replay().inventory();
  assert.deepEqual(inv.namespaces, [{ name: 'shop', labels: { team: 'storefront' } }]);
  assert.deepEqual(inv.nodes.map((n) => [n.name, n.addresses]), [['node-1', ['10.0.0.11']]]);
  assert.deepEqual(inv.services.map((s) => [s.name, s.selector]), [['api', { app: 'api-server' }]]);
});

test('a deleted Service gives its pods back to the name their labels and owner give them', () => {
  const live = replay();
  const svc = events[2] as WatchEvent;
  assert.deepEqual(live.handle('Service', { type: 'DELETED', object: svc.object }), []);
  assert.equal(live.inventory().workloads.find((w) => w.name === 'api-0')?.service, 'api-server');
});

test('a deleted pod is forgotten once the retention time has passed', () => {
  let now = T0;
  const live = new LiveInventory({ now: () => now, retainMs: 60_000 });
  const add = events[5] as WatchEvent;
  live.handle('Pod', add);
  live.handle('Pod', { type: 'DELETED', object: add.object });
  assert.equal(live.inventory().workloads.length, 1);
  now += 120_000;
  live.handle('Namespace', events[0] as WatchEvent);
  assert.equal(live.inventory().workloads.length, 0);
});

test('a malformed event is reported and changes nothing', () => {
  const live = new LiveInventory();
  assert.deepEqual(live.handle('Pod', { type: 'ADDED', object: { metadata: {} } }), ['Pod event without metadata.name']);
  assert.deepEqual(live.handle('Pod', { type: 'EXPLODED', object: {} }), ['unknown watch event type "EXPLODED"']);
  assert.equal(live.inventory().workloads.length, 0);
});
