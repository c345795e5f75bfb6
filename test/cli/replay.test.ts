import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE, run } from '../support/cli.js';

const FLOWS = 'test/fixtures/analyze/flows.jsonl';

test('replay sums up per service pair what would be blocked and alerted', async () => {
  const r = await run(['replay', ...FIXTURE, FLOWS]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^shop\/web → data\/postgres on tcp\/5432: 1 blocked, 0 alerted, 0 allowed \(rules: default\)$/m);
  assert.match(r.stdout, /^external → shop\/api on tcp\/8080: 0 blocked, 1 alerted, 0 allowed \(rules: default\)$/m);
  assert.match(r.stdout, /^7 flows in 6 pairs: 2 would be blocked, 1 alerted$/m);
});

test('replay resolves fqdn groups through DNS answers seen earlier in the input', async () => {
  const r = await run(['replay', ...FIXTURE, FLOWS, '--format', 'jsonl']);
  const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { flow: string; verdict: { ruleId: string; allowed: boolean } });
  assert.equal(records.find((x) => x.flow === 'f5')?.verdict.ruleId, 'payments-to-provider');
  assert.equal(records.find((x) => x.flow === 'f6')?.verdict.allowed, false);
});

test('a port guess never satisfies a rule naming an application', async () => {
  const r = await run(['replay', ...FIXTURE, FLOWS, '--format', 'jsonl']);
  const f7 = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { flow: string; app: string }).find((x) => x.flow === 'f7');
  assert.equal(f7?.app, 'unknown');
});

test('replay --format jsonl gives the verdict of every perimeter', async () => {
  const r = await run(['replay', ...FIXTURE, FLOWS, '--format', 'jsonl']);
  const f3 = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { flow: string; verdict: { perimeters: { workload: string; side: string; allowed: boolean }[] } }).find((x) => x.flow === 'f3');
  assert.deepEqual(f3?.verdict.perimeters.map((p) => `${p.workload} ${p.side} ${p.allowed}`), ['shop/web egress true', 'data/postgres ingress false']);
});

test('replay --fail-on block exits 1 when a flow would be blocked', async () => {
  const r = await run(['replay', ...FIXTURE, FLOWS, '--fail-on', 'block']);
  assert.equal(r.code, 1);
});

test('replay reads a pcap capture through the packet pipeline', async () => {
  const r = await run(['replay', ...FIXTURE, 'test/fixtures/pcap/http.pcap', '--format', 'json']);
  assert.equal(r.code, 0);
  const pairs = JSON.parse(r.stdout) as { flows: number }[];
  assert.ok(pairs.reduce((s, p) => s + p.flows, 0) > 0);
});

test('replay of an input that does not exist exits 2 naming it', async () => {
  const r = await run(['replay', ...FIXTURE, '/nonexistent/flows.jsonl']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /replay: \/nonexistent\/flows\.jsonl: /);
});

test('replay reads Hubble JSON exports and reports the lines it skips', async () => {
  const r = await run(['replay', ...FIXTURE, 'test/fixtures/learn/hubble.jsonl']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^4 flows in 1 pair: 0 would be blocked, 0 alerted$/m);
  assert.match(r.stderr, /hubble\.jsonl:5: skipped: not valid JSON/);
});
