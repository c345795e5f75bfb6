import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsNames } from '../../src/dpi/dns-names.js';
import { readFlowSource } from '../../src/dpi/sources.js';
import { loadInventory } from '../../src/inventory/load.js';
import { GraphBuilder } from '../../src/learn/graph.js';
import { connectionOf, Learner, type LearnResult } from '../../src/learn/learn.js';
import { collapsePorts } from '../../src/learn/propose.js';
import type { Flow } from '../../src/model/flow.js';
import type { Policy } from '../../src/model/policy.js';
import type { Inventory } from '../../src/model/workload.js';
import { compile } from '../../src/policy/compile.js';
import { loadPolicy, parsePolicyText } from '../../src/policy/document/load.js';

const FIXTURES = 'test/fixtures/learn';

async function fixture(): Promise<{ inventory: Inventory; flows: Flow[]; dns: DnsNames }> {
  const { inventory, diagnostics } = await loadInventory(join(FIXTURES, 'inventory.yaml'));
  assert.deepEqual(diagnostics, []);
  const dns = new DnsNames();
  const flows: Flow[] = [];
  await readFlowSource(join(FIXTURES, 'flows.jsonl'), (f) => flows.push(f), { dns });
  return { inventory, flows, dns };
}

async function learned(opts: { stableAfterMs?: number; existing?: Policy; flows?: (f: Flow[]) => Flow[]; noDns?: boolean } = {}): Promise<LearnResult> {
  const { inventory, flows, dns } = await fixture();
  const base = { stableAfterMs: opts.stableAfterMs ?? 600_000, dns: opts.noDns === true ? new DnsNames() : dns };
  const learner = new Learner(inventory, opts.existing === undefined ? base : { ...base, existing: opts.existing });
  for (const f of opts.flows ? opts.flows(flows) : flows) learner.add(f);
  return learner.result();
}

test('the learned policy file loads with loadPolicy without any error or warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-learn-'));
  const path = join(dir, 'learned.yaml');
  writeFileSync(path, (await learned()).text);
  const { policy, diagnostics } = await loadPolicy([path]);
  assert.deepEqual(diagnostics, []);
  assert.equal(policy.rules.length, 6);
  assert.ok(policy.rules.every((r) => r.source === 'learned' && r.action === 'allow'));
});

test('a service group selects by namespace and stable labels, never by pod-template-hash or other volatile labels', async () => {
  const { policy } = parsePolicyText((await learned()).text, 'learned.yaml');
  const db = policy.groups.find((g) => g.name === 'shop.db');
  assert.ok(db);
  const keys = db.selectors.flatMap((s) => s.criteria.flatMap((c) => (c.kind === 'label' ? [c.req.key] : [])));
  assert.deepEqual(keys, ['app']);
  const web = policy.groups.find((g) => g.name === 'shop.web');
  const webKeys = web?.selectors.flatMap((s) => s.criteria.flatMap((c) => (c.kind === 'label' ? [c.req.key] : [])));
  assert.ok(webKeys !== undefined && !webKeys.includes('pod-template-hash') && !webKeys.includes('version'));
});

test('a service picked by a Kubernetes Service selects by that Service\'s selector', async () => {
  const { policy } = parsePolicyText((await learned()).text, 'learned.yaml');
  const api = policy.groups.find((g) => g.name === 'shop.api');
  assert.deepEqual(api?.selectors[0]?.criteria, [
    { kind: 'namespace', name: 'shop' },
    { kind: 'label', req: { key: 'app', op: 'eq', values: ['api'] } },
  ]);
});

test('egress to an external address is allowed by the FQDN its address was resolved from', async () => {
  const { policy } = parsePolicyText((await learned()).text, 'learned.yaml');
  const group = policy.groups.find((g) => g.name === 'fqdn-pay.example.com');
  assert.deepEqual(group?.selectors[0]?.criteria, [{ kind: 'fqdn', pattern: 'pay.example.com' }]);
  assert.ok(policy.rules.some((r) => r.from[0] === 'shop.api' && r.to[0] === 'fqdn-pay.example.com'));
});

