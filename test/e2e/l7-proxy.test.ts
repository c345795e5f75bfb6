// The L7 proxy end to end (root, network namespaces): `palisade agent` in a node namespace with a
// policy whose rules name applications, a real HTTP server and a real redis-server in a protect
// pod, real clients (curl, redis-cli) in the others. The kernel redirects what needs layer 7, the
// proxy identifies and decides, and what it blocks is reported with the payload.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Violation } from '../../src/enforce/violations.js';
import { namespacePids } from '../../src/enforce/lab/netns.js';
import { createLab, skipReason, type Lab } from './lab-netns.js';
import { inventoryYaml, keepAliveClient, runAgent, type AgentRun } from './agent-process.js';

const skip = skipReason();

const LAB = { name: `l7p${process.pid % 10000}`, hosts: { web: '10.200.12.10', api: '10.200.12.20', db: '10.200.12.30' }, nodeAddress: '10.200.12.1' };
const PORT = { http: 8080, redis: 6379 };
/** A safety net so a hung agent fails the test instead of stalling CI; never a measurement. */
const E2E_TIMEOUT_MS = 120_000;
const REPORT_WITHIN_MS = 1000;

// db is in protect. web may speak HTTP to db:8080, api Redis to db:6379, and api anything to
// db:8080 (a rule without applications: decided in the kernel, never redirected).
const policy = (webApps: string): string => `apiVersion: palisade.dev/v1
kind: Policy
metadata:
  name: l7
spec:
  mode: discover
  groups:
    - name: web
      selectors: ["app=web"]
    - name: api
      selectors: ["app=api"]
    - name: db
      selectors: ["app=db"]
      mode: protect
  rules:
    - id: web-db-http
      from: web
      to: db
      ports: tcp/${PORT.http}
      applications: ${webApps}
      action: allow
    - id: api-db-redis
      from: api
      to: db
      ports: tcp/${PORT.redis}
      applications: Redis
      action: allow
    - id: api-db-any
      from: api
      to: db
      ports: tcp/${PORT.http}
      action: allow
    - id: dns
      from: [web, api]
      to: db
      ports: udp/53
      applications: DNS
      action: allow
`;

const INVENTORY = inventoryYaml('l7', LAB.hosts);

