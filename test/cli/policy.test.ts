import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../support/cli.js';
import { LINT_CODES } from '../../src/policy/lint/lint.js';

const EXAMPLE = ['examples/shop/policy', '--inventory', 'examples/shop/inventory.yaml'];
const DEFECTS = ['test/fixtures/shop-defects/policy', '--inventory', 'test/fixtures/shop-defects/inventory.yaml'];

test('the shop example checks clean and exits 0', async () => {
  const r = await run(['policy', 'check', ...EXAMPLE]);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^checked 12 rules and 12 groups: no findings\n$/);
  assert.equal(r.code, 0);
});

test('the seeded copy fails with exit 1 and prints each finding at its place', async () => {
  const r = await run(['policy', 'check', ...DEFECTS]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /test\/fixtures\/shop-defects\/policy\/90-defects\.yaml:18:7 spec\.rules\[0\]: rule "payments-to-redis" never decides/);
  assert.match(r.stdout, /test\/fixtures\/shop-defects\/inventory\.yaml:139:5 workloads\[8\]: warning: workload "batch\/legacy-cron" is in no group/);
  assert.match(r.stdout, /checked 17 rules and 14 groups: 1 error, 6 warnings\n$/);
});

test('warnings alone pass, and fail with --strict', async () => {
  const lenient = await run(['policy', 'check', 'test/fixtures/shop-defects/policy']);
  assert.match(lenient.stdout, /0 errors, 2 warnings/);
  assert.equal(lenient.code, 0);
  const strict = await run(['policy', 'check', '--strict', 'test/fixtures/shop-defects/policy']);
  assert.equal(strict.code, 1);
});

function invalidPolicyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-check-'));
  const text = [
    'apiVersion: palisade.dev/v1',
    'kind: Policy',
    'metadata: { name: broken }',
    'spec:',
    '  groups:',
    '    - { name: web, selectors: ["app=web"] }',
    '  rules:',
    '    - { id: a, from: web, to: dbb, ports: tcp/5432, action: allow }',
    '    - { id: b, from: web, to: web, ports: tcp/99999, action: allow }',
  ].join('\n');
  writeFileSync(join(dir, 'policy.yaml'), text);
  return dir;
}

test('an invalid document exits 2 with every problem on stderr and nothing linted', async () => {
  const r = await run(['policy', 'check', invalidPolicyDir()]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /policy\.yaml:8:\d+ spec\.rules\[0\]\.to: unknown group "dbb"/);
  assert.match(r.stderr, /policy\.yaml:9:\d+ spec\.rules\[1\]\.ports: .*99999/);
  assert.match(r.stderr, /nothing was linted/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('a missing path exits 2', async () => {
  const r = await run(['policy', 'check', 'no/such/policy']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no\/such\/policy/);
});

test('an unreadable inventory exits 2', async () => {
  const r = await run(['policy', 'check', 'examples/shop/policy', '--inventory', 'no/such/inventory.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no\/such\/inventory\.yaml:1:1: inventory file no such file/);
});

test('an unknown format is a usage error', async () => {
  const r = await run(['policy', 'check', '--format', 'xml', 'examples/shop/policy']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown --format "xml"/);
});

test('--format json prints every finding as a diagnostic object', async () => {
  const r = await run(['policy', 'check', '--format', 'json', ...DEFECTS]);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { code: string; line: number; file: string }[] };
  assert.equal(out.ok, false);
  assert.equal(out.diagnostics.length, 7);
  assert.deepEqual(out.diagnostics.find((d) => d.code === 'redundant-rule')?.line, 37);
});

test('--format json reports load errors too, with exit 2', async () => {
  const r = await run(['policy', 'check', '--format', 'json', invalidPolicyDir()]);
  assert.equal(r.code, 2);
  const out = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { code: string }[] };
  assert.deepEqual(out.diagnostics.map((d) => d.code).sort(), ['bad-port', 'unknown-group']);
});

interface SarifShape {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string; shortDescription: { text: string } }[] } };
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }[];
    }[];
  }[];
}

