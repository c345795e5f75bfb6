import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuleset } from '../../src/enforce/agent.js';
import { applyScript, listTable, NftError, removeTable } from '../../src/enforce/nft/apply.js';
import type { Violation } from '../../src/enforce/violations.js';
import type { Event } from '../../src/events/index.js';
import { repoRoot } from '../support/corpus.js';
import { createLab, skipReason, type Lab } from './lab-netns.js';
import { inventoryYaml, keepAliveClient, runAgent, type AgentRun } from './agent-process.js';

const skip = skipReason();

// The node is the lab's bridge namespace; pods hang on its bridge. db is in protect, api in
// monitor, web in discover (the policy's default).
// The pid in the name keeps two runs of this file (two checkouts, one machine) out of each other's namespaces.
const LAB = { name: `agent${process.pid % 10000}`, hosts: { web: '10.200.7.10', api: '10.200.7.20', db: '10.200.7.30' } };
const PORT = { api: 8080, apiAdmin: 9090, db: 5432 };
/** A safety net so a hung agent fails the test instead of stalling CI; never a measurement. */
const E2E_TIMEOUT_MS = 120_000;

const POLICY = `apiVersion: palisade.dev/v1
kind: Policy
metadata:
  name: e2e
spec:
  mode: discover
  groups:
    - name: web
      selectors: ["app=web"]
    - name: api
      selectors: ["app=api"]
      mode: monitor
    - name: db
      selectors: ["app=db"]
      mode: protect
  rules:
    - id: web-to-api
      from: web
      to: api
      ports: tcp/${PORT.api}
      action: allow
    - id: api-to-db
      from: api
      to: db
      ports: tcp/${PORT.db}
      action: allow
`;

/** The policy with web → db allowed too. */
const OPENED = POLICY.replace('from: api\n      to: db', 'from: [api, web]\n      to: db');

const INVENTORY = inventoryYaml('e2e', LAB.hosts);

function startAgent(lab: Lab, dir: string, fail: 'open' | 'closed', extra: readonly string[] = []): AgentRun {
  return runAgent(['--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--netns', lab.node.namespace, '--fail', fail, ...extra]);
}

async function enforcing(run: AgentRun): Promise<void> {
  await run.waitFor('"enforcing" message', () => run.messages.some((m) => m.includes('enforcing')));
}

/** Starts an HTTP server in a pod namespace and resolves once it listens. */
async function startServer(lab: Lab, host: string, port: number): Promise<void> {
  const server = lab.spawn(host, process.execPath, [
    '-e',
    // Keep-alive outlasts a reload, so one connection can carry requests from before and after.
    `const srv = require('node:http').createServer((q, s) => s.end('${host}')); srv.keepAliveTimeout = 60000; srv.listen(${port}, '${lab.address(host)}', () => console.log('listening'))`,
  ]);
  let said = '';
  for await (const chunk of server.stdout ?? []) {
    said += String(chunk);
    if (said.includes('listening')) return;
  }
  throw new Error(`the server in ${host} ended before listening`);
}

/** curl from one pod to another: true when the server answered, false when the connect timed out. */
async function reaches(lab: Lab, from: string, to: string, port: number): Promise<boolean> {
  const r = await lab.run(from, 'curl', ['-s', '--connect-timeout', '1', '-m', '3', `http://${lab.address(to)}:${port}/`]);
  if (r.code === 0) return true;
  // 28: timed out, what a dropped SYN looks like; anything else is a broken test setup.
  assert.equal(r.code, 28, `curl ${from} → ${to}:${port} failed oddly: ${r.stderr}`);
  return false;
}

/** Whether a violation is from one workload to another's port. */
const isFrom = (client: string, server: string, port: number) => (v: Violation): boolean =>
  v.client.workload === `e2e/${client}` && v.server.workload === `e2e/${server}` && v.server.port === port;

const violationFrom = (run: AgentRun, client: string, server: string, port: number) => (): boolean =>
  run.violations.some((v) => v.client.workload === `e2e/${client}` && v.server.workload === `e2e/${server}` && v.server.port === port);

