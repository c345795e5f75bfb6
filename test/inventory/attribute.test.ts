import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressIndex } from '../../src/inventory/attribute.js';
import { classifyEndpoint } from '../../src/policy/select.js';
import type { Inventory, Workload } from '../../src/model/workload.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (m: number): string => new Date(T0 + m * 60_000).toISOString();

function workload(name: string, addresses: Workload['addresses']): Workload {
  return { id: `shop/${name}`, name, namespace: 'shop', kind: 'Pod', labels: {}, node: 'n1', image: 'x', service: name, addresses };
}

test('a reused address belongs to whichever workload held it at that time', () => {
  const inv: Inventory = {
    workloads: [
      workload('old', [{ ip: '10.200.0.5', until: iso(10) }]),
      workload('new', [{ ip: '10.200.0.5', since: iso(10) }]),
    ],
    namespaces: [],
    nodes: [],
    services: [],
  };
  const idx = new AddressIndex(inv);
  const holder = (m: number): string | undefined => {
    const a = idx.at('10.200.0.5', T0 + m * 60_000);
    return a.kind === 'workload' ? a.workload.name : undefined;
  };
  assert.equal(holder(5), 'old');
  assert.equal(holder(10), 'new');
});

test('an address held by no workload but by a node is the node, else external', () => {
  const inv: Inventory = { workloads: [], namespaces: [], nodes: [{ name: 'n1', addresses: ['10.200.0.1'] }], services: [] };
  const idx = new AddressIndex(inv);
  assert.equal(idx.at('10.200.0.1', T0).kind, 'node');
  assert.equal(idx.at('10.200.0.2', T0).kind, 'external');
});

test('the index agrees with classifyEndpoint on random leases and times', () => {
  const ips = ['10.200.0.1', '10.200.0.2', '::ffff:10.200.0.3', 'fd00::1'];
  const lease = fc.record(
    { ip: fc.constantFrom(...ips), since: fc.option(fc.integer({ min: 0, max: 20 })), until: fc.option(fc.integer({ min: 0, max: 20 })) },
    { requiredKeys: ['ip'] },
  );
  fc.assert(
    fc.property(
      fc.array(fc.array(lease, { maxLength: 3 }), { maxLength: 5 }),
      fc.constantFrom(...ips, '10.200.0.3'),
      fc.integer({ min: -1, max: 21 }),
      (wls, ip, minute) => {
        const inv: Inventory = {
          workloads: wls.map((ls, i) =>
            workload(`w${i}`, ls.map((l) => ({ ip: l.ip, ...(l.since != null ? { since: iso(l.since) } : {}), ...(l.until != null ? { until: iso(l.until) } : {}) }))),
          ),
          namespaces: [],
          nodes: [{ name: 'n1', addresses: ['10.200.0.2'] }],
          services: [],
        };
        const t = T0 + minute * 60_000;
        const want = classifyEndpoint(inv, ip, t);
        const got = new AddressIndex(inv).at(ip, t);
        assert.equal(got.kind, want.kind);
        if (got.kind === 'workload' && want.kind === 'workload') assert.equal(got.workload, want.workload);
      },
    ),
  );
});
