import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE, run } from '../support/cli.js';

function assertionFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'palisade-check-')), 'assertions.yaml');
  writeFileSync(file, text);
  return file;
}

const HOLDING = `assertions:
  - name: only the api reaches the databases, on their ports
    only:
      into: { group: databases }
      from: { group: api }
      ports: [tcp/5432, tcp/6379]
  - name: web reaches the api over HTTP
    allow: { from: { service: web }, to: { service: api }, ports: tcp/8080, apps: HTTP }
`;

test('check exits 0 and prints PASS when every assertion holds', async () => {
  const r = await run(['check', '--assert', assertionFile(HOLDING), ...FIXTURE]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^PASS  only the api reaches the databases, on their ports \(.*assertions\.yaml:2\)$/m);
  assert.match(r.stdout, /2 assertions: 2 hold, 0 fail$/m);
});

test('a failing only-assertion exits 1 naming a counterexample and the default that lets it through', async () => {
  const r = await run(['check', '--assert', 'test/fixtures/analyze/failing.yaml', ...FIXTURE]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAIL  from external only web, counting monitor's defaults \(test\/fixtures\/analyze\/failing\.yaml:3\)\n {6}external → \S+ on \S+ \(application not identified\) is allowed: no rule matches; let through because no side is in protect/);
});

test('a failing deny-assertion names the allowing rule with file:line', async () => {
  const r = await run(['check', '--assert', 'test/fixtures/analyze/failing.yaml', ...FIXTURE]);
  assert.match(r.stdout, /shop\/api → data\/redis on tcp\/\d+ \(application not identified\) is allowed: rule api-to-databases \(test\/fixtures\/analyze\/v1\/policy\.yaml:\d+\) allows it/);
});

test('a failing allow-assertion names the blocked connection and why', async () => {
  const r = await run(['check', '--assert', 'test/fixtures/analyze/failing.yaml', ...FIXTURE]);
  assert.match(r.stdout, /shop\/web → data\/postgres on tcp\/5432 \(application not identified\) is not allowed: no rule matches; blocked by protect/);
});

test('assume: protect judges the rules alone', async () => {
  const text = `assertions:
  - assume: protect
    only: { outOf: external, to: { group: web }, ports: tcp/8080, apps: HTTP }
`;
  const r = await run(['check', '--assert', assertionFile(text), ...FIXTURE]);
  assert.equal(r.code, 0, r.stdout);
});

test('an assertion whose selector matches nothing fails instead of holding vacuously', async () => {
  const text = `assertions:
  - deny: { from: { namespace: dev }, to: { namespace: prod } }
`;
  const r = await run(['check', '--assert', assertionFile(text), ...FIXTURE]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /from selects no endpoint of the inventory/);
});

test('a bad assertion file exits 2 with every problem at file:line', async () => {
  const r = await run(['check', '--assert', 'test/fixtures/analyze/broken.yaml', ...FIXTURE]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^test\/fixtures\/analyze\/broken\.yaml:4:22 assertions\[0\]\.only\.into\.group: unknown group "cdee"/m);
  assert.match(r.stderr, /^test\/fixtures\/analyze\/broken\.yaml:5:\d+ assertions\[0\]\.only\.from\.grop: unknown field "grop" \(did you mean "group"\?\)$/m);
  assert.match(r.stderr, /broken\.yaml:11:\d+ assertions\[1\]\.deny\.apps: unknown application "HTTTP" \(did you mean "HTTP"\?\)/);
  assert.match(r.stderr, /broken\.yaml:14:\d+ assertions\[3\]\.allow\.from: unknown endpoint "externl" \(did you mean "external"\?\)/);
  assert.match(r.stderr, /assertions\[3\]\.allow: allow needs to/);
});

test('a missing assertion file exits 2', async () => {
  const r = await run(['check', '--assert', '/nonexistent/assertions.yaml', ...FIXTURE]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/nonexistent\/assertions\.yaml:1:1: cannot read/);
});

test('check --format junit writes one testcase per assertion with failures', async () => {
  const r = await run(['check', '--assert', 'test/fixtures/analyze/failing.yaml', ...FIXTURE, '--format', 'junit']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="palisade check" tests="3" failures="3">/);
  assert.equal(r.stdout.match(/<testcase /g)?.length, 3);
  assert.equal(r.stdout.match(/<failure /g)?.length, 3);
});

test('check --format sarif puts each failure on the line of its assertion', async () => {
  const r = await run(['check', '--assert', 'test/fixtures/analyze/failing.yaml', ...FIXTURE, '--format', 'sarif']);
  const log = JSON.parse(r.stdout) as { version: string; runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
  assert.equal(log.version, '2.1.0');
  const results = log.runs[0]?.results ?? [];
  assert.deepEqual(results.map((x) => x.locations[0]?.physicalLocation.region.startLine), [3, 8, 12]);
  assert.ok(results.every((x) => x.ruleId === 'assertion-failed' && x.locations[0]?.physicalLocation.artifactLocation.uri === 'test/fixtures/analyze/failing.yaml'));
});