test('--format sarif prints a SARIF 2.1.0 log with a rule per code and located results', async () => {
  const r = await run(['policy', 'check', '--format', 'sarif', ...DEFECTS]);
  assert.equal(r.code, 1);
  const log = JSON.parse(r.stdout) as SarifShape;
  assert.equal(log.version, '2.1.0');
  assert.match(log.$schema, /sarif-2\.1\.0/);
  assert.equal(log.runs.length, 1);
  const run0 = log.runs[0];
  assert.ok(run0);
  assert.equal(run0.tool.driver.name, 'palisade');
  const ids = run0.tool.driver.rules.map((x) => x.id);
  for (const c of LINT_CODES) assert.ok(ids.includes(c.code), `rule for ${c.code}`);
  for (const rule of run0.tool.driver.rules) assert.ok(rule.shortDescription.text.length > 0);
  assert.equal(run0.results.length, 7);
  for (const res of run0.results) {
    assert.equal(run0.tool.driver.rules[res.ruleIndex]?.id, res.ruleId);
    assert.ok(['error', 'warning', 'note'].includes(res.level));
    assert.ok(res.message.text.length > 0);
    const loc = res.locations[0]?.physicalLocation;
    assert.ok(loc);
    assert.match(loc.artifactLocation.uri, /^test\/fixtures\/shop-defects\/(policy\/90-defects\.yaml|inventory\.yaml)$/);
    assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1);
  }
  const shadowed = run0.results.find((x) => x.ruleId === 'shadowed-rule');
  assert.equal(shadowed?.level, 'error');
  assert.deepEqual(shadowed?.locations[0]?.physicalLocation.region, { startLine: 18, startColumn: 7 });
});

test('policy check --help documents every option', async () => {
  const r = await run(['policy', 'check', '--help']);
  assert.equal(r.code, 0);
  for (const option of ['--inventory', '--format', '--strict']) assert.ok(r.stdout.includes(option), option);
});

const SHOP = ['--policy', 'examples/shop/policy', '--inventory', 'examples/shop/inventory.yaml'];

function explain(...args: string[]): ReturnType<typeof run> {
  return run(['policy', 'explain', ...SHOP, ...args]);
}

test('explain names the deciding rule with its file and line, and each perimeter', async () => {
  const r = await explain('--from', 'orders', '--to', 'postgres', '--port', 'tcp/5432', '--app', 'PostgreSQL');
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^shop\/orders → data\/postgres on tcp\/5432, application postgresql\nverdict: allowed, enforced\n/);
  assert.match(r.stdout, /deciding rule: orders-to-postgres at examples\/shop\/policy\/10-data\.yaml:29:7\n/);
  assert.match(r.stdout, /  shop\/orders egress \(monitor\): allowed\n  data\/postgres ingress \(protect\): allowed\n/);
  assert.match(r.stdout, /server: workload data\/postgres \(10\.200\.3\.10\); groups any, workloads, databases, postgres; mode protect \(set by group databases\)/);
});

test('without a matching rule explain shows the defaults and the nearest misses', async () => {
  const r = await explain('--from', 'web', '--to', 'api', '--port', 'tcp/9090');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /verdict: allowed, violation\n/);
  assert.match(r.stdout, /no rule matched/);
  assert.match(r.stdout, /nearest miss: web-to-api \(allow, priority 0\): its ports \(tcp\/8080\) do not include tcp\/9090/);
});

test('a rule naming an application does not match a session whose application is unidentified', async () => {
  const r = await explain('--from', 'web', '--to', 'api', '--port', 'tcp/8080');
  assert.match(r.stdout, /nearest miss: web-to-api .*it names applications http and the application was not identified/);
});

test('a protected destination blocks a connection no rule allows', async () => {
  const r = await explain('--from', 'web', '--to', 'data/postgres', '--port', 'tcp/5432');
  assert.match(r.stdout, /verdict: blocked, enforced, violation\n/);
  assert.match(r.stdout, /  data\/postgres ingress \(protect\): blocked\n/);
});

test('an endpoint given by DNS name is an outside address known by that name', async () => {
  const r = await explain('--from', 'payments', '--to', 'api.stripe.example', '--port', 'tcp/443', '--app', 'TLS');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /deciding rule: payments-to-provider at examples\/shop\/policy\/20-cde\.yaml:\d+:\d+\n/);
  assert.match(r.stdout, /server: external api\.stripe\.example; groups any, external, payment-provider\n/);
});

test('the card-data zone denies other outside names', async () => {
  const r = await explain('--from', 'payments', '--to', 'evil.example', '--port', 'tcp/443', '--app', 'TLS');
  assert.match(r.stdout, /verdict: blocked, enforced, violation\n/);
  assert.match(r.stdout, /deciding rule: deny-out-of-cde/);
});

