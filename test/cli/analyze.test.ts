import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE, run } from '../support/cli.js';

test('analyze reach --policy lists an allowed pair with its rule and file:line', async () => {
  const r = await run(['analyze', 'reach', ...FIXTURE]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^shop\/web → shop\/api\n(.*\n)*?  tcp\/8080 +http: allowed by web-to-api \(test\/fixtures\/analyze\/v1\/policy\.yaml:\d+\)$/m);
});

test('analyze reach says what is allowed only because no side is in protect', async () => {
  const r = await run(['analyze', 'reach', ...FIXTURE, '--level', 'service']);
  assert.match(r.stdout, /^external → shop\/api\n  any +any: no rule matches; allowed only because no side is in protect$/m);
});

test('analyze reach never lists a pair that protect blocks entirely', async () => {
  const r = await run(['analyze', 'reach', ...FIXTURE, '--level', 'service']);
  assert.doesNotMatch(r.stdout, /^shop\/web → data\/postgres$/m);
});

test('analyze reach --format csv has one row per port range', async () => {
  const r = await run(['analyze', 'reach', ...FIXTURE, '--format', 'csv']);
  assert.equal(r.stdout.split('\n')[0], 'from,to,ports,applications,rule,rule_at,enforced');
  assert.match(r.stdout, /^shop\/api,data\/postgres,tcp\/5432,any,api-to-databases,test\/fixtures\/analyze\/v1\/policy\.yaml:\d+,true$/m);
});

test('analyze reach --format dot draws edges open only by default as dashed', async () => {
  const r = await run(['analyze', 'reach', ...FIXTURE, '--format', 'dot', '--level', 'service']);
  assert.match(r.stdout, /^digraph reach \{/);
  assert.match(r.stdout, /"external" -> "shop\/api" \[label="any" style=dashed color=gray\];/);
});

test('analyze reach --format json gives entries with lines', async () => {
  const r = await run(['analyze', 'reach', ...FIXTURE, '--format', 'json']);
  const entries = JSON.parse(r.stdout) as { from: string; to: string; lines: { rule: string }[] }[];
  const web = entries.find((e) => e.from === 'external' && e.to === 'shop/web');
  assert.ok(web?.lines.some((l) => l.rule === 'internet-to-web'));
});

test('analyze reach with both --k8s and --policy exits 2', async () => {
  const r = await run(['analyze', 'reach', '--k8s', 'x', ...FIXTURE]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give exactly one input/);
});

test('analyze reach --policy with an unknown --level exits 2 naming the levels', async () => {
  const r = await run(['analyze', 'reach', ...FIXTURE, '--level', 'pod']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown --level "pod" \(expected workload or service\)/);
});

test('analyze reach on a policy with errors exits 2 with file:line', async () => {
  const r = await run(['analyze', 'reach', '--policy', 'test/fixtures/policy/broken', '--inventory', 'examples/shop/inventory.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /test\/fixtures\/policy\/broken\/[^:]+:\d+:\d+ /);
});

test('analyze exposure ranks the workload reachable from external that reaches the most first', async () => {
  const r = await run(['analyze', 'exposure', ...FIXTURE, '--format', 'json']);
  assert.equal(r.code, 0);
  const report = JSON.parse(r.stdout) as { workload: string; risk: number }[];
  const risks = report.map((x) => x.risk);
  assert.deepEqual(risks, [...risks].sort((a, b) => b - a));
});

test('analyze exposure --weight raises the risk of workloads with that label', async () => {
  const base = JSON.parse((await run(['analyze', 'exposure', ...FIXTURE, '--format', 'json'])).stdout) as { workload: string; sensitivity: number }[];
  const weighted = JSON.parse((await run(['analyze', 'exposure', ...FIXTURE, '--format', 'json', '--weight', 'app=redis:50'])).stdout) as { workload: string; sensitivity: number }[];
  assert.equal(base.find((x) => x.workload === 'data/redis')?.sensitivity, 1);
  assert.equal(weighted.find((x) => x.workload === 'data/redis')?.sensitivity, 51);
});

test('analyze exposure with a malformed --weight exits 2', async () => {
  const r = await run(['analyze', 'exposure', ...FIXTURE, '--weight', 'pci']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--weight "pci": expected label=value:weight/);
});

test('palisade diff lists a removed port with the rule that allowed it', async () => {
  const r = await run(['diff', 'test/fixtures/analyze/v1', 'test/fixtures/analyze/v2', '--inventory', 'examples/shop/inventory.yaml']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^~ shop\/api → data\/postgres$|^- shop\/api → data\/postgres$/m);
  assert.match(r.stdout, /- tcp\/5432 any: no longer allowed \(was: allowed by api-to-databases \(test\/fixtures\/analyze\/v1\/policy\.yaml:\d+\)\)/);
});

test('palisade diff of a policy with itself reports no change', async () => {
  const r = await run(['diff', 'test/fixtures/analyze/v1', 'test/fixtures/analyze/v1', '--inventory', 'examples/shop/inventory.yaml']);
  assert.equal(r.stdout, 'no change in what is allowed\n');
});

test('palisade policy diff gives the same answer as palisade diff', async () => {
  const args = ['test/fixtures/analyze/v1', 'test/fixtures/analyze/v2', '--inventory', 'examples/shop/inventory.yaml'];
  const top = await run(['diff', ...args]);
  const nested = await run(['policy', 'diff', ...args]);
  assert.equal(nested.code, 0);
  assert.equal(nested.stdout, top.stdout);
});