test('an external address no DNS answer named is allowed by its address', async () => {
  const { policy } = parsePolicyText((await learned({ noDns: true })).text, 'learned.yaml');
  const group = policy.groups.find((g) => g.name === 'addr-198.51.100.7');
  assert.deepEqual(group?.selectors[0]?.criteria, [{ kind: 'address', spec: '198.51.100.7' }]);
});

test('ingress from external is proposed only to the service it was seen reaching', async () => {
  const { policy } = parsePolicyText((await learned()).text, 'learned.yaml');
  const fromExternal = policy.rules.filter((r) => r.from.includes('external'));
  assert.deepEqual(fromExternal.map((r) => r.to), [['shop.web']]);
});

test('a rule names the applications DPI identified, and only the ports where none was', async () => {
  const { policy } = parsePolicyText((await learned()).text, 'learned.yaml');
  const http = policy.rules.find((r) => r.id === 'shop.web-to-shop.api');
  assert.deepEqual(http?.applications, ['http']);
  const db = policy.rules.find((r) => r.id === 'shop.api-to-shop.db');
  assert.deepEqual(db?.applications, []);
  assert.deepEqual(db?.ports, [{ proto: 'tcp', first: 5432, last: 5432 }]);
});

test('DNS to the cluster resolver is one rule from every client that used it', async () => {
  const { policy } = parsePolicyText((await learned()).text, 'learned.yaml');
  const dns = policy.rules.find((r) => r.id === 'dns-to-kube-system.kube-dns');
  assert.deepEqual(dns?.from, ['shop.api', 'shop.web']);
  assert.deepEqual(dns?.applications, ['dns']);
});

test('node traffic to a workload is allowed from the reserved nodes group', async () => {
  const { policy } = parsePolicyText((await learned()).text, 'learned.yaml');
  assert.ok(policy.rules.some((r) => r.id === 'nodes-to-shop.web' && r.from[0] === 'nodes'));
});

test('rule ids do not depend on the order flows arrive in', async () => {
  const forward = parsePolicyText((await learned()).text, 'a.yaml').policy.rules.map((r) => r.id);
  const backward = parsePolicyText((await learned({ flows: (fs) => [...fs].reverse() })).text, 'b.yaml').policy.rules.map((r) => r.id);
  assert.deepEqual(backward, forward);
});

test('a service with no new connection for the stable-after window is proposed in protect, others in discover', async () => {
  const { policy } = parsePolicyText((await learned({ stableAfterMs: 20 * 60_000 })).text, 'learned.yaml');
  const mode = (name: string): string | undefined => policy.groups.find((g) => g.name === name)?.mode;
  assert.equal(mode('shop.db'), 'protect');
  assert.equal(mode('shop.api'), 'protect');
  assert.equal(mode('shop.web'), 'discover');
});

