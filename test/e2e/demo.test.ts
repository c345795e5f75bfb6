// `palisade demo` end to end (root): the command run as a user runs it, from an empty machine to
// an empty machine. Its sections come in order, the attacks are blocked while checkouts succeed,
// it exits 0, and it leaves no lab namespace (and with pal-node no nftables table) behind.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { labDown } from '../../src/enforce/lab/lab.js';
import { namespaceExists, NODE_NAMESPACE } from '../../src/enforce/lab/netns.js';
import { repoRoot } from '../support/corpus.js';
import { skipReason } from './lab-netns.js';

const skip = skipReason();
/** A safety net so a hung demo fails the test instead of stalling CI; never a measurement. */
const E2E_TIMEOUT_MS = 180_000;
const SHOP_NAMESPACES = ['web', 'api', 'orders', 'payments', 'postgres', 'redis', 'rabbitmq', 'coredns', 'customer', 'provider', 'attacker', 'node'].map((n) => `pal-${n}`);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('palisade demo', { skip, timeout: E2E_TIMEOUT_MS }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'pal-demo-'));
  let child: ChildProcess | undefined;

  after(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    // A demo that failed half-way may have left its lab: its state says what to remove.
    await labDown({ stateDir });
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('learns, protects, blocks the attacker while checkouts succeed, and leaves nothing behind', async () => {
    // Another shop lab (the lab or protect test) may still be coming down: the lab's names are fixed.
    for (let i = 0; i < 600 && namespaceExists(NODE_NAMESPACE); i++) await sleep(200);
    const demo = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/palisade.ts'), 'demo', '--learn-seconds', '10', '--state', stateDir], {
      cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = demo;
    let stdout = '';
    let stderr = '';
    demo.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    demo.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const code = await new Promise<number | null>((resolve) => demo.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, `the demo said:\n${stdout}\n${stderr}`);

    const headings = [...stdout.matchAll(/^== (\d)\. .* ==$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(headings, [1, 2, 3, 4, 5, 6, 7]);
    assert.match(stdout, /shop\.web\s+→\s+shop\.api\s+tcp\/8080\s+http/, 'the service map shows the learned edges with applications');
    assert.match(stdout, /in protect: .*data\.postgres/);
    assert.match(stdout, /BLOCKED +compromised storefront calls the database directly: web → postgres:5432/);
    assert.match(stdout, /port scan attacker → postgres tcp\/1-1024: 1024 filtered, 0 open/);
    assert.match(stdout, /event: DROP outside the inventory \(10\.200\.66\.6\) → data\/postgres \(10\.200\.3\.10\) \d+\+? ports, \d+ attempts/, 'the scan is one event with a count');
    assert.match(stdout, /5\/5 lateral attempts blocked; 3\/3 checkouts succeeded; (\d+)\/\1 customer visits answered 200/);
    assert.match(stdout, /L7 proxy listening on port 15001; \d+ rules naming applications redirect to it/);
    assert.match(stdout, /BLOCK shop\/web \(10\.200\.1\.10\) → shop\/api \(10\.200\.1\.20\) tcp\/8080 speaking redis \(identified by the L7 proxy\)/);
    assert.equal((stdout.match(/checkout: HTTP 200 order \d+, payment succeeded/g) ?? []).length, 3);
    assert.match(stdout, /lab is down/);

    assert.deepEqual(SHOP_NAMESPACES.filter(namespaceExists), [], 'no lab namespace is left, and no table with pal-node');
    assert.equal(existsSync(join(stateDir, 'state.json')), false, 'the lab state is gone');
  });
});
