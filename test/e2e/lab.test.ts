// The shop lab end to end (root, network namespaces): `lab up` builds every pod with its real
// server, each answers a real client from another pod, the written inventory loads, a second `up`
// changes nothing, and `down` leaves no namespace, link or process behind.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labDown, labPod, labStatus, labUp, readState, runInPod, startInPod, type LabState } from '../../src/enforce/lab/lab.js';
import { namespaceExists, NODE_NAMESPACE } from '../../src/enforce/lab/netns.js';
import { isRunning } from '../../src/enforce/lab/processes.js';
import { loadInventory } from '../../src/inventory/load.js';
import { skipReason } from './lab-netns.js';

const skip = skipReason();

describe('the shop lab', { skip }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'pal-lab-test-'));
  let state: LabState;

  before(async () => {
    state = (await labUp({ stateDir })).state;
  });

  after(async () => {
    await labDown({ stateDir });
    rmSync(stateDir, { recursive: true, force: true });
  });

  const at = (pod: string): string => labPod(state, pod).address;

  test('every pod has its own pal- namespace, joined to the bridge in pal-node', () => {
    assert.ok(namespaceExists(NODE_NAMESPACE));
    for (const pod of state.pods) {
      assert.ok(pod.namespace.startsWith('pal-'), pod.namespace);
      assert.ok(namespaceExists(pod.namespace), `${pod.namespace} exists`);
    }
    const ports = execFileSync('ip', ['-n', NODE_NAMESPACE, '-br', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' });
    for (const pod of state.pods) assert.match(ports, new RegExp(`^v-${pod.name}@`, 'm'));
  });

  test('the pods hold the addresses the shop inventory gives the workloads', () => {
    assert.equal(at('web'), '10.200.1.10');
    assert.equal(at('orders'), '10.200.1.30');
    assert.equal(at('payments'), '10.200.2.10');
    assert.equal(at('coredns'), '10.200.4.10');
  });

  test('nginx in web serves the storefront to a customer', async () => {
    const r = await runInPod(state, 'customer', 'curl', ['-sS', '--max-time', '10', `http://${at('web')}:8080/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /The shop/);
  });

  test('a checkout through nginx crosses api, redis, orders, postgres, rabbitmq, payments and the provider', async () => {
    const r = await runInPod(state, 'customer', 'curl', ['-sS', '--fail', '--max-time', '20', '-H', 'content-type: application/json',
      '--data', '{"session":"e2e"}', `http://${at('web')}:8080/api/checkout`]);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { visits: number; order: { id: number; payment: { charge: { status: string } } } };
    assert.ok(body.visits >= 1);
    assert.ok(body.order.id >= 1);
    assert.equal(body.order.payment.charge.status, 'succeeded');
  });

  test('the cluster DNS answers service names and the provider name', async () => {
    const service = await runInPod(state, 'api', 'dig', ['+short', '+tries=1', '+time=3', `@${at('coredns')}`, 'postgres.data.svc.cluster.local', 'A']);
    assert.equal(service.stdout.trim(), at('postgres'));
    const provider = await runInPod(state, 'payments', 'dig', ['+short', '+tries=1', '+time=3', `@${at('coredns')}`, 'api.stripe.example', 'A']);
    assert.equal(provider.stdout.trim(), at('provider'));
  });

  test('postgres answers psql from orders with the orders table', async () => {
    const r = await runInPod(state, 'orders', 'psql', ['-X', '-A', '-t', `host=${at('postgres')} user=postgres dbname=shop sslmode=disable`, '-c', 'SELECT count(*) >= 0 FROM orders'], {
      env: { ...process.env, PGPASSWORD: 'palisade' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 't');
  });

  test('redis answers redis-cli from api', async () => {
    const r = await runInPod(state, 'api', 'redis-cli', ['-h', at('redis'), 'PING']);
    assert.equal(r.stdout.trim(), 'PONG');
  });

  test('rabbitmq takes an AMQP message from orders', async () => {
    const r = await runInPod(state, 'orders', 'amqp-publish', [`--url=amqp://guest:guest@${at('rabbitmq')}:5672`, '--routing-key=e2e', '--body=order e2e']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('payments answers TLS with the certificate of its service name', async () => {
    const name = 'payments.payments.svc.cluster.local';
    const r = await runInPod(state, 'orders', 'curl', ['-sS', '--max-time', '10', '--cacert', join(stateDir, 'tls', `${name}.crt`),
      '--resolve', `${name}:8443:${at('payments')}`, `https://${name}:8443/health`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"role":"payments"/);
  });

  test('the written inventory loads and places every workload at its pod address, the attacker nowhere', async () => {
    const { inventory, diagnostics } = await loadInventory(state.inventory);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
    for (const pod of state.pods.filter((p) => p.role === 'workload')) {
      const w = inventory.workloads.find((x) => x.id === pod.workload);
      assert.deepEqual(w?.addresses.map((a) => a.ip), [pod.address]);
    }
    assert.ok(!inventory.workloads.some((w) => w.addresses.some((a) => a.ip === at('attacker'))));
  });

  test('a second up finds the lab running and changes nothing', async () => {
    const again = await labUp({ stateDir });
    assert.equal(again.alreadyRunning, true);
    assert.deepEqual(again.state.processes, state.processes);
    assert.equal(labStatus({ stateDir }).healthy, true);
  });

  test('down leaves no lab namespace, no bridge port and no process of the lab, including ones started later', async () => {
    const later = await startInPod({ stateDir }, 'attacker', 'idle', 'sleep', ['600']);
    assert.equal(isRunning(later), true);
    const processes = readState(stateDir)?.processes ?? [];
    assert.ok(processes.some((p) => p.pid === later.pid));
    assert.deepEqual(await labDown({ stateDir }), { wasBuilt: true });
    for (const p of processes) assert.equal(isRunning(p), false, `${p.name} (pid ${p.pid}) still runs`);
    for (const ns of [NODE_NAMESPACE, ...state.pods.map((p) => p.namespace)]) assert.equal(namespaceExists(ns), false, `${ns} is left`);
    const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
    for (const pod of state.pods) assert.doesNotMatch(links, new RegExp(`^v-${pod.name}@`, 'm'));
    assert.equal(labStatus({ stateDir }).built, false);
  });
});