test('the evidence of each rule is written as comments: counts, first and last seen, an example flow', async () => {
  const text = (await learned()).text;
  const at = text.indexOf('- id: shop.api-to-shop.db');
  const before = text.slice(0, at).split('\n').slice(-4).join('\n');
  assert.match(before, /# seen: 2 flow\(s\), 4000 byte\(s\), first 2026-01-10T10:00:02.000Z, last 2026-01-10T10:40:00.000Z/);
  assert.match(before, /# example: tcp 10\.1\.0\.20:40002 -> 10\.1\.0\.30:5432/);
});

test('merging never changes a user rule and adds only what the existing policy does not decide', async () => {
  const existingText = [
    'apiVersion: palisade.dev/v1',
    'kind: Policy',
    'metadata: { name: mine }',
    'spec:',
    '  mode: monitor',
    '  groups:',
    '  - { name: web, selectors: [app=web] }',
    '  - { name: api, selectors: [app=api] }',
    '  - { name: db, selectors: [app=db] }',
    '  rules:',
    '  - { id: web-api, from: web, to: api, ports: [tcp/8080], action: allow, comment: mine }',
    '  - { id: old-learned, from: db, to: web, ports: [tcp/1], action: allow, source: learned }',
    '',
  ].join('\n');
  const existing = parsePolicyText(existingText, 'mine.yaml');
  assert.deepEqual(existing.diagnostics, []);
  const result = await learned({ existing: existing.policy });
  const added = parsePolicyText(result.text, 'added.yaml').policy;
  assert.ok(!added.rules.some((r) => r.from.includes('shop.web') && r.to.includes('shop.api')));
  assert.ok(added.rules.some((r) => r.id === 'shop.api-to-shop.db'));
  assert.equal(result.covered, 2);
  assert.deepEqual(result.stale.map((r) => r.id), ['old-learned']);
  assert.match(result.text, /stale: learned rule "old-learned" decided no observed flow/);

  const dir = mkdtempSync(join(tmpdir(), 'palisade-merge-'));
  writeFileSync(join(dir, 'mine.yaml'), existingText);
  writeFileSync(join(dir, 'added.yaml'), result.text);
  const both = await loadPolicy([join(dir, 'mine.yaml'), join(dir, 'added.yaml')]);
  assert.deepEqual(both.diagnostics, []);
  const mine = both.policy.rules.find((r) => r.id === 'web-api');
  assert.deepEqual(
    { from: mine?.from, to: mine?.to, ports: mine?.ports, comment: mine?.comment, source: mine?.source },
    { from: ['web'], to: ['api'], ports: [{ proto: 'tcp', first: 8080, last: 8080 }], comment: 'mine', source: 'user' },
  );
});

test('many ports collapse into ranges, and too many ranges into one span', () => {
  assert.deepEqual(collapsePorts('tcp', [80, 443]), [
    { proto: 'tcp', first: 80, last: 80 },
    { proto: 'tcp', first: 443, last: 443 },
  ]);
  const run = Array.from({ length: 20 }, (_, i) => 30000 + i);
  assert.deepEqual(collapsePorts('tcp', [...run, 80]), [
    { proto: 'tcp', first: 80, last: 80 },
    { proto: 'tcp', first: 30000, last: 30019 },
  ]);
  const scattered = Array.from({ length: 20 }, (_, i) => 1000 + 10 * i);
  assert.deepEqual(collapsePorts('udp', scattered), [{ proto: 'udp', first: 1000, last: 1190 }]);
});

test('a scan from many addresses is bounded: past the endpoint and edge caps flows are counted as dropped', async () => {
  const { inventory } = await fixture();
  const builder = new GraphBuilder(inventory, { maxPeers: 50, maxEdges: 40 });
  for (let i = 0; i < 1000; i++) {
    builder.add({
      id: String(i),
      firstSeen: '2026-01-10T10:00:00.000Z',
      lastSeen: '2026-01-10T10:00:00.000Z',
      ipProto: 'tcp',
      client: { ip: `203.0.${i >> 8}.${i & 255}`, port: 40000 },
      server: { ip: '10.1.0.10', port: 1 + i },
      app: 'unknown',
      appConfidence: 'none',
      meta: {},
      c2s: { packets: 1, bytes: 60 },
      s2c: { packets: 0, bytes: 0 },
    });
  }
  const graph = builder.graph();
  assert.ok(graph.peers.size <= 50);
  assert.ok(graph.edges.length <= 40);
  assert.equal(graph.flows, 1000);
  assert.equal(graph.dropped, 1000 - graph.edges.reduce((n, e) => n + e.flows, 0));
});

test('a policy learned from the fixture captures allows every flow in them once its groups protect', { skip: !existsSync('test/fixtures/pcap/http.pcap') }, async () => {
  const { inventory } = await loadInventory(join(FIXTURES, 'lab-inventory.yaml'));
  const dns = new DnsNames();
  const flows: Flow[] = [];
  const captures = readdirSync('test/fixtures/pcap').filter((n) => n.endsWith('.pcap'));
  for (const name of captures) await readFlowSource(join('test/fixtures/pcap', name), (f) => flows.push(f), { dns });
  const learner = new Learner(inventory, { stableAfterMs: 600_000, dns });
  for (const f of flows) learner.add(f);
  const { policy, diagnostics } = parsePolicyText(learner.result().text, 'learned.yaml');
  assert.deepEqual(diagnostics, []);
  assert.ok(policy.rules.find((r) => r.id === 'lab.client-to-lab.server')?.applications.includes('http'));
  for (const g of policy.groups) if (g.reserved !== true) g.mode = 'protect';
  const compiled = compile(policy, inventory);
  const refused = flows.map((f) => compiled.decide(connectionOf(f), dns)).filter((v) => v.violation || !v.allowed);
  assert.deepEqual(refused.map((v) => v.reason), []);
});
