// `palisade capture` end to end: a real tcpdump inside a lab namespace, real HTTP traffic, and
// SIGTERM to stop: the flows come out identified, and the closing report names the drop counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Flow } from '../../src/model/flow.js';
import { skipReason, withLab } from './lab-netns.js';
import { repoRoot } from '../support/corpus.js';

const skip = skipReason();
const LAB = { name: 'capcli', hosts: { client: '10.200.8.1', server: '10.200.8.2' } };

test('capture prints identified flows as JSON lines and reports drops when stopped with SIGTERM', { skip }, async () => {
  await withLab(LAB, async (lab) => {
    const server = lab.spawn('server', process.execPath, [
      '-e',
      `require('node:http').createServer((q, s) => s.end('ok')).listen(8080, '${lab.address('server')}', () => console.log('listening'))`,
    ]);
    await once(server.stdout!, 'data');

    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts/palisade.ts'), 'capture', '-i', lab.interface, '--netns', lab.namespace('client'), '--filter', 'tcp port 8080'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (c) => (stdout += String(c)));
    const started = new Promise<void>((resolve) => {
      cli.stderr.on('data', (c) => {
        stderr += String(c);
        if (stderr.includes('capturing on')) resolve();
      });
    });
    await started;

    const got = await lab.run('client', 'curl', ['-s', `http://${lab.address('server')}:8080/palisade-e2e`]);
    assert.equal(got.stdout, 'ok');
    cli.kill('SIGTERM');
    const [code] = await once(cli, 'exit');
    assert.equal(code, 0, stderr);

    assert.notEqual(stdout.trim(), '', stderr);
    const flows = stdout.trim().split('\n').map((l) => JSON.parse(l) as Flow);
    const http = flows.find((f) => f.meta.httpPath === '/palisade-e2e');
    assert.ok(http, `no flow for the request in ${stdout}`);
    assert.equal(http.app, 'HTTP');
    assert.equal(http.appConfidence, 'dpi');
    assert.equal(http.client.ip, lab.address('client'));
    assert.equal(http.server.port, 8080);
    assert.match(stderr, /captured \d+ packets; dropped by the kernel 0/);
  });
});
