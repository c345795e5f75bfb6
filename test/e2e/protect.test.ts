// Protect mode end to end on the shop lab (root, network namespaces): a policy learned from a
// capture of the customers' normal traffic, enforced by the node agent with every service in
// protect. The application's own flows keep working with real clients, every attacker attempt is
// dropped and reported within a second, and a port scan becomes a few aggregated events.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type Agent } from '../../src/enforce/agent.js';
import { attempt, LATERAL_MOVEMENT, portScan } from '../../src/enforce/attacker.js';
import { checkout, learnFromLab, type LearnedPolicy } from '../../src/enforce/demo.js';
import { eventOfViolation, workloadLookup, type Violation } from '../../src/enforce/violations.js';
import { labDown, labPod, labUp, runInPod, type LabState } from '../../src/enforce/lab/lab.js';
import { namespaceExists, NODE_NAMESPACE } from '../../src/enforce/lab/netns.js';
import { EventPipeline, type Event } from '../../src/events/index.js';
import { loadInventory } from '../../src/inventory/load.js';
import { skipReason } from './lab-netns.js';
import { DEFAULT_PROXY_PORT } from '../../src/enforce/proxy/host.js';
import { execFileSync } from 'node:child_process';

const skip = skipReason();
/** A safety net so a hung lab fails the test instead of stalling CI; never a measurement. */
const E2E_TIMEOUT_MS = 180_000;
/** Long enough for every edge of a customer visit (one every 2 s) to be seen a few times. */
const LEARN_SECONDS = 10;
/** How long a kernel drop may take to arrive as a violation record. */
const REPORT_WITHIN_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `want` holds, or rejects after `ms` saying what was awaited. */
async function within(ms: number, what: string, want: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!want()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(10);
  }
}

