// `palisade analyze reach` end to end, in a child process so stdout, stderr and the exit code
// are exactly what a user sees.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deployment, policy } from './fixtures.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const mainUrl = pathToFileURL(join(repoRoot, 'src/cli/main.ts')).href;
const example = join(repoRoot, '..', 'shared', 'corpus', 'netpol', 'cases', 'netpol-analysis-example-minimal');
const noCorpus = existsSync(example) ? false : `corpus case not found at ${example}`;

function palisade(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const script = `import { main } from ${JSON.stringify(mainUrl)}; process.exitCode = await main(process.argv.slice(1));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withManifests(yaml: string, run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-k8s-'));
  try {
    writeFileSync(join(dir, 'all.yaml'), yaml);
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('analyze reach --k8s prints the connlist and exits 0', { skip: noCorpus }, () => {
  const r = palisade('analyze', 'reach', '--k8s', example);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(example, 'expected.txt'), 'utf8'));
});

test('analyze reach --format json prints the JSON list', { skip: noCorpus }, () => {
  const r = palisade('analyze', 'reach', '--k8s', example, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${readFileSync(join(example, 'expected.json'), 'utf8')}\n`);
});

test('bad manifests exit 2 with one line per problem and no output', () => {
  withManifests(deployment('web', { app: 'web' }) + policy('p', '  podSelector: {}\n  ingress:\n  - from: [{}]'), (dir) => {
    const r = palisade('analyze', 'reach', '--k8s', dir);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `palisade: ${join(dir, 'all.yaml')}:24:12: NetworkPolicy default/p: spec.ingress[0].from[0]: rule NetworkPolicyPeer error: cannot have empty rule peer\n`);
  });
});

test('a directory that does not exist exits 2 naming it', () => {
  const r = palisade('analyze', 'reach', '--k8s', '/nonexistent/manifests');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^palisade: \/nonexistent\/manifests: cannot read directory/);
});

test('analyze reach without an input exits 2 with a usage message', () => {
  const r = palisade('analyze', 'reach');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give exactly one input: --k8s/);
});

test('an unknown --format exits 2 naming the formats', () => {
  withManifests(deployment('web', { app: 'web' }), (dir) => {
    const r = palisade('analyze', 'reach', '--k8s', dir, '--format', 'dot');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown --format "dot" \(expected connlist or json\)/);
  });
});

test('warnings go to stderr while the answer still goes to stdout', () => {
  withManifests(deployment('web', { app: 'web' }) + deployment('db', { app: 'db' }), (dir) => {
    const r = palisade('analyze', 'reach', '--k8s', dir);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^default\/db\[Deployment\] => default\/web\[Deployment\] : All Connections$/m);
    assert.match(r.stderr, /warning: no relevant Kubernetes network policy resources found/);
  });
});
