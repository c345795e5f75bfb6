// `export --verify`: the NetworkPolicy export, read back by the NetworkPolicy reader, allows
// exactly what the Palisade policy enforces, on the shop and on random policies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compile } from '../../src/policy/compile.js';
import { writeNetworkPolicies } from '../../src/export/networkpolicy.js';
import { formatDifference, verifyNetworkPolicies } from '../../src/export/verify.js';
import type { Manifest } from '../../src/export/manifest.js';
import { arbitraryInventory, arbitraryPolicy } from './arbitrary.js';
import { loadShop } from '../policy/analyze/shop.js';

test('the shop export allows exactly what the shop policy enforces', async () => {
  const { policy, inventory } = await loadShop();
  const compiled = compile(policy, inventory);
  const { manifests } = writeNetworkPolicies(policy, inventory, compiled);
  const result = verifyNetworkPolicies(policy, inventory, compiled, manifests);
  assert.deepEqual(result.differences.map(formatDifference), []);
  assert.ok(result.pairs > 100);
});

test('a NetworkPolicy that allows too much is reported as a difference with both sides', async () => {
  const { policy, inventory } = await loadShop();
  const compiled = compile(policy, inventory);
  const { manifests } = writeNetworkPolicies(policy, inventory, compiled);
  const redis = manifests.find((m) => m.metadata.name === 'palisade-redis') as Manifest;
  const widened: Manifest = { ...redis, spec: { ...redis.spec, ingress: [{}] } };
  const result = verifyNetworkPolicies(policy, inventory, compiled, manifests.map((m) => (m === redis ? widened : m)));
  const lines = result.differences.map(formatDifference);
  // Workloads stay held back by their own egress policies; addresses outside the cluster do not.
  assert.ok(lines.includes('0.0.0.0-10.200.0.10 => data/redis: expected nothing, got All Connections'), lines.join('\n'));
  assert.equal(lines.length, 5, lines.join('\n'));
});

test('an ipBlock cutting inside a range the policy treats alike is compared part by part', async () => {
  const { policy, inventory } = await loadShop();
  const compiled = compile(policy, inventory);
  const { manifests } = writeNetworkPolicies(policy, inventory, compiled);
  const web = manifests.find((m) => m.metadata.name === 'palisade-web') as Manifest;
  const edited: Manifest = { ...web, spec: { ...web.spec, ingress: [...(web.spec['ingress'] as object[]), { from: [{ ipBlock: { cidr: '1.2.3.0/24' } }] }] } };
  const lines = verifyNetworkPolicies(policy, inventory, compiled, manifests.map((m) => (m === web ? edited : m))).differences.map(formatDifference);
  assert.deepEqual(lines, ['1.2.3.0-1.2.3.255 => shop/web: expected TCP 8080, got All Connections']);
});

test('random policies with denies, priorities, address, node and image groups export exactly (property)', () => {
  const policies = arbitraryPolicy({ extended: true, deny: true, reserved: ['any', 'workloads', 'external', 'nodes'], modes: true, applications: ['http'] });
  fc.assert(
    fc.property(policies, arbitraryInventory, (policy, inventory) => {
      const compiled = compile(policy, inventory);
      const { manifests } = writeNetworkPolicies(policy, inventory, compiled);
      const { differences } = verifyNetworkPolicies(policy, inventory, compiled, manifests);
      assert.deepEqual(differences.map(formatDifference), []);
    }),
    { numRuns: 300 },
  );
});

test('random allow-only policies over labels and namespaces export rule by rule, exactly (property)', () => {
  const policies = arbitraryPolicy({ extended: false, deny: false, reserved: ['any', 'workloads', 'external', 'nodes'], modes: false, applications: ['http'] });
  fc.assert(
    fc.property(policies, arbitraryInventory, (policy, inventory) => {
      const compiled = compile(policy, inventory);
      const { manifests } = writeNetworkPolicies(policy, inventory, compiled);
      assert.ok(manifests.some((m) => m.metadata.name === 'palisade-default-deny'), 'written rule by rule');
      const { differences } = verifyNetworkPolicies(policy, inventory, compiled, manifests);
      assert.deepEqual(differences.map(formatDifference), []);
    }),
    { numRuns: 300 },
  );
});