describe('palisade agent on a node namespace', { skip, timeout: E2E_TIMEOUT_MS }, () => {
  let lab: Lab;
  let dir: string;
  const agents: AgentRun[] = [];
  const start = (fail: 'open' | 'closed', extra: readonly string[] = []): AgentRun => {
    const run = startAgent(lab, dir, fail, extra);
    agents.push(run);
    return run;
  };
  const stopAll = async (): Promise<void> => {
    for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGTERM');
    await Promise.all(agents.map((a) => a.exited));
  };
  const table = (): Promise<string | undefined> => listTable({ netns: lab.node.namespace });
  /** The table without its counter values, which traffic changes. */
  const shape = (text: string | undefined): string | undefined => text?.replace(/packets \d+ bytes \d+/g, '');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pal-agent-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
    lab = await createLab(LAB);
    await startServer(lab, 'api', PORT.api);
    await startServer(lab, 'api', PORT.apiAdmin);
    await startServer(lab, 'db', PORT.db);
  });

  afterEach(stopAll);

  after(async () => {
    await stopAll();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('under protect an allowed flow succeeds and a disallowed one is blocked and reported within a second', async () => {
    const agent = start('closed');
    await enforcing(agent);
    assert.equal(await reaches(lab, 'api', 'db', PORT.db), true);
    const attempt = reaches(lab, 'web', 'db', PORT.db);
    await agent.waitFor('violation web → db', violationFrom(agent, 'web', 'db', PORT.db), 1000);
    assert.equal(await attempt, false);
    const v = agent.violations.find(violationFrom(agent, 'web', 'db', PORT.db)) as Violation;
    assert.deepEqual(
      { protocol: v.protocol, ruleId: v.ruleId, action: v.action, client: v.client.ip, server: v.server.ip },
      { protocol: 'tcp', ruleId: 'default', action: 'drop', client: LAB.hosts.web, server: LAB.hosts.db },
    );
  });

  test('with --events a blocked attempt becomes an event in the configured JSON lines sink, naming both workloads', async () => {
    const events = join(dir, 'events.jsonl');
    writeFileSync(join(dir, 'events.yaml'), `window: 1s\nsinks:\n  - type: jsonl\n    path: ${events}\n`);
    const agent = start('closed', ['--events', join(dir, 'events.yaml')]);
    await enforcing(agent);
    const attempt = reaches(lab, 'web', 'db', PORT.db);
    await agent.waitFor('violation web → db', violationFrom(agent, 'web', 'db', PORT.db), 1000);
    assert.equal(await attempt, false);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    const written = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event);
    const e = written.find((x) => x.server.ip === LAB.hosts.db && x.client.ip === LAB.hosts.web);
    assert.ok(e, `no event for web → db in ${written.length} event(s)`);
    assert.deepEqual(
      { kind: e.kind, action: e.action, ruleId: e.ruleId, client: e.client.name, server: e.server.name },
      { kind: 'violation', action: 'drop', ruleId: 'default', client: 'web', server: 'db' },
    );
  });

  test('monitor mode lets a flow no rule allows through and reports it as an alert', async () => {
    const agent = start('closed');
    await enforcing(agent);
    assert.equal(await reaches(lab, 'web', 'api', PORT.apiAdmin), true);
    await agent.waitFor('violation web → api admin', violationFrom(agent, 'web', 'api', PORT.apiAdmin), 1000);
    const v = agent.violations.find(violationFrom(agent, 'web', 'api', PORT.apiAdmin)) as Violation;
    assert.equal(v.action, 'alert');
    assert.equal(v.ruleId, 'default');
    assert.equal(await reaches(lab, 'web', 'api', PORT.api), true);
    assert.equal(agent.violations.some(violationFrom(agent, 'web', 'api', PORT.api)), false, 'an allowed flow is no violation');
  });

  test('with --tap, monitor alerts come from the passive tap with the application, once, and --flows records every flow', async () => {
    const flows = join(dir, 'flows.jsonl');
    const agent = start('closed', ['--tap', 'br0', '--flows', flows]);
    await enforcing(agent);
    assert.ok(agent.messages.some((m) => m.includes('passive tap on br0')), agent.messages.join('\n'));
    assert.equal(await reaches(lab, 'web', 'api', PORT.apiAdmin), true);
    await agent.waitFor('alert web → api admin from the tap', violationFrom(agent, 'web', 'api', PORT.apiAdmin), 2000);
    const mine = agent.violations.filter(isFrom('web', 'api', PORT.apiAdmin));
    // The tap decides as soon as DPI names the application; the kernel no longer logs alerts.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(agent.violations.filter(isFrom('web', 'api', PORT.apiAdmin)).length, 1, JSON.stringify(agent.violations));
    const v = mine[0] as Violation;
    assert.deepEqual({ action: v.action, app: v.app, appConfidence: v.appConfidence, mode: v.mode, ruleId: v.ruleId }, { action: 'alert', app: 'http', appConfidence: 'dpi', mode: 'monitor', ruleId: 'default' });
    assert.ok((v.sample?.frames.length ?? 0) >= 1, 'a packet sample');
    // Protect still drops in the kernel, reported from nflog.
    const attempt = reaches(lab, 'web', 'db', PORT.db);
    await agent.waitFor('violation web → db', violationFrom(agent, 'web', 'db', PORT.db), 1000);
    assert.equal(await attempt, false);
    assert.deepEqual(agent.violations.filter(isFrom('web', 'db', PORT.db)).map((x) => x.action), ['drop'], JSON.stringify(agent.violations));
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0, agent.messages.join('\n'));
    const recorded = readFileSync(flows, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { app: string; server: { ip: string; port: number } });
    assert.ok(recorded.some((f) => f.app.toLowerCase() === 'http' && f.server.ip === LAB.hosts.api && f.server.port === PORT.apiAdmin), JSON.stringify(recorded));
  });

  test('an invalid policy pushed while running leaves the ruleset in force unchanged', async () => {
    const agent = start('closed');
    await enforcing(agent);
    const before = shape(await table());
    assert.notEqual(before, undefined);
    writeFileSync(join(dir, 'policy.yaml'), POLICY.replace('to: db', 'to: dbb'));
    try {
      await agent.waitFor('"reload failed" message', () => agent.messages.some((m) => m.includes('reload failed')));
      assert.ok(agent.messages.some((m) => m.includes('dbb')), 'the problem is reported');
      assert.equal(shape(await table()), before);
      assert.equal(await reaches(lab, 'web', 'db', PORT.db), false);
    } finally {
      writeFileSync(join(dir, 'policy.yaml'), POLICY);
    }
    await agent.waitFor('reload after the fix', () => agent.messages.some((m) => m.includes('reloaded')));
  });

  test('SIGHUP reloads a changed policy and the new ruleset is in force', async () => {
    const agent = start('closed');
    await enforcing(agent);
    const original = shape(await table());
    writeFileSync(join(dir, 'policy.yaml'), OPENED);
    try {
      agent.child.kill('SIGHUP');
      await agent.waitFor('"reloaded" message', () => agent.messages.some((m) => m.includes('reloaded')));
      assert.equal(await reaches(lab, 'web', 'db', PORT.db), true);
    } finally {
      writeFileSync(join(dir, 'policy.yaml'), POLICY);
    }
    // Reloads may be in flight with the opened policy: wait for the original table to be back.
    for (let i = 0; i < 100 && shape(await table()) !== original; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(shape(await table()), original);
    assert.equal(await reaches(lab, 'web', 'db', PORT.db), false);
  });

  test('a file rewritten unchanged leaves the table and its counters in force; a table removed by hand comes back', async () => {
    const agent = start('closed');
    await enforcing(agent);
    assert.equal(await reaches(lab, 'api', 'db', PORT.db), true);
    const counted = (text: string | undefined): number => [...(text ?? '').matchAll(/packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const before = await table();
    assert.ok(counted(before) > 0, 'the connection was counted');
    const kept = (): number => agent.messages.filter((m) => m.includes('the table stays as it is')).length;
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    await agent.waitFor('"the table stays as it is" message', () => kept() === 1);
    const after = await table();
    assert.equal(shape(after), shape(before));
    assert.ok(counted(after) >= counted(before), 'the counters were not reset');

    await removeTable({ netns: lab.node.namespace });
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    const reloads = agent.messages.filter((m) => m.includes('reloaded')).length;
    await agent.waitFor('"reloaded" message', () => agent.messages.filter((m) => m.includes('reloaded')).length > reloads);
    assert.equal(kept(), 1, 'a missing table is loaded again, not skipped');
    assert.equal(shape(await table()), shape(before));
    assert.equal(await reaches(lab, 'web', 'db', PORT.db), false);
  });

  test('a connection established before a reload carries traffic after the table is replaced', async () => {
    const agent = start('closed');
    await enforcing(agent);
    const conn = keepAliveClient(lab, 'api', LAB.hosts.db, PORT.db);
    await agent.waitFor('the first answer', () => conn.answers() >= 1, 5000);
    const reloads = agent.messages.filter((m) => m.includes('reloaded')).length;
    agent.child.kill('SIGHUP');
    await agent.waitFor('"reloaded" message', () => agent.messages.filter((m) => m.includes('reloaded')).length > reloads);
    conn.ask();
    await agent.waitFor('the answer after the reload', () => conn.answers() >= 2, 5000);
    assert.equal(conn.closed(), false);
    conn.stop();
  });

  test('a reload cuts the established connections the new policy refuses, and only those', async () => {
    writeFileSync(join(dir, 'policy.yaml'), OPENED);
    const agent = start('closed');
    try {
      await enforcing(agent);
      const kept = keepAliveClient(lab, 'api', LAB.hosts.db, PORT.db);
      const revoked = keepAliveClient(lab, 'web', LAB.hosts.db, PORT.db);
      await agent.waitFor('both first answers', () => kept.answers() >= 1 && revoked.answers() >= 1, 5000);
      writeFileSync(join(dir, 'policy.yaml'), POLICY);
      // Earlier tests' closed connections may still be tracked (TIME_WAIT) and go too.
      await agent.waitFor('"cut" message', () => agent.messages.some((m) => /\d+ tracked connections? the policy no longer allows (was|were) cut/.test(m)));
      const started = Date.now();
      kept.ask();
      revoked.ask();
      await agent.waitFor('the kept connection answers', () => kept.answers() >= 2, 5000);
      // The cut connection's next packet meets the table as a new connection: dropped, reported.
      await agent.waitFor('violation web → db', () => agent.violations.some((v) => isFrom('web', 'db', PORT.db)(v) && Date.parse(v.time) >= started - 1000), 3000);
      assert.equal(revoked.answers(), 1, 'no answer on the cut connection');
      assert.equal(kept.closed(), false);
      kept.stop();
      revoked.stop();
    } finally {
      writeFileSync(join(dir, 'policy.yaml'), POLICY);
    }
  });

  test('kill -9 of an agent that fails closed leaves the table blocking, and a restart takes over', async () => {
    const first = start('closed');
    await enforcing(first);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.notEqual(await table(), undefined);
    assert.equal(await reaches(lab, 'web', 'db', PORT.db), false);
    const second = start('closed');
    await enforcing(second);
    assert.notEqual(await table(), undefined);
    const attempt = reaches(lab, 'web', 'db', PORT.db);
    await second.waitFor('violation after restart', violationFrom(second, 'web', 'db', PORT.db), 1000);
    assert.equal(await attempt, false);
  });

  test('kill -9 of an agent that fails open removes the table through its watchdog', async () => {
    const agent = start('open');
    await enforcing(agent);
    assert.equal(await reaches(lab, 'web', 'db', PORT.db), false);
    agent.child.kill('SIGKILL');
    await agent.exited;
    for (let i = 0; i < 100 && (await table()) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await table(), undefined);
    assert.equal(await reaches(lab, 'web', 'db', PORT.db), true);
  });

  test('SIGTERM removes the table when failing open and keeps it when failing closed', async () => {
    const open = start('open');
    await enforcing(open);
    open.child.kill('SIGTERM');
    assert.equal(await open.exited, 0, open.messages.join('\n'));
    assert.equal(await table(), undefined, open.messages.join('\n'));
    const closed = start('closed');
    await enforcing(closed);
    closed.child.kill('SIGTERM');
    assert.equal(await closed.exited, 0, closed.messages.join('\n'));
    assert.notEqual(await table(), undefined);
    assert.equal(await reaches(lab, 'web', 'db', PORT.db), false);
  });
  test('a ruleset nft refuses leaves the previous one in force', async () => {
    const target = { netns: lab.node.namespace };
    const { ruleset } = await buildRuleset({ policyPaths: [join(dir, 'policy.yaml')], inventoryPath: join(dir, 'inventory.yaml') });
    await applyScript(ruleset.text, target);
    const before = await table();
    const broken = ruleset.text.replace('ct state established,related accept', 'ct state established,related no-such-verdict');
    await assert.rejects(applyScript(broken, target), NftError);
    assert.equal(await table(), before);
    assert.equal(await reaches(lab, 'web', 'db', PORT.db), false);
  });

  test('an agent started on an invalid policy exits with 2 and applies nothing', async () => {
    await removeTable({ netns: lab.node.namespace });
    writeFileSync(join(dir, 'policy.yaml'), POLICY.replace('to: db', 'to: dbb'));
    try {
      const agent = start('closed');
      assert.equal(await agent.exited, 2);
      assert.ok(agent.messages.some((m) => m.includes('dbb')), agent.messages.join('\n'));
      assert.equal(await table(), undefined);
    } finally {
      writeFileSync(join(dir, 'policy.yaml'), POLICY);
    }
  });

  test('nft loads the ruleset of the shop example for every node and for the whole cluster', async () => {
    const shop = { policyPaths: [join(repoRoot, 'examples/shop/policy')], inventoryPath: join(repoRoot, 'examples/shop/inventory.yaml') };
    for (const node of [undefined, 'node-1', 'node-2', 'node-3']) {
      const { ruleset } = await buildRuleset(node === undefined ? shop : { ...shop, node });
      await applyScript(ruleset.text, { netns: lab.node.namespace });
      assert.match((await table()) ?? '', /ct state established,related accept/, `node ${node ?? 'all'}`);
    }
    await removeTable({ netns: lab.node.namespace });
  });
});
