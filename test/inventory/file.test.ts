import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';

const shopInventory = fileURLToPath(new URL('../../examples/shop/inventory.yaml', import.meta.url));

function codes(text: string): string[][] {
  return parseInventory('inv.yaml', text).diagnostics.map((d) => [d.code, `${d.line}:${d.col}`, d.path]);
}

test('the shop example inventory reads without findings', async () => {
  const { inventory, diagnostics } = await loadInventory(shopInventory);
  assert.deepEqual(diagnostics, []);
  assert.equal(inventory.workloads.length, 8);
  assert.equal(inventory.namespaces.find((n) => n.name === 'payments')?.labels['pci'], 'cde');
});

test('a workload gets id namespace/name, namespace default and kind Pod when not written', () => {
  const { inventory } = parseInventory('inv.yaml', 'workloads:\n  - name: cache\n');
  const w = inventory.workloads[0];
  assert.equal(w?.id, 'default/cache');
  assert.equal(w?.namespace, 'default');
  assert.equal(w?.kind, 'Pod');
});

test('a written id is kept', () => {
  const { inventory } = parseInventory('inv.yaml', 'workloads:\n  - { id: vm-17, name: billing }\n');
  assert.equal(inventory.workloads[0]?.id, 'vm-17');
});

test('an unwritten service comes from a selecting service, else the app label, else the name', () => {
  const text = [
    'services:',
    '  - { name: storefront, namespace: shop, selector: { app: web } }',
    'workloads:',
    '  - { name: web-1, namespace: shop, labels: { app: web } }',
    '  - { name: api-1, namespace: shop, labels: { app: api } }',
    '  - { name: batch, namespace: shop }',
  ].join('\n');
  const { inventory } = parseInventory('inv.yaml', text);
  assert.deepEqual(inventory.workloads.map((w) => w.service), ['storefront', 'api', 'batch']);
});

test('addresses may be plain strings or leases with since and until', () => {
  const text = [
    'workloads:',
    '  - name: a',
    '    addresses:',
    '      - 10.200.1.5',
    '      - { ip: "::ffff:10.200.1.6", since: "2024-05-01T00:00:00Z", until: "2024-05-02T00:00:00+02:00" }',
  ].join('\n');
  const { inventory, diagnostics } = parseInventory('inv.yaml', text);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(inventory.workloads[0]?.addresses, [
    { ip: '10.200.1.5' },
    { ip: '10.200.1.6', since: '2024-05-01T00:00:00.000Z', until: '2024-05-01T22:00:00.000Z' },
  ]);
});

test('labels written as numbers or booleans are read as strings', () => {
  const { inventory } = parseInventory('inv.yaml', 'workloads:\n  - { name: a, labels: { tier: 1, canary: true } }\n');
  assert.deepEqual(inventory.workloads[0]?.labels, { tier: '1', canary: 'true' });
});

test('a workload without a name is reported at the workload', () => {
  assert.deepEqual(codes('workloads:\n  - namespace: shop\n'), [['schema', '2:5', 'workloads[0]']]);
});

test('a field of the wrong type is reported at that field', () => {
  assert.deepEqual(codes('workloads:\n  - name: a\n    labels: [app]\n'), [['schema', '3:13', 'workloads[0].labels']]);
});

test('an unknown field is reported at its key with the closest known field', () => {
  const { diagnostics } = parseInventory('inv.yaml', 'workloads:\n  - name: a\n    namspace: shop\n');
  assert.equal(diagnostics.length, 1);
  assert.equal(diagnostics[0]?.code, 'unknown-field');
  assert.equal(diagnostics[0]?.line, 3);
  assert.equal(diagnostics[0]?.col, 5);
  assert.equal(diagnostics[0]?.hint, 'did you mean "namespace"?');
});

test('an address that is no IP is reported and the workload is kept without it', () => {
  const { inventory, diagnostics } = parseInventory('inv.yaml', 'workloads:\n  - name: a\n    addresses: [10.200.1.5, 10.200.1]\n');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]), [['bad-address', 'workloads[0].addresses[1]']]);
  assert.deepEqual(inventory.workloads[0]?.addresses, [{ ip: '10.200.1.5' }]);
});

