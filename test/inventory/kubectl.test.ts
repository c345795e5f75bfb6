import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';
import type { Inventory, Workload } from '../../src/model/workload.js';

const fixture = fileURLToPath(new URL('./fixtures/kubectl-shop.json', import.meta.url));

async function shop(): Promise<Inventory> {
  const { inventory, diagnostics } = await loadInventory(fixture);
  assert.deepEqual(diagnostics, []);
  return inventory;
}

function workload(inventory: Inventory, id: string): Workload {
  const w = inventory.workloads.find((x) => x.id === id);
  assert.ok(w, `no workload ${id}`);
  return w;
}

test('a pod becomes a workload named namespace/pod with its labels, node and first image', async () => {
  const w = workload(await shop(), 'shop/web-7d9c6b5f48-x2x7p');
  assert.equal(w.name, 'web-7d9c6b5f48-x2x7p');
  assert.equal(w.namespace, 'shop');
  assert.equal(w.node, 'node-1');
  assert.equal(w.image, 'docker.io/library/nginx:1.25');
  assert.equal(w.labels['tier'], 'frontend');
});

test('a pod owned by a ReplicaSet named after its pod-template-hash is a Deployment', async () => {
  assert.equal(workload(await shop(), 'shop/web-7d9c6b5f48-x2x7p').kind, 'Deployment');
});

test('a ReplicaSet name ending in a generated suffix means a Deployment even without the hash label', async () => {
  assert.equal(workload(await shop(), 'shop/orders-5b7f9c8d6c-q4kzm').kind, 'Deployment');
});

test('StatefulSet, DaemonSet and Job owners give their own kind', async () => {
  const inventory = await shop();
  assert.equal(workload(inventory, 'data/postgres-0').kind, 'StatefulSet');
  assert.equal(workload(inventory, 'kube-system/kube-proxy-7xw2b').kind, 'DaemonSet');
  assert.equal(workload(inventory, 'data/db-migrate-28571040-t8m4d').kind, 'Job');
});

test('every pod IP is an address leased since the pod started, IPv6 in canonical form', async () => {
  assert.deepEqual(workload(await shop(), 'shop/web-7d9c6b5f48-x2x7p').addresses, [
    { ip: '10.200.1.10', since: '2024-05-01T08:00:01.000Z' },
    { ip: 'fd00:200::1:10', since: '2024-05-01T08:00:01.000Z' },
  ]);
});

test('podIP alone is used when podIPs is absent', async () => {
  assert.deepEqual(workload(await shop(), 'shop/orders-5b7f9c8d6c-q4kzm').addresses.map((a) => a.ip), ['10.200.1.30']);
});

test('a host-network pod holds no address of its own', async () => {
  assert.deepEqual(workload(await shop(), 'kube-system/kube-proxy-7xw2b').addresses, []);
});

test('a finished pod has given its address back', async () => {
  assert.deepEqual(workload(await shop(), 'data/db-migrate-28571040-t8m4d').addresses, []);
});

test('the service is the Service whose selector matches the pod', async () => {
  const inventory = await shop();
  assert.equal(workload(inventory, 'shop/web-7d9c6b5f48-x2x7p').service, 'storefront');
  assert.equal(workload(inventory, 'kube-system/coredns-76f75df574-9kq2s').service, 'kube-dns');
});

test('without a matching Service the service comes from the name labels, else the owner', async () => {
  const inventory = await shop();
  assert.equal(workload(inventory, 'shop/orders-5b7f9c8d6c-q4kzm').service, 'orders');
  assert.equal(workload(inventory, 'kube-system/kube-proxy-7xw2b').service, 'kube-proxy');
  assert.equal(workload(inventory, 'data/db-migrate-28571040-t8m4d').service, 'db-migrate-28571040');
});

test('nodes are known by the host IPs of their pods', async () => {
  const nodes = (await shop()).nodes.map((n) => [n.name, n.addresses]);
  assert.deepEqual(nodes.sort(), [
    ['node-1', ['10.200.0.11']],
    ['node-2', ['10.200.0.12']],
    ['node-3', ['10.200.0.13']],
  ]);
});

test('namespaces keep their labels', async () => {
  const ns = (await shop()).namespaces.find((n) => n.name === 'shop');
  assert.equal(ns?.labels['team'], 'storefront');
});

test('services keep ports with lower-case protocols, and a headless service has no cluster IP', async () => {
  const inventory = await shop();
  const dns = inventory.services.find((s) => s.name === 'kube-dns');
  assert.deepEqual(dns?.ports.map((p) => `${p.protocol}/${p.port}`), ['udp/53', 'tcp/53']);
  assert.deepEqual(dns?.clusterIPs, ['10.200.100.2']);
  assert.deepEqual(inventory.services.find((s) => s.name === 'postgres-headless')?.clusterIPs, []);
});

test('a Deployment named by listed ReplicaSet items wins over the name pattern', () => {
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        kind: 'ReplicaSet',
        metadata: { name: 'checkout-abc', namespace: 'shop', ownerReferences: [{ kind: 'Deployment', name: 'checkout', controller: true }] },
      },
      {
        kind: 'Pod',
        metadata: { name: 'checkout-abc-1', namespace: 'shop', ownerReferences: [{ kind: 'ReplicaSet', name: 'checkout-abc', controller: true }] },
        spec: { containers: [{ name: 'c', image: 'checkout:1' }] },
        status: {},
      },
    ],
  };
  const { inventory } = parseInventory('list.json', JSON.stringify(list));
  assert.equal(inventory.workloads[0]?.kind, 'Deployment');
  assert.equal(inventory.workloads[0]?.service, 'checkout');
});

test('a pod without a name is reported at its metadata with the line it is on', () => {
  const text = '{"apiVersion": "v1", "kind": "List", "items": [\n  {"kind": "Pod",\n   "metadata": {"namespace": "shop"}}\n]}\n';
  const { inventory, diagnostics } = parseInventory('pods.json', text);
  assert.equal(inventory.workloads.length, 0);
  assert.equal(diagnostics.length, 1);
  assert.equal(diagnostics[0]?.code, 'schema');
  assert.equal(diagnostics[0]?.line, 3);
  assert.equal(diagnostics[0]?.path, 'items[0].metadata');
  assert.match(diagnostics[0]?.message ?? '', /has no name/);
});

test('a bad pod IP is reported at its field', () => {
  const text = JSON.stringify(
    { apiVersion: 'v1', kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'p' }, status: { podIPs: [{ ip: '10.0.0.300' }] } }] },
    null,
    2,
  );
  const { diagnostics } = parseInventory('pods.json', text);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.path]),
    [['bad-address', 'items[0].status.podIPs[0].ip']],
  );
});
