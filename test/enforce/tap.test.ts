// The passive tap's decisions over a capture recorded from the shop's real programs: the same
// SessionSink the live tap runs, fed from the file instead of tcpdump.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { TapSink } from '../../src/enforce/tap.js';
import type { Violation } from '../../src/enforce/violations.js';
import { proxyPolicy } from '../../src/enforce/proxy/proxy.js';
import { AddressIndex } from '../../src/inventory/attribute.js';
import { loadInventory } from '../../src/inventory/load.js';
import { compile } from '../../src/policy/compile.js';
import { decodeFrame, readCapture } from '../../src/packet/index.js';
import { PacketPipeline } from '../../src/packet/pipeline.js';
import type { Flow } from '../../src/model/flow.js';
import type { Group, Policy } from '../../src/model/policy.js';
import { repoRoot } from '../support/corpus.js';

const shop = join(repoRoot, 'examples/shop');

async function tap(policy: Policy): Promise<{ violations: Violation[]; flows: Flow[]; sink: TapSink }> {
  const { inventory } = await loadInventory(join(shop, 'inventory.yaml'));
  const decisions = proxyPolicy(compile(policy, inventory), new AddressIndex(inventory));
  const violations: Violation[] = [];
  const flows: Flow[] = [];
  const sink = new TapSink({ policy: () => decisions, onViolation: (v) => violations.push(v), onFlow: (f) => flows.push(f) });
  const pipeline = new PacketPipeline(sink);
  for await (const r of readCapture(createReadStream(join(shop, 'capture.pcap')))) pipeline.record(r);
  pipeline.finish();
  return { violations, flows, sink };
}

test('monitor: every session no rule allows is an alert naming the application DPI identified, with its first packets', async () => {
  const { violations, flows, sink } = await tap({ groups: [], rules: [], defaultMode: 'monitor' });
  assert.ok(flows.length > 100, `${flows.length} flows`);
  assert.ok(violations.length > 50, `${violations.length} violations`);
  assert.ok(violations.every((v) => v.action === 'alert' && v.mode === 'monitor' && v.ruleId === 'default'));
  const apps = new Set(violations.map((v) => v.app));
  for (const app of ['http', 'redis', 'postgresql', 'amqp', 'dns']) assert.ok(apps.has(app), `${app} in ${[...apps].join(', ')}`);
  const v = violations.find((x) => x.app === 'redis') as Violation;
  assert.equal(v.appConfidence, 'dpi');
  assert.ok(v.client.workload !== undefined && v.server.workload !== undefined);
  const frames = v.sample?.frames ?? [];
  assert.ok(frames.length >= 1 && frames.length <= 2);
  const last = decodeFrame(Buffer.from(frames.at(-1)?.data ?? '', 'base64'), v.sample?.linkType);
  assert.ok(typeof last !== 'string' && last.payload.length > 0, 'the sample holds the packet with the payload');
  assert.equal(sink.counts.violations, violations.length);
});

test('sessions with a protect side are left to the kernel and the proxy; an allowed session is no violation', async () => {
  const data: Group = { name: 'data', selectors: [{ criteria: [{ kind: 'namespace', name: 'data' }] }], mode: 'protect' };
  const everything: Policy = { groups: [data], rules: [{ id: 'all', from: ['any'], to: ['any'], ports: [], applications: [], action: 'allow', priority: 0, source: 'user' }], defaultMode: 'monitor' };
  const allowed = await tap(everything);
  assert.deepEqual(allowed.violations, []);
  const monitored = await tap({ groups: [data], rules: [], defaultMode: 'monitor' });
  assert.ok(monitored.sink.counts.leftToEnforcement > 0);
  assert.ok(monitored.violations.every((v) => !(v.server.workload ?? '').startsWith('data/') && !(v.client.workload ?? '').startsWith('data/')));
  assert.ok(monitored.violations.length > 0);
});
