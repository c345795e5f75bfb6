import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsNames } from '../../../src/dpi/dns-names.js';
import { AddressIndex } from '../../../src/inventory/attribute.js';
import type { Flow } from '../../../src/model/flow.js';
import { compile } from '../../../src/policy/compile.js';
import { Replay } from '../../../src/policy/analyze/replay.js';
import { loadShop } from './shop.js';

const flow = (id: string, at: string, client: string, server: string, port: number): Flow => ({
  id, firstSeen: at, lastSeen: at, ipProto: 'tcp', client: { ip: client, port: 40000 }, server: { ip: server, port },
  app: 'unknown', appConfidence: 'none', meta: {}, c2s: { packets: 1, bytes: 60 }, s2c: { packets: 1, bytes: 60 },
});

test('a reused address is attributed to the workload that held it at the time of the flow', async () => {
  const { policy, inventory } = await loadShop();
  const replay = new Replay(compile(policy, inventory), new AddressIndex(inventory), new DnsNames());
  const before = replay.add(flow('a', '2024-05-01T10:00:00Z', '10.200.1.31', '10.200.3.10', 5432));
  const after = replay.add(flow('b', '2024-05-01T13:00:00Z', '10.200.1.31', '10.200.3.10', 5432));
  assert.equal(before.client.endpoint, 'shop/orders');
  assert.equal(after.client.endpoint, 'external');
});

test('the summary puts pairs with blocked flows first', async () => {
  const { policy, inventory } = await loadShop();
  const replay = new Replay(compile(policy, inventory), new AddressIndex(inventory), new DnsNames());
  replay.add(flow('a', '2024-05-02T10:00:00Z', '10.200.1.10', '10.200.1.20', 8080));
  replay.add(flow('b', '2024-05-02T10:00:00Z', '10.200.1.10', '10.200.3.10', 5432));
  const [first] = replay.summary();
  assert.equal(`${first?.from} → ${first?.to} ${first?.blocked}`, 'shop/web → data/postgres 1');
});