function startAgent(lab: Lab, dir: string): AgentRun {
  return runAgent(['--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--netns', lab.node.namespace, '--fail', 'closed']);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


describe('the L7 proxy behind palisade agent', { skip, timeout: E2E_TIMEOUT_MS }, () => {
  let lab: Lab;
  let dir: string;
  let agent: AgentRun | undefined;
  const said = (): string => [...(agent?.messages ?? []), ...(agent?.violations ?? []).map((v) => JSON.stringify(v))].join('\n');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pal-l7-'));
    writeFileSync(join(dir, 'policy.yaml'), policy('HTTP'));
    writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
    lab = await createLab(LAB);
    const http = lab.spawn('db', process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('db says hello to ' + q.socket.remoteAddress + '\\n')).listen(${PORT.http}, '${LAB.hosts.db}', () => console.log('listening'))`]);
    const redis = lab.spawn('db', 'redis-server', ['--bind', LAB.hosts.db, '--port', String(PORT.redis), '--protected-mode', 'no', '--save', '', '--appendonly', 'no']);
    const dns = lab.spawn('db', 'dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--listen-address=${LAB.hosts.db}`, '--bind-interfaces', '--port=53',
      `--pid-file=${join(dir, 'dnsmasq.pid')}`, '--log-facility=-', `--host-record=orders.l7.local,${LAB.hosts.api}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const [name, child, ready] of [['http', http, 'listening'], ['redis-server', redis, 'Ready to accept connections'], ['dnsmasq', dns, 'started']] as const) {
      let text = '';
      // dnsmasq logs to stderr (--log-facility=-).
      const out = name === 'dnsmasq' ? child.stderr : child.stdout;
      out?.setEncoding('utf8');
      for await (const chunk of out ?? []) {
        text += String(chunk);
        if (text.includes(ready)) break;
      }
      assert.ok(text.includes(ready), `${name} did not start: ${text}`);
    }
    agent = startAgent(lab, dir);
    await (agent as AgentRun).waitFor('"enforcing" message', () => (agent as AgentRun).messages.some((m) => m.includes('enforcing')), 20_000);
  });

  afterEach(() => {
    writeFileSync(join(dir, 'policy.yaml'), policy('HTTP'));
  });

  after(async () => {
    if (agent !== undefined && agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const counter = async (): Promise<number> => {
    const listed = await new Promise<string>((resolve) => {
      const nft = spawn('ip', ['netns', 'exec', lab.node.namespace, 'nft', 'list', 'counter', 'inet', 'palisade', 'l7']);
      let text = '';
      nft.stdout.setEncoding('utf8').on('data', (t: string) => (text += t));
      nft.once('close', () => resolve(text));
    });
    return Number(/packets (\d+)/.exec(listed)?.[1] ?? -1);
  };

  test('the agent starts its proxy and says which rules redirect to it', () => {
    assert.ok(agent?.messages.some((m) => /L7 proxy listening on port 15001; 3 rules naming applications redirect to it/.test(m)), said());
  });

  test('HTTP from web to db goes through the proxy to the real server, which sees the node as the client', async () => {
    const before = await counter();
    const r = await lab.run('web', 'curl', ['-sS', '--max-time', '5', `http://${LAB.hosts.db}:${PORT.http}/orders`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `db says hello to ${LAB.nodeAddress}\n`);
    assert.equal(await counter(), before + 1, 'one new connection was redirected');
    assert.equal(agent?.violations.some((v) => v.client.ip === LAB.hosts.web && v.server.port === PORT.http), false, 'an allowed application is no violation');
  });

  test('redis-cli from api reaches redis-server through the proxy', async () => {
    const r = await lab.run('api', 'redis-cli', ['-h', LAB.hosts.db, '-p', String(PORT.redis), 'SET', 'cart:42', 'three-items']);
    assert.equal(r.stdout.trim(), 'OK', r.stderr);
    const g = await lab.run('api', 'redis-cli', ['-h', LAB.hosts.db, '-p', String(PORT.redis), 'GET', 'cart:42']);
    assert.equal(g.stdout.trim(), 'three-items');
  });

  test('Redis spoken to the HTTP port is reset by the proxy and reported within a second with the payload', async () => {
    const started = Date.now();
    const attempt = lab.run('web', 'redis-cli', ['-h', LAB.hosts.db, '-p', String(PORT.http), 'CONFIG', 'GET', '*']);
    const mine = (v: Violation): boolean => v.client.ip === LAB.hosts.web && v.server.port === PORT.http && Date.parse(v.time) >= started - 1000;
    await (agent as AgentRun).waitFor('violation web → db:8080 from the proxy', () => (agent as AgentRun).violations.some(mine), REPORT_WITHIN_MS);
    const r = await attempt;
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /reset|closed|Error/i);
    const v = (agent as AgentRun).violations.find(mine) as Violation;
    assert.deepEqual(
      { action: v.action, app: v.app, appConfidence: v.appConfidence, ruleId: v.ruleId, mode: v.mode, client: v.client.workload, server: v.server.workload },
      { action: 'block', app: 'redis', appConfidence: 'dpi', ruleId: 'default', mode: 'protect', client: 'l7/web', server: 'l7/db' },
    );
    const frame = Buffer.from(v.sample?.frames[0]?.data ?? '', 'base64');
    assert.ok(frame.includes(Buffer.from('CONFIG')), 'the sample holds the payload');
    assert.equal(frame[0], 0x45, 'an IPv4 packet');
    assert.equal(frame.subarray(12, 16).join('.'), LAB.hosts.web, 'from the real client');
    assert.equal(frame.subarray(16, 20).join('.'), LAB.hosts.db, 'to the real server');
  });

  test('DNS over UDP to the protect pod goes through the proxy to the real dnsmasq', async () => {
    const before = await counter();
    const r = await lab.run('api', 'dig', ['+short', '+tries=1', '+time=2', `@${LAB.hosts.db}`, 'orders.l7.local', 'A']);
    assert.equal(r.stdout.trim(), LAB.hosts.api, r.stderr);
    assert.ok((await counter()) > before, 'the datagram was redirected');
  });

  test('another protocol on the DNS port is dropped by the proxy and reported with the datagram', async () => {
    const started = Date.now();
    const sent = await lab.run('web', process.execPath, ['-e',
      `const s = require('node:dgram').createSocket('udp4'); s.on('message', () => { console.log('answered'); process.exit(0); });
       s.send(Buffer.from('SSH-2.0-OpenSSH_9.2 over udp\\r\\n'), 53, '${LAB.hosts.db}'); setTimeout(() => { console.log('silent'); process.exit(0); }, 3000);`]);
    assert.equal(sent.stdout.trim(), 'silent', sent.stderr);
    const mine = (v: Violation): boolean => v.client.ip === LAB.hosts.web && v.server.port === 53 && Date.parse(v.time) >= started - 1000;
    await (agent as AgentRun).waitFor('violation web → db:53 from the proxy', () => (agent as AgentRun).violations.some(mine), 3000);
    const v = (agent as AgentRun).violations.find(mine) as Violation;
    assert.deepEqual({ protocol: v.protocol, action: v.action, ruleId: v.ruleId, server: v.server.workload }, { protocol: 'udp', action: 'block', ruleId: 'default', server: 'l7/db' });
    assert.notEqual(v.app, 'dns');
    assert.ok(Buffer.from(v.sample?.frames[0]?.data ?? '', 'base64').includes(Buffer.from('SSH-2.0')), 'the sample holds the datagram');
  });

  test('a rule without applications is decided in the kernel: nothing is redirected', async () => {
    const before = await counter();
    const r = await lab.run('api', 'curl', ['-sS', '--max-time', '5', `http://${LAB.hosts.db}:${PORT.http}/`]);
    assert.equal(r.stdout, `db says hello to ${LAB.hosts.api}\n`, 'the server sees the client itself');
    assert.equal(await counter(), before);
  });

  test('dialling the proxy port directly is refused: only redirected connections are proxied', async () => {
    const r = await lab.run('web', 'curl', ['-sS', '--max-time', '5', `http://${LAB.nodeAddress}:15001/`]);
    // The proxy resets at once; curl sees it as a failed connect or a reset, depending on timing.
    assert.ok(r.code === 7 || r.code === 52 || r.code === 56, `curl exit ${r.code}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  });

  test('a reload gives the proxy the new policy', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy('[HTTP, Redis]'));
    const reloads = (agent as AgentRun).messages.filter((m) => m.includes('reloaded')).length;
    (agent as AgentRun).child.kill('SIGHUP');
    await (agent as AgentRun).waitFor('"reloaded" message', () => (agent as AgentRun).messages.filter((m) => m.includes('reloaded')).length > reloads, 20_000);
    // Redis on the HTTP port is now allowed: the HTTP server answers it with an error of its own.
    const r = await lab.run('web', 'redis-cli', ['-h', LAB.hosts.db, '-p', String(PORT.http), 'PING']);
    assert.match(r.stdout + r.stderr, /Protocol error, got "H"/, 'redis-cli read the HTTP server\'s answer');
  });

  test('a reload resets the proxied connections the new policy refuses', async () => {
    const a = agent as AgentRun;
    // One keep-alive HTTP connection from web to db, through the proxy.
    const client = keepAliveClient(lab, 'web', LAB.hosts.db, PORT.http);
    try {
      await a.waitFor('the first answer', () => client.answers() >= 1, 5000);
      // web may now speak only Redis to db's HTTP port.
      writeFileSync(join(dir, 'policy.yaml'), policy('Redis'));
      await a.waitFor('"cut" message from the proxy', () => a.messages.some((m) => m.includes('L7 proxy: 1 connection the new policy no longer allows was cut')), 20_000);
      await a.waitFor('the client sees its connection end', () => client.closed(), 5000);
      assert.match(client.said(), /ECONNRESET/, 'reset, not closed in order');
      assert.equal(client.answers(), 1);
    } finally {
      client.stop();
    }
  });

  test('SIGUSR1 prints the counters of the ruleset and the proxy', async () => {
    const a = agent as AgentRun;
    a.child.kill('SIGUSR1');
    await (agent as AgentRun).waitFor('status message', () => a.messages.some((m) => m.includes('status {')), 5000);
    const line = a.messages.find((m) => m.includes('status {')) as string;
    const status = JSON.parse(line.slice(line.indexOf('{'))) as { rules: { redirectingRules: number }; proxy: { accepted: number; blocked: number; allowed: number; udp: { blocked: number; allowed: number } } };
    assert.equal(status.rules.redirectingRules, 3);
    assert.ok(status.proxy.accepted >= 4 && status.proxy.blocked >= 1 && status.proxy.allowed >= 3, line);
    assert.ok(status.proxy.udp.blocked >= 1 && status.proxy.udp.allowed >= 1, line);
  });

  test('kill -9 of the agent (fail closed) takes its proxy with it: redirected connections are refused, kernel rules go on', async () => {
    const a = agent as AgentRun;
    const proxies = (): number[] => namespacePids(lab.node.namespace).filter((pid) => {
      try {
        return /enforce\/proxy\/child\.(ts|js)/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
      } catch {
        return false;
      }
    });
    assert.equal(proxies().length, 1, 'one proxy runs in the node namespace');
    a.child.kill('SIGKILL');
    await a.exited;
    for (let i = 0; i < 100 && proxies().length > 0; i++) await sleep(50);
    assert.deepEqual(proxies(), [], 'the proxy ended with its agent');
    const r = await lab.run('web', 'curl', ['-sS', '--connect-timeout', '2', '--max-time', '4', `http://${LAB.hosts.db}:${PORT.http}/`]);
    assert.notEqual(r.code, 0, 'what needs layer 7 is closed');
    const k = await lab.run('api', 'curl', ['-sS', '--max-time', '5', `http://${LAB.hosts.db}:${PORT.http}/`]);
    assert.equal(k.code, 0, 'the kernel rule still allows api → db');
    agent = undefined;
  });
});
