// The Cilium, Calico and Istio writers on one small policy (exact manifests and loss lines), the
// details each target has of its own, and every target's manifests valid on random policies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compile } from '../../src/policy/compile.js';
import { exportPolicy, type ExportResult } from '../../src/export/export.js';
import { calicoSelector } from '../../src/export/calico.js';
import { formatLoss, TARGETS, type Target } from '../../src/export/report.js';
import type { Policy } from '../../src/model/policy.js';
import { app, group, inventory, policy, rule, tcp } from '../policy/engine/fixtures.js';
import { arbitraryInventory, arbitraryPolicy } from './arbitrary.js';
import { loadShop } from '../policy/analyze/shop.js';

const none = inventory([]);
const managed = { 'app.kubernetes.io/managed-by': 'palisade' };
const exportTo = (target: Target, p: Policy): ExportResult => exportPolicy(target, p, none, compile(p, none));

/** web (in shop) → api over HTTP on 8080-8081; api may not reach the outside, but may reach stripe by name. */
const small = policy(
  [group('web', [app('web'), { kind: 'namespace', name: 'shop' }]), group('api', [app('api')]), group('stripe', [{ kind: 'fqdn', pattern: 'api.stripe.example' }])],
  [rule('web-to-api', 'web', 'api', { ports: [tcp(8080, 8081)], applications: ['http'] }), rule('no-egress', 'api', 'external', { action: 'deny', priority: 1 }), rule('pay', 'api', 'stripe', { ports: [tcp(443)], priority: 2 })],
);

test('Cilium: HTTP rules at the server, egressDeny to the world, toFQDNs with DNS visibility', () => {
  const { manifests, losses } = exportTo('cilium', small);
  assert.deepEqual(manifests, [
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name: 'palisade-api', labels: managed },
      spec: {
        endpointSelector: { matchLabels: { app: 'api' } },
        ingress: [{ fromEndpoints: [{ matchLabels: { app: 'web', 'k8s:io.kubernetes.pod.namespace': 'shop' } }], toPorts: [{ ports: [{ port: '8080', endPort: 8081, protocol: 'TCP' }], rules: { http: [{}] } }] }],
        egress: [
          { toFQDNs: [{ matchName: 'api.stripe.example' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
          { toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] },
        ],
        egressDeny: [{ toEntities: ['world'] }],
      },
    },
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'palisade-web', namespace: 'shop', labels: managed },
      spec: {
        endpointSelector: { matchLabels: { app: 'web' } },
        egress: [{ toEndpoints: [{ matchLabels: { app: 'api' }, matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists' }] }], toPorts: [{ ports: [{ port: '8080', endPort: 8081, protocol: 'TCP' }] }] }],
      },
    },
  ]);
  assert.deepEqual(losses.map(formatLoss), [
    'rule no-egress: deny at priority 1 also outranks the allow rules [pay]: Cilium applies every deny before any allow',
    'group api: egress to kube-dns on port 53 added: toFQDNs learns addresses only from DNS answers Cilium sees',
  ]);
});

test('Cilium: Kafka gets kafka rules, DNS gets dns rules at the client, and other applications are L4 only', () => {
  const p = policy(
    [group('app', [app('shop')]), group('kafka', [app('kafka')]), group('dns', [app('dns')]), group('db', [app('db')])],
    [
      rule('produce', 'app', 'kafka', { ports: [tcp(9092)], applications: ['kafka'] }),
      rule('resolve', 'app', 'dns', { ports: [{ proto: 'udp', first: 53, last: 53 }], applications: ['dns'] }),
      rule('query', 'app', 'db', { ports: [tcp(5432)], applications: ['postgresql'] }),
    ],
  );
  const { manifests, losses } = exportTo('cilium', p);
  const byName = new Map(manifests.map((m) => [m.metadata.name, m.spec]));
  assert.deepEqual((byName.get('palisade-kafka')?.['ingress'] as { toPorts: unknown }[])[0]?.toPorts, [{ ports: [{ port: '9092', protocol: 'TCP' }], rules: { kafka: [{}] } }]);
  const egress = byName.get('palisade-app')?.['egress'] as { toPorts: unknown }[];
  assert.deepEqual(egress[1]?.toPorts, [{ ports: [{ port: '53', protocol: 'UDP' }], rules: { dns: [{ matchPattern: '*' }] } }]);
  assert.deepEqual(losses.map(formatLoss), ['rule query: applications [PostgreSQL] enforced at L4 only: Cilium parses HTTP, Kafka and DNS, one of them per port']);
});

test('Calico: order from priority, Deny to non-endpoints, selector expressions and namespaceSelector', () => {
  const { manifests, losses } = exportTo('calico', small);
  assert.deepEqual(manifests, [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'palisade-api-200', labels: managed },
      spec: {
        order: 200,
        selector: "app == 'api'",
        types: ['Egress'],
        egress: [{ action: 'Deny', destination: { nets: ['0.0.0.0/0', '::/0'], notSelector: 'all()' }, metadata: { annotations: { 'palisade.dev/rule': 'no-egress' } } }],
      },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'palisade-api-300', labels: managed },
      spec: {
        order: 300,
        selector: "app == 'api'",
        types: ['Ingress'],
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: "app == 'web'", namespaceSelector: "projectcalico.org/name == 'shop'" },
            destination: { ports: ['8080:8081'] },
            metadata: { annotations: { 'palisade.dev/rule': 'web-to-api' } },
          },
        ],
      },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'palisade-web-300', namespace: 'shop', labels: managed },
      spec: {
        order: 300,
        selector: "app == 'web'",
        types: ['Egress'],
        egress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            destination: { selector: "app == 'api'", namespaceSelector: 'all()', ports: ['8080:8081'] },
            metadata: { annotations: { 'palisade.dev/rule': 'web-to-api' } },
          },
        ],
      },
    },
  ]);
  assert.deepEqual(losses.map(formatLoss), [
    'rule web-to-api: applications [HTTP] dropped: Calico policies are L3/L4 without its application layer, the ports are allowed for any application',
    'rule pay: fqdn api.stripe.example dropped: Calico open source has no DNS name match',
  ]);
});

