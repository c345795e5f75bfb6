import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsNames } from '../../src/dpi/dns-names.js';
import { readFlowSource } from '../../src/dpi/sources.js';
import { loadInventory } from '../../src/inventory/load.js';
import { GraphBuilder, type EdgeVerdict } from '../../src/learn/graph.js';
import { connectionOf } from '../../src/learn/learn.js';
import { mapDot, mapJson, mapMermaid, serviceMap, type ServiceMap } from '../../src/learn/map.js';
import { mapSvg } from '../../src/learn/svg.js';
import type { Flow } from '../../src/model/flow.js';
import { compile } from '../../src/policy/compile.js';
import { parsePolicyText } from '../../src/policy/document/load.js';

async function build(policyText?: string): Promise<ServiceMap> {
  const { inventory } = await loadInventory('test/fixtures/learn/inventory.yaml');
  const dns = new DnsNames();
  const flows: Flow[] = [];
  await readFlowSource('test/fixtures/learn/flows.jsonl', (f) => flows.push(f), { dns });
  const builder = new GraphBuilder(inventory);
  const compiled = policyText === undefined ? undefined : compile(parsePolicyText(policyText, 'p.yaml').policy, inventory);
  for (const f of flows) {
    if (compiled === undefined) builder.add(f);
    else {
      const v = compiled.decide(connectionOf(f), dns);
      const verdict: EdgeVerdict = !v.allowed ? 'blocked' : v.violation ? 'violation' : 'allowed';
      builder.add(f, verdict);
    }
  }
  return serviceMap(builder.graph(dns));
}

const POLICY = `apiVersion: palisade.dev/v1
kind: Policy
metadata: { name: p }
spec:
  mode: monitor
  groups:
  - { name: web, selectors: [app=web], mode: protect }
  - { name: api, selectors: [app=api] }
  rules:
  - { id: web-api, from: web, to: api, ports: [tcp/8080], action: allow }
`;

test('namespaces are clusters, then nodes, then external', async () => {
  const map = await build();
  assert.deepEqual(map.clusters, ['kube-system', 'shop', 'nodes', 'external']);
  assert.deepEqual(map.nodes.filter((n) => n.cluster === 'shop').map((n) => n.label), ['api', 'db', 'web']);
});

test('an edge is labelled with the applications identified, else with its ports', async () => {
  const map = await build();
  const label = (from: string, to: string): string | undefined => map.edges.find((e) => e.from === from && e.to === to)?.label;
  assert.equal(label('service:shop/web', 'service:shop/api'), 'http');
  assert.equal(label('service:shop/api', 'service:shop/db'), 'tcp/5432');
});

test('with a policy, each edge carries its worst verdict: allowed, violation or blocked', async () => {
  const map = await build(POLICY);
  const status = (from: string, to: string): string | undefined => map.edges.find((e) => e.from === from && e.to === to)?.status;
  assert.equal(status('service:shop/web', 'service:shop/api'), 'allowed');
  assert.equal(status('service:shop/api', 'service:shop/db'), 'violation');
  assert.equal(status('ip:203.0.113.9', 'service:shop/web'), 'blocked');
});

test('the SVG draws every endpoint and edge, namespaces as bands, and escapes names', async () => {
  const map = await build(POLICY);
  map.nodes[0] = { ...(map.nodes[0] as ServiceMap['nodes'][number]), label: 'a<b>&"c"' };
  const svg = mapSvg(map);
  assert.equal((svg.match(/marker-end=/g) ?? []).length, map.edges.length);
  assert.equal((svg.match(/<rect x="\d+(\.\d+)?" y="\d+(\.\d+)?" width="180"/g) ?? []).length, map.nodes.length);
  assert.ok(svg.includes('a&lt;b&gt;&amp;&quot;c&quot;'));
  for (const c of map.clusters) assert.ok(svg.includes(`class="b">${c}</text>`), c);
  assert.ok(svg.includes('would be blocked'));
});

test('in the SVG, a caller is drawn left of what it calls when the calls form no cycle', async () => {
  const map = await build();
  const svg = mapSvg(map);
  const xOf = (label: string): number => {
    const m = new RegExp(`<rect x="(\\d+)" y="\\d+" width="180"[^>]*/><text x="\\d+" y="\\d+" class="n">${label}</text>`).exec(svg);
    assert.ok(m, label);
    return Number(m[1]);
  };
  assert.ok(xOf('web') < xOf('api'));
  assert.ok(xOf('api') < xOf('db'));
  assert.ok(xOf('203.0.113.9') < xOf('web'));
});

test('DOT output has one cluster per namespace and one coloured edge per service pair', async () => {
  const map = await build(POLICY);
  const dot = mapDot(map);
  assert.equal((dot.match(/subgraph cluster_/g) ?? []).length, map.clusters.length);
  assert.equal((dot.match(/ -> /g) ?? []).length, map.edges.length);
  assert.match(dot, /"service:shop\/web" -> "service:shop\/api" \[label="http \(2\)", color="#2e7d32"/);
});

test('Mermaid output uses plain ids, quotes labels, and styles links by verdict', async () => {
  const map = await build(POLICY);
  const text = mapMermaid(map);
  assert.ok(text.startsWith('flowchart LR\n'));
  assert.equal((text.match(/ -->\|/g) ?? []).length, map.edges.length);
  assert.equal((text.match(/linkStyle \d+ stroke:/g) ?? []).length, map.edges.length);
  assert.ok(!/service:/.test(text.split('\n').filter((l) => l.includes('-->')).join('\n')));
});

test('JSON output round-trips the map', async () => {
  const map = await build();
  assert.deepEqual(JSON.parse(mapJson(map)), JSON.parse(JSON.stringify(map)));
});
