import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DnsNames } from '../../src/dpi/dns-names.js';
import { connectionOf, Learner } from '../../src/learn/learn.js';
import type { Flow, IpProto } from '../../src/model/flow.js';
import type { Inventory, Workload } from '../../src/model/workload.js';
import { compile } from '../../src/policy/compile.js';
import { parsePolicyText } from '../../src/policy/document/load.js';

// Random small clusters and traffic between their workloads, nodes and external addresses.
interface Traffic {
  inventory: Inventory;
  flows: Flow[];
  names: { ip: string; name: string }[];
}

const APPS = ['http', 'tls', 'dns', 'ssh', 'unknown'] as const;
const PROTOS: IpProto[] = ['tcp', 'udp', 'icmp', 'other'];

const traffic: fc.Arbitrary<Traffic> = fc
  .record({
    services: fc.array(fc.record({ ns: fc.constantFrom('shop', 'data', 'kube-system'), replicas: fc.integer({ min: 1, max: 3 }), hash: fc.constantFrom('a1b2', 'c3d4', 'e5f6') }), { minLength: 1, maxLength: 6 }),
    externals: fc.integer({ min: 0, max: 3 }),
    named: fc.array(fc.constantFrom('api.example.com', 'cdn.example.net', 'a.example.org'), { maxLength: 3 }),
    flows: fc.array(
      fc.record({
        client: fc.nat(),
        server: fc.nat(),
        proto: fc.constantFrom(...PROTOS),
        port: fc.oneof(fc.constantFrom(53, 80, 443, 5432, 8080), fc.integer({ min: 1, max: 65535 })),
        app: fc.constantFrom(...APPS),
        minute: fc.integer({ min: 0, max: 120 }),
      }),
      { minLength: 1, maxLength: 60 },
    ),
  })
  .map(({ services, externals, named, flows }) => {
    const workloads: Workload[] = [];
    services.forEach((s, i) => {
      for (let r = 0; r < s.replicas; r++) {
        workloads.push({
          id: `${s.ns}/svc${i}-${r}`,
          name: `svc${i}-${r}`,
          namespace: s.ns,
          kind: 'Deployment',
          labels: { app: `svc${i}`, 'pod-template-hash': `${s.hash}${r}` },
          node: 'node-1',
          image: 'img',
          service: `svc${i}`,
          addresses: [{ ip: `10.1.${i}.${r + 1}` }],
        });
      }
    });
    const inventory: Inventory = { workloads, namespaces: [], nodes: [{ name: 'node-1', addresses: ['10.0.0.1'] }], services: [] };
    const ips = [...workloads.map((w) => (w.addresses[0] as { ip: string }).ip), '10.0.0.1'];
    for (let e = 0; e < externals; e++) ips.push(`198.51.100.${e + 1}`);
    const names = named.flatMap((name, i) => (i < externals ? [{ ip: `198.51.100.${i + 1}`, name }] : []));
    const t0 = Date.parse('2026-01-10T10:00:00Z');
    const out: Flow[] = flows.map((f, i) => {
      const at = new Date(t0 + f.minute * 60_000).toISOString();
      const app = f.app === 'dns' || f.proto === 'icmp' || f.proto === 'other' ? 'unknown' : f.app;
      return {
        id: String(i),
        firstSeen: at,
        lastSeen: at,
        ipProto: f.proto,
        client: { ip: ips[f.client % ips.length] as string, port: f.proto === 'icmp' || f.proto === 'other' ? 0 : 40000 + i },
        server: { ip: ips[f.server % ips.length] as string, port: f.proto === 'icmp' ? 8 : f.proto === 'other' ? 0 : f.port },
        app: f.port === 53 && f.proto === 'udp' ? 'dns' : app,
        appConfidence: (f.port === 53 && f.proto === 'udp') || app !== 'unknown' ? 'dpi' : 'none',
        meta: {},
        c2s: { packets: 1, bytes: 100 },
        s2c: { packets: 1, bytes: 100 },
      };
    });
    return { inventory, flows: out, names };
  });

function learnAndReplay(t: Traffic): { violations: string[]; unused: string[]; errors: string[] } {
  const dns = new DnsNames();
  dns.learn(t.names.map(({ ip, name }) => ({ name, type: 'A', value: ip, ttl: 60 })));
  const learner = new Learner(t.inventory, { stableAfterMs: 600_000, dns });
  for (const f of t.flows) learner.add(f);
  const { policy, diagnostics } = parsePolicyText(learner.result().text, 'learned.yaml');
  const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  // Every learned group in protect, so a flow the policy does not allow shows up as a violation.
  for (const g of policy.groups) if (g.reserved !== true) g.mode = 'protect';
  const compiled = compile(policy, t.inventory);
  const deciding = new Set<string>();
  const violations: string[] = [];
  for (const f of t.flows) {
    const v = compiled.decide(connectionOf(f), dns);
    deciding.add(v.ruleId);
    if (v.violation || !v.allowed) violations.push(`${f.ipProto} ${f.client.ip} -> ${f.server.ip}:${f.server.port} ${f.app}: ${v.reason}`);
  }
  const unused = policy.rules.map((r) => r.id).filter((id) => !deciding.has(id));
  return { violations, unused, errors };
}

test('the policy learned from traffic allows every flow of that traffic, and every learned rule decides one of them', () => {
  fc.assert(
    fc.property(traffic, (t) => {
      const { violations, unused, errors } = learnAndReplay(t);
      assert.deepEqual(errors, []);
      assert.deepEqual(violations, []);
      assert.deepEqual(unused, []);
    }),
    { numRuns: 200 },
  );
});