test('Calico: a deny and an allow of one priority share a policy, the deny first', () => {
  const p = policy([group('a', [app('a')]), group('b', [app('b')])], [rule('allow-all', 'a', 'b'), rule('deny-ssh', 'a', 'b', { action: 'deny', ports: [tcp(22)] })]);
  const [b] = exportTo('calico', p).manifests.filter((m) => m.metadata.name.startsWith('palisade-b'));
  assert.deepEqual(
    (b?.spec['ingress'] as { action: string }[]).map((r) => r.action),
    ['Deny', 'Allow'],
  );
});

test('Calico selector syntax: equality, inequality, has() and in {}', () => {
  assert.equal(
    calicoSelector([
      { key: 'app', op: 'eq', values: ['web'] },
      { key: 'tier', op: 'neq', values: ["o'brien"] },
      { key: 'pci', op: 'exists', values: [] },
      { key: 'zone', op: 'in', values: ['a', 'b'] },
    ]),
    "app == 'web' && tier != 'o\\'brien' && has(pci) && zone in {'a', 'b'}",
  );
  assert.equal(calicoSelector([]), 'all()');
});

test('Istio: an ALLOW policy at the server with the source namespace and the TCP ports', () => {
  const { manifests, losses } = exportTo('istio', small);
  assert.deepEqual(manifests, [
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'palisade-api-allow', namespace: 'istio-system', labels: managed },
      spec: { selector: { matchLabels: { app: 'api' } }, action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['shop'] } }], to: [{ operation: { ports: ['8080', '8081'] } }] }] },
    },
  ]);
  assert.deepEqual(losses.map(formatLoss), [
    'rule web-to-api: source web widened to its namespaces [shop]: Istio knows clients by service account and namespace, not by labels',
    "rule no-egress: rules into external dropped: Istio authorizes at the server's sidecar and external has none",
    "group stripe: selector fqdn api.stripe.example as a destination dropped: Istio authorizes at workloads' sidecars, not at addresses",
    'rule no-egress: deny at priority 1 also outranks the allow rules [pay]: Istio applies DENY policies before ALLOW',
  ]);
});

test('Istio: a non-HTTP TCP rule becomes a port-only DENY rule, UDP is reported', () => {
  const p = policy(
    [group('db', [app('db'), { kind: 'namespace', name: 'data' }])],
    [rule('no-pg', 'external', 'db', { action: 'deny', ports: [tcp(5432), { proto: 'udp', first: 53, last: 53 }], applications: ['postgresql'] })],
  );
  const { manifests, losses } = exportTo('istio', p);
  assert.deepEqual(manifests.map((m) => [m.metadata.namespace, m.spec]), [
    ['data', { selector: { matchLabels: { app: 'db' } }, action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { ports: ['5432'] } }] }] }],
  ]);
  assert.deepEqual(losses.map(formatLoss), [
    'rule no-pg: applications [PostgreSQL] dropped: Istio authorizes them as TCP by port only',
    "rule no-pg: ports [udp/53] dropped: Istio's sidecars authorize TCP only",
  ]);
});

test('every target writes the shop with manifests its schema accepts', async () => {
  const { policy: shop, inventory: inv } = await loadShop();
  for (const target of TARGETS) assert.ok(exportPolicy(target, shop, inv, compile(shop, inv)).manifests.length > 0, target);
});

test('every target writes valid manifests for random policies (property)', () => {
  const policies = arbitraryPolicy({ extended: true, deny: true, reserved: ['any', 'workloads', 'external', 'nodes'], modes: true, applications: ['http', 'kafka', 'dns', 'postgresql'] });
  fc.assert(
    fc.property(policies, arbitraryInventory, fc.constantFrom(...TARGETS), (p, inv, target) => {
      exportPolicy(target, p, inv, compile(p, inv));
    }),
    { numRuns: 200 },
  );
});
