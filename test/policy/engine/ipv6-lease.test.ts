// Found by the agreement property test: an IPv6 address some workload leased at another time is,
// outside that lease, an external endpoint, and address groups must still see it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../../src/policy/compile.js';
import type { Policy } from '../../../src/model/policy.js';
import type { Inventory } from '../../../src/model/workload.js';
import { referenceDecide } from './reference.js';

const policy: Policy = {
  groups: [{ name: 'lab-v6', selectors: [{ criteria: [{ kind: 'address', spec: 'fd00::/64' }] }] }],
  rules: [
    { id: 'r1', from: ['lab-v6'], to: ['any'], ports: [], applications: [], action: 'allow', priority: 0, source: 'user' },
    { id: 'r3', from: ['external'], to: ['any'], ports: [], applications: [], action: 'allow', priority: 0, source: 'user' },
  ],
  defaultMode: 'discover',
};
const inventory: Inventory = {
  workloads: [
    {
      id: 'a/api-1', name: 'api', namespace: 'a', kind: 'Pod', labels: {}, node: 'n1', image: 'reg/api:1', service: 'api',
      addresses: [{ ip: 'fd00:0:0::1', since: '1970-01-01T00:00:00.300Z' }],
    },
  ],
  namespaces: [],
  nodes: [],
  services: [],
};

test('an IPv6 address before its lease starts is external and still in the address groups that cover it', () => {
  const now = (): number => 150;
  const conn = { ipProto: 'tcp' as const, client: { ip: 'fd00::1', port: 0 }, server: { ip: '10.0.0.1', port: 0 } };
  const verdict = compile(policy, inventory, { now }).decide(conn);
  assert.equal(verdict.ruleId, 'r1');
  assert.deepEqual(verdict, referenceDecide(policy, inventory, conn, undefined, now));
});