describe('protect mode on the shop lab', { skip, timeout: E2E_TIMEOUT_MS }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'pal-protect-'));
  let state: LabState;
  let learned: LearnedPolicy;
  let agent: Agent | undefined;
  const messages: string[] = [];
  /** Every kernel report, with when it arrived here. */
  const violations: { v: Violation; at: number }[] = [];
  const events: Event[] = [];
  let pipeline: EventPipeline;

  before(async () => {
    // Another shop lab (the lab or demo test) may still be coming down: the lab's names are fixed.
    for (let i = 0; i < 600 && namespaceExists(NODE_NAMESPACE); i++) await sleep(200);
    state = (await labUp({ stateDir })).state;
    learned = await learnFromLab(state, LEARN_SECONDS, join(stateDir, 'demo'));
    const { inventory } = await loadInventory(state.inventory);
    const workloadOf = workloadLookup(inventory);
    pipeline = new EventPipeline({}, [{ write: (e) => void events.push(e), close: async () => undefined }]);
    agent = await startAgent({
      policyPaths: [learned.protectPath], inventoryPath: state.inventory, netns: state.nodeNamespace, fail: 'open',
      l7Proxy: { port: DEFAULT_PROXY_PORT },
      say: (line) => void messages.push(line),
      onViolation: (v) => {
        violations.push({ v, at: Date.now() });
        pipeline.push(eventOfViolation(v, workloadOf));
      },
    });
  });

  after(async () => {
    await pipeline?.close();
    await agent?.stop();
    await labDown({ stateDir });
    rmSync(stateDir, { recursive: true, force: true });
  });

  const at = (pod: string): string => labPod(state, pod).address;
  const shopPods = (): Set<string> => new Set(state.pods.filter((p) => p.name !== 'attacker').map((p) => p.address));

  test('the learned policy puts every service of the shop in protect', () => {
    assert.deepEqual(learned.protectedGroups.sort(), ['data.postgres', 'data.redis', 'kube-system.kube-dns', 'messaging.rabbitmq', 'payments.payments', 'shop.api', 'shop.orders', 'shop.web']);
    assert.ok(messages.some((m) => m.includes('rules in force')), messages.join('\n'));
  });

  test('a checkout crosses web, api, orders, postgres, redis, rabbitmq, payments and the provider', async () => {
    for (const session of ['protect-1', 'protect-2']) {
      const r = await checkout(state, session);
      assert.equal(r.status, 200);
      assert.ok(r.order !== undefined && r.order >= 1, 'an order was stored in postgres');
      assert.equal(r.payment, 'succeeded', 'payments reached the provider');
    }
  });

  test('every client of the cluster DNS resolves names through it', async () => {
    const lookups: [pod: string, name: string, answer: string][] = [
      ['customer', 'shop.example', at('web')],
      ['web', 'api.shop.svc.cluster.local', at('api')],
      ['api', 'orders.shop.svc.cluster.local', at('orders')],
      ['orders', 'postgres.data.svc.cluster.local', at('postgres')],
      ['payments', 'api.stripe.example', at('provider')],
    ];
    for (const [pod, name, answer] of lookups) {
      const r = await runInPod(state, pod, 'dig', ['+short', '+tries=1', '+time=2', `@${at('coredns')}`, name, 'A']);
      assert.equal(r.stdout.trim(), answer, `${pod} resolves ${name}: ${r.stderr}`);
    }
  });

  test("the application's own traffic raises no violation", () => {
    const pods = shopPods();
    const inside = violations.filter(({ v }) => pods.has(v.client.ip) && pods.has(v.server.ip));
    assert.deepEqual(inside.map(({ v }) => v), []);
  });

  for (const step of LATERAL_MOVEMENT) {
    test(`blocked and reported within a second: ${step.name}`, async () => {
      const started = Date.now();
      const outcome = attempt(state, step);
      const mine = ({ v, at: when }: { v: Violation; at: number }): boolean =>
        when >= started && v.client.ip === at(step.from) && v.server.ip === at(step.to) && v.server.port === step.port;
      await within(REPORT_WITHIN_MS, `violation ${step.from} → ${step.to}:${step.port}`, () => violations.some(mine));
      assert.equal(await outcome, 'blocked');
      const { v } = violations.find(mine) as { v: Violation };
      if (step.payload === undefined) {
        assert.deepEqual({ protocol: v.protocol, action: v.action, ruleId: v.ruleId, server: v.server.workload },
          { protocol: 'tcp', action: 'drop', ruleId: 'default', server: labPod(state, step.to).workload });
      } else {
        // The port is allowed for HTTP: the L7 proxy identified what was spoken and reset it.
        assert.deepEqual({ protocol: v.protocol, action: v.action, ruleId: v.ruleId, app: v.app, appConfidence: v.appConfidence, mode: v.mode, server: v.server.workload },
          { protocol: 'tcp', action: 'block', ruleId: 'default', app: 'redis', appConfidence: 'dpi', mode: 'protect', server: labPod(state, step.to).workload });
        const frame = Buffer.from(v.sample?.frames[0]?.data ?? '', 'base64');
        assert.ok(frame.includes(Buffer.from(step.payload, 'latin1')), 'the event carries the payload as evidence');
      }
    });
  }

  test('connections whose rules name applications went through the L7 proxy', () => {
    const listed = execFileSync('ip', ['netns', 'exec', state.nodeNamespace, 'nft', 'list', 'counter', 'inet', 'palisade', 'l7'], { encoding: 'utf8' });
    const packets = Number(/packets (\d+)/.exec(listed)?.[1] ?? 0);
    assert.ok(packets > 0, `the redirect counter: ${listed}`);
    assert.ok(messages.some((m) => m.startsWith('L7 proxy listening')), messages.join('\n'));
  });

  test('a port scan finds nothing open and becomes a few aggregated events', async () => {
    const scan = await portScan(state, 'attacker', 'redis');
    assert.deepEqual({ open: scan.result.open, refused: scan.result.refused, filtered: scan.result.filtered.length }, { open: [], refused: [], filtered: 1024 });
    const fromScan = (ip: string, server: string): boolean => ip === at('attacker') && server === at('redis');
    // The last reports of the scan are on their way from the kernel: wait until they stop coming.
    let seen = -1;
    while (seen !== violations.length) {
      seen = violations.length;
      await sleep(300);
    }
    await pipeline.close();
    const reports = violations.filter(({ v }) => fromScan(v.client.ip, v.server.ip)).length;
    const scanEvents = events.filter((e) => fromScan(e.client.ip, e.server.ip));
    assert.ok(reports >= 20, `the kernel reported ${reports} attempts of the scan`);
    assert.ok(scanEvents.length >= 1 && scanEvents.length <= 3, `${scanEvents.length} events for ${reports} reports`);
    assert.equal(scanEvents.reduce((n, e) => n + e.count, 0), reports, 'every report is counted in an event');
    assert.ok(scanEvents.some((e) => (e.serverPorts?.ports.length ?? 0) > 1), 'the ports are merged into one event');
  });
});