test('an IP address is attributed to the workload that held it at the given time', async () => {
  const before = await explain('--from', '10.200.1.31', '--to', 'postgres', '--port', 'tcp/5432', '--app', 'PostgreSQL', '--at', '2024-05-01T06:00:00Z');
  assert.match(before.stdout, /client: workload shop\/orders \(10\.200\.1\.31\)/);
  assert.match(before.stdout, /deciding rule: orders-to-postgres/);
  const after = await explain('--from', '10.200.1.31', '--to', 'postgres', '--port', 'tcp/5432', '--app', 'PostgreSQL', '--at', '2024-05-02T06:00:00Z');
  assert.match(after.stdout, /client: external 10\.200\.1\.31; groups any, external\n/);
});

test('--format json prints the connection and the explanation', async () => {
  const r = await explain('--from', 'api', '--to', 'redis', '--port', 'tcp/6379', '--app', 'redis', '--format', 'json');
  assert.equal(r.code, 0);
  const out = JSON.parse(r.stdout) as { connection: { server: { ip: string } }; verdict: { ruleId: string; allowed: boolean }; rule: { pos: { line: number } } };
  assert.equal(out.connection.server.ip, '10.200.3.20');
  assert.equal(out.verdict.ruleId, 'api-to-redis');
  assert.equal(out.verdict.allowed, true);
  assert.equal(out.rule.pos.line, 22);
});

test('explain reads the JSON of kubectl get as its inventory and takes pods by id', async () => {
  const r = await run([
    'policy', 'explain', '--policy', 'examples/shop/policy', '--inventory', 'test/inventory/fixtures/kubectl-shop.json',
    '--from', 'shop/web-7d9c6b5f48-x2x7p', '--to', 'kube-system/coredns-76f75df574-9kq2s', '--port', 'udp/53', '--app', 'DNS',
  ]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /deciding rule: dns at examples\/shop\/policy\/30-platform\.yaml:\d+:\d+\n/);
  assert.match(r.stdout, /client: workload shop\/web-7d9c6b5f48-x2x7p \(10\.200\.1\.10\); groups any, workloads, storefront, web;/);
});

test('an unknown workload is a usage error with a suggestion', async () => {
  const r = await explain('--from', 'order', '--to', 'postgres', '--port', 'tcp/5432');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--from order is no workload name or id, IP address or DNS name \(did you mean "orders"\?\)/);
});

test('a name two workloads share is a usage error listing their ids', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-explain-'));
  writeFileSync(join(dir, 'inventory.yaml'), 'workloads:\n  - { name: web, namespace: a, addresses: [10.0.0.1] }\n  - { name: web, namespace: b, addresses: [10.0.0.2] }\n');
  const r = await run(['policy', 'explain', '--policy', 'examples/shop/policy', '--inventory', join(dir, 'inventory.yaml'), '--from', 'web', '--to', 'a/web', '--port', 'tcp/80']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--from web names several workloads \(a\/web, b\/web\); give the id/);
});

test('a workload that held no address at the given time is a usage error', async () => {
  const r = await explain('--from', 'orders', '--to', 'postgres', '--port', 'tcp/5432', '--at', '2023-01-01T00:00:00Z');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /workload shop\/orders holds no address at 2023-01-01T00:00:00\.000Z/);
});

test('a port range or a port without protocol is a usage error', async () => {
  assert.equal((await explain('--from', 'web', '--to', 'api', '--port', 'tcp/1-2')).code, 2);
  const r = await explain('--from', 'web', '--to', 'api', '--port', '8080');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /has no protocol/);
});

test('an unknown application is a usage error', async () => {
  const r = await explain('--from', 'web', '--to', 'api', '--port', 'tcp/8080', '--app', 'HTTPX');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown application "HTTPX"/);
});

test('a time that is not ISO 8601 is a usage error', async () => {
  assert.equal((await explain('--from', 'web', '--to', 'api', '--port', 'tcp/8080', '--at', 'yesterday')).code, 2);
});

test('a missing required option is a usage error', async () => {
  const r = await run(['policy', 'explain', ...SHOP, '--from', 'web', '--port', 'tcp/80']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--to/);
});

test('an invalid inventory exits 2 and prints its diagnostics', async () => {
  const r = await run(['policy', 'explain', '--policy', 'examples/shop/policy', '--inventory', 'test/inventory/fixtures/missing.yaml', '--from', 'web', '--to', 'api', '--port', 'tcp/80']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing\.yaml:1:1: inventory file no such file/);
});

test('policy explain --help documents every option', async () => {
  const r = await run(['policy', 'explain', '--help']);
  assert.equal(r.code, 0);
  for (const option of ['--policy', '--inventory', '--from', '--to', '--port', '--app', '--at', '--format']) assert.ok(r.stdout.includes(option), option);
});