test('a lease time without a zone is refused', () => {
  const text = 'workloads:\n  - name: a\n    addresses: [{ ip: 10.200.1.5, since: "2024-05-01 10:00" }]\n';
  assert.deepEqual(codes(text).map((c) => c[0]), ['bad-time']);
});

test('a lease that ends before it starts is refused', () => {
  const text = 'workloads:\n  - name: a\n    addresses: [{ ip: 10.200.1.5, since: "2024-05-02T00:00:00Z", until: "2024-05-01T00:00:00Z" }]\n';
  assert.deepEqual(codes(text).map((c) => c[0]), ['bad-time']);
});

test('two workloads with one id are reported at the second, naming the first', () => {
  const { diagnostics } = parseInventory('inv.yaml', 'workloads:\n  - name: a\n  - name: a\n');
  assert.equal(diagnostics.length, 1);
  assert.equal(diagnostics[0]?.code, 'duplicate-workload');
  assert.equal(diagnostics[0]?.path, 'workloads[1]');
  assert.match(diagnostics[0]?.message ?? '', /workloads\[0\]/);
});

test('one address held by two workloads at the same time is a conflict', () => {
  const text = 'workloads:\n  - { name: a, addresses: [10.200.1.5] }\n  - { name: b, addresses: [10.200.1.5] }\n';
  assert.deepEqual(codes(text), [['address-conflict', '3:5', 'workloads[1]']]);
});

test('one address held by two workloads one after the other is no conflict', () => {
  const text = [
    'workloads:',
    '  - { name: a, addresses: [{ ip: 10.200.1.5, until: "2024-05-01T12:00:00Z" }] }',
    '  - { name: b, addresses: [{ ip: 10.200.1.5, since: "2024-05-01T12:00:00Z" }] }',
  ].join('\n');
  assert.deepEqual(codes(text), []);
});

test('malformed YAML is reported with its line', () => {
  const found = codes('workloads:\n  - name: [a\n');
  assert.equal(found[0]?.[0], 'yaml-syntax');
});

test('a file in neither format is reported as such', () => {
  assert.deepEqual(codes('apiVersion: v1\nkind: Pod\n').map((c) => c[0]), ['unknown-format']);
});

test('a missing file is reported, not thrown', async () => {
  const { diagnostics } = await loadInventory('/nonexistent/inventory.yaml');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.file]), [['unreadable', '/nonexistent/inventory.yaml']]);
});

test('every problem of a file is reported at once', () => {
  const text = 'workloads:\n  - name: a\n    addresses: [bad]\n  - kind: Pod\n  - name: c\n    node: [x]\n';
  assert.equal(parseInventory('inv.yaml', text).diagnostics.length, 3);
});

test('a file whose aliases expand without bound is refused, not expanded', () => {
  // Each level lists the previous one ten times: 10^13 values if it were expanded.
  const level = (n: number): string => `l${n}`;
  const lines = [`${level(0)}: &${level(0)} [x, x, x, x, x, x, x, x, x, x]`];
  for (let n = 1; n <= 12; n++) lines.push(`${level(n)}: &${level(n)} [${Array(10).fill(`*${level(n - 1)}`).join(', ')}]`);
  lines.push(`workloads: [{ name: w, labels: { x: *${level(12)} } }]`);
  const { diagnostics } = parseInventory('bomb.yaml', lines.join('\n'));
  assert.deepEqual(diagnostics.map((d) => d.code), ['yaml-syntax']);
});

test('a service port with an unknown protocol or no number is reported at that field', () => {
  const text = 'services:\n  - name: web\n    ports:\n      - { protocol: http, port: 80 }\n      - { protocol: tcp, port: "eighty" }\n';
  assert.deepEqual(codes(text).map((c) => [c[0], c[2]]), [
    ['schema', 'services[0].ports[0].protocol'],
    ['schema', 'services[0].ports[1].port'],
  ]);
});

test('node and cluster addresses are read in canonical form', () => {
  const text = 'nodes:\n  - { name: n1, addresses: ["::ffff:10.200.0.11"] }\nservices:\n  - { name: s, clusterIPs: [FD00::0:1] }\n';
  const { inventory, diagnostics } = parseInventory('inv.yaml', text);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(inventory.nodes[0]?.addresses, ['10.200.0.11']);
  assert.deepEqual(inventory.services[0]?.clusterIPs, ['fd00::1']);
});
