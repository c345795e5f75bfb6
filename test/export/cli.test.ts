// `palisade export` end to end, in-process: what goes to stdout, stderr and files, and the exit codes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { run } from '../support/cli.js';

const SHOP = ['--policy', 'examples/shop/policy', '--inventory', 'examples/shop/inventory.yaml'];

function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-export-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('export --to networkpolicy --verify prints the manifests, the report, and proves them on the shop', async () => {
  const r = await run(['export', ...SHOP, '--to', 'networkpolicy', '--verify']);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string });
  assert.equal(docs.length, 8);
  assert.ok(docs.every((d) => d.kind === 'NetworkPolicy'));
  assert.match(r.stderr, /^19 constraints of the policy cannot be expressed in networkpolicy:\n/);
  assert.ok(r.stderr.includes('examples/shop/policy/10-data.yaml:29: rule orders-to-postgres: applications [PostgreSQL] dropped: NetworkPolicy is L3/L4'), r.stderr);
  assert.match(r.stderr, /verify: the NetworkPolicies allow exactly the policy's enforced L3\/L4 connectivity \(\d+ pairs compared\)\n$/);
});

test('--output DIR writes one file per object and --report FILE takes the report off stderr', async () => {
  await withDir(async (dir) => {
    const out = join(dir, 'manifests');
    const report = join(dir, 'report.txt');
    const r = await run(['export', ...SHOP, '--to', 'cilium', '--output', out, '--report', report]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    assert.ok(readdirSync(out).includes('ciliumnetworkpolicy-messaging-palisade-rabbitmq.yaml'), readdirSync(out).join(' '));
    assert.match(readFileSync(report, 'utf8'), /cannot be expressed in cilium:\n/);
  });
});

test('--output FILE.yaml writes one YAML stream', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'nv.yaml');
    const r = await run(['export', ...SHOP, '--to', 'neuvector', '--output', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(parseAllDocuments(readFileSync(file, 'utf8')).length > 5);
  });
});

test('an unknown target exits 2 naming the targets', async () => {
  const r = await run(['export', ...SHOP, '--to', 'iptables']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'palisade: export: unknown --to "iptables" (expected networkpolicy, cilium, calico, istio or neuvector)\n');
});

test('--verify with another target than networkpolicy exits 2 before writing anything', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'out.yaml');
    const r = await run(['export', ...SHOP, '--to', 'calico', '--verify', '--output', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'palisade: export: --verify works with --to networkpolicy only\n');
    assert.equal(existsSync(file), false);
  });
});

test('a policy that does not load exits 2 with its errors and no manifests', async () => {
  const r = await run(['export', '--policy', 'examples/shop/policy/00-shop.yaml', 'examples/nowhere.yaml', '--inventory', 'examples/shop/inventory.yaml', '--to', 'istio']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /examples\/nowhere\.yaml.*cannot read/);
});

test('import --from neuvector reads an export back as a policy document that loads cleanly', async () => {
  await withDir(async (dir) => {
    const nv = join(dir, 'nv.yaml');
    const back = join(dir, 'imported.yaml');
    assert.equal((await run(['export', ...SHOP, '--to', 'neuvector', '--output', nv, '--report', join(dir, 'report.txt')])).code, 0);
    const r = await run(['import', '--from', 'neuvector', nv, '--output', back]);
    assert.equal(r.code, 0, r.stderr);
    const { loadPolicy } = await import('../../src/policy/document/load.js');
    const { policy, diagnostics } = await loadPolicy([back]);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
    // The two rules through `any` have no NeuVector form; the other ten come back.
    assert.deepEqual(policy.rules.map((rule) => rule.id).sort(), ['api-to-orders', 'api-to-redis', 'dns', 'internet-to-web', 'orders-to-payments', 'orders-to-postgres', 'orders-to-rabbitmq', 'payments-to-provider', 'payments-to-rabbitmq', 'web-to-api'].sort());
  });
});

test('import of a NeuVector file with errors exits 2 naming the file and field', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: neuvector.com/v1\nkind: NvClusterSecurityRule\nmetadata: { name: bad }\nspec:\n  target:\n    selector: { name: web, criteria: [] }\n  ingress:\n    - { name: r, action: maybe, selector: { name: external } }\n');
    const r = await run(['import', '--from', 'neuvector', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /bad\.yaml:8:\d+: NvClusterSecurityRule bad: spec\.ingress\[0\]\.action: must be allow or deny\n/);
  });
});
