// The L7 proxy on loopback: real sockets, real HTTP (node:http) and a server that speaks first.
// The one thing the kernel does in production, telling the proxy where a redirected connection
// was going (SO_ORIGINAL_DST), is given here by `destinationOf`; test/e2e/proxy.test.ts runs the
// whole path with nftables' redirect in network namespaces.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { compile } from '../../src/policy/compile.js';
import { AddressIndex } from '../../src/inventory/attribute.js';
import { L7Proxy, proxyPolicy, type ProxyDecision, type ProxyLimits } from '../../src/enforce/proxy/proxy.js';
import type { Policy } from '../../src/model/policy.js';
import { app, group, inventory, policy, rule, tcp, workload } from '../policy/engine/fixtures.js';

const CLIENT = '127.0.0.3';
const ATTACKER = '127.0.0.4';
const SERVER = '127.0.0.2';

const inv = inventory([workload('web', CLIENT), workload('attacker', ATTACKER), workload('db', SERVER)]);
const groups = [group('web', [app('web')]), group('attacker', [app('attacker')]), group('db', [app('db')], 'protect')];

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/** A real HTTP server on the server address. */
async function httpServer(): Promise<number> {
  const server = http.createServer((req, res) => {
    let body = 0;
    req.on('data', (c: Buffer) => (body += c.length));
    req.on('end', () => res.end(`hello ${req.method} ${req.url} ${body}\n`));
  });
  server.listen(0, SERVER);
  await once(server, 'listening');
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

/** A server that speaks first, as SMTP does, then echoes lines. */
async function bannerServer(banner: string): Promise<number> {
  const server = net.createServer((s) => {
    s.write(banner);
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  server.listen(0, SERVER);
  await once(server, 'listening');
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

/** A server that echoes everything back and half-closes when the client does. */
async function echoServer(): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.pipe(s);
    s.on('error', () => undefined);
  });
  server.listen(0, SERVER);
  await once(server, 'listening');
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

interface Running {
  proxy: L7Proxy;
  port: number;
  decisions: ProxyDecision[];
  /** The next decision (resolves at once when one is already waiting). */
  next(): Promise<ProxyDecision>;
}

async function startProxy(p: Policy, serverPort: number, limits: Partial<ProxyLimits> = {}): Promise<Running> {
  const decisions: ProxyDecision[] = [];
  const waiting: ((d: ProxyDecision) => void)[] = [];
  let taken = 0;
  const proxy = new L7Proxy({
    policy: proxyPolicy(compile(p, inv), new AddressIndex(inv)),
    limits,
    onDecision: (d) => {
      decisions.push(d);
      const w = waiting.shift();
      if (w !== undefined) {
        taken++;
        w(d);
      }
    },
    // Every connection "was going" to the test server, as the nat chain's redirect would say.
    destinationOf: () => ({ ip: SERVER, port: serverPort }),
  });
  const port = await proxy.listen(0, '127.0.0.1');
  closers.push(() => proxy.close());
  return {
    proxy,
    port,
    decisions,
    next: () => (taken < decisions.length ? Promise.resolve(decisions[taken++] as ProxyDecision) : new Promise((r) => waiting.push(r))),
  };
}

/** Connects from a given loopback address. */
function dial(port: number, from: string): Socket {
  return net.connect({ host: '127.0.0.1', port, localAddress: from, allowHalfOpen: true });
}

/** Everything the socket receives until it closes, and whether it was reset. */
async function drain(s: Socket): Promise<{ data: string; reset: boolean }> {
  const chunks: Buffer[] = [];
  let reset = false;
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET') reset = true;
  });
  // events.once would reject on the reset, which is what some tests wait for.
  await new Promise((resolve) => s.on('close', resolve));
  return { data: Buffer.concat(chunks).toString('latin1'), reset };
}

test('an identified application that a rule allows is spliced through, and the decision says why', async () => {
  const port = await httpServer();
  const p = policy(groups, [rule('web-db-http', 'web', 'db', { ports: [tcp(1, 65535)], applications: ['http'] })]);
  const px = await startProxy(p, port);
  const s = dial(px.port, CLIENT);
  s.end('GET /health HTTP/1.1\r\nHost: db\r\nConnection: close\r\n\r\n');
  const got = await drain(s);
  assert.match(got.data, /^HTTP\/1\.1 200 OK/);
  assert.match(got.data, /hello GET \/health 0/);
  const d = await px.next();
  assert.equal(d.action, 'allow');
  assert.equal(d.app, 'http');
  assert.equal(d.appConfidence, 'dpi');
  assert.equal(d.verdict.ruleId, 'web-db-http');
  assert.equal(d.client.workload, 'shop/web');
  assert.equal(d.server.workload, 'shop/db');
  assert.equal(d.meta.httpHost, 'db');
  assert.equal(d.meta.httpPath, '/health');
});

test('another application on an allowed port is reset before any byte reaches the server, with the payload as evidence', async () => {
  let reached = 0;
  const server = net.createServer((c) => {
    reached++;
    c.destroy();
  });
  server.listen(0, SERVER);
  await once(server, 'listening');
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  const p = policy(groups, [rule('web-db-redis', 'web', 'db', { ports: [tcp(1, 65535)], applications: ['redis'] })]);
  const px = await startProxy(p, (server.address() as AddressInfo).port);
  const s = dial(px.port, CLIENT);
  s.write('GET /etc/passwd HTTP/1.1\r\nHost: db\r\n\r\n');
  const got = await drain(s);
  assert.equal(got.reset, true);
  assert.equal(got.data, '');
  const d = await px.next();
  assert.equal(d.action, 'block');
  assert.equal(d.app, 'http');
  assert.equal(d.verdict.ruleId, 'default');
  assert.equal(d.verdict.mode, 'protect');
  assert.match(d.evidence.c2s.toString('latin1'), /^GET \/etc\/passwd HTTP\/1\.1/);
  assert.equal(reached, 0, 'the server never saw the connection');
});

test('the same port speaking the allowed application goes through (RESP, the Redis protocol)', async () => {
  const port = await echoServer();
  const p = policy(groups, [rule('web-db-redis', 'web', 'db', { ports: [tcp(1, 65535)], applications: ['redis'] })]);
  const px = await startProxy(p, port);
  const s = dial(px.port, CLIENT);
  s.end('*1\r\n$4\r\nPING\r\n');
  const got = await drain(s);
  assert.equal(got.data, '*1\r\n$4\r\nPING\r\n');
  const d = await px.next();
  assert.equal(d.action, 'allow');
  assert.equal(d.app, 'redis');
});

test('a server that speaks first is heard after the client stays silent, and its greeting reaches the client only once allowed', async () => {
  const port = await bannerServer('220 db.shop ESMTP Postfix\r\n');
  const p = policy(groups, [rule('web-db-smtp', 'web', 'db', { ports: [tcp(1, 65535)], applications: ['smtp'] })]);
  const px = await startProxy(p, port, { serverFirstMs: 50 });
  const s = dial(px.port, CLIENT);
  const [banner] = (await once(s, 'data')) as [Buffer];
  assert.equal(banner.toString('latin1'), '220 db.shop ESMTP Postfix\r\n');
  s.write('EHLO web\r\n');
  const [echo] = (await once(s, 'data')) as [Buffer];
  assert.equal(echo.toString('latin1'), 'EHLO web\r\n');
  s.destroy();
  const d = await px.next();
  assert.equal(d.action, 'allow');
  assert.equal(d.app, 'smtp');
  assert.equal(d.trigger, 'identified');
  assert.match(d.evidence.s2c.toString('latin1'), /^220 db\.shop ESMTP/);
});

test('a server-first greeting of a denied application never reaches the client', async () => {
  const port = await bannerServer('220 db.shop ESMTP Postfix\r\n');
  const p = policy(groups, [rule('web-db-redis', 'web', 'db', { ports: [tcp(1, 65535)], applications: ['redis'] })]);
  const px = await startProxy(p, port, { serverFirstMs: 50 });
  const got = await drain(dial(px.port, CLIENT));
  assert.equal(got.data, '');
  assert.equal(got.reset, true);
  const d = await px.next();
  assert.equal(d.action, 'block');
  assert.equal(d.app, 'smtp');
});

test('bytes no probe recognises are an unknown application: rules naming applications do not match it', async () => {
  const port = await echoServer();
  const p = policy(groups, [rule('web-db-http', 'web', 'db', { ports: [tcp(1, 65535)], applications: ['http'] })]);
  const px = await startProxy(p, port, { pendingMs: 300 });
  const s = dial(px.port, CLIENT);
  s.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x00, 0x01, 0x02, 0x99, 0x98]));
  const got = await drain(s);
  assert.equal(got.reset, true);
  const d = await px.next();
  assert.equal(d.action, 'block');
  assert.equal(d.app, 'unknown');
  assert.notEqual(d.appConfidence, 'dpi');
  assert.ok(d.trigger === 'timeout' || d.trigger === 'dpi-gave-up', d.trigger);
  assert.equal(d.evidence.c2s.length, 10);
});

test('a connection a rule without applications decides is decided at once, without waiting for payload', async () => {
  const port = await bannerServer('hello\n');
  const p = policy(groups, [rule('web-db-any', 'web', 'db', { ports: [tcp(1, 65535)], priority: 5 }), rule('web-db-http', 'web', 'db', { applications: ['http'] })]);
  const px = await startProxy(p, port, { serverFirstMs: 10_000 });
  const s = dial(px.port, CLIENT);
  const [banner] = (await once(s, 'data')) as [Buffer];
  assert.equal(banner.toString(), 'hello\n');
  s.destroy();
  const d = await px.next();
  assert.equal(d.trigger, 'rule');
  assert.equal(d.verdict.ruleId, 'web-db-any');
});

test('a client the policy does not allow is reset whatever it speaks, and an alert side is reported but let through', async () => {
  const port = await httpServer();
  const monitorGroups = [group('web', [app('web')]), group('attacker', [app('attacker')]), group('db', [app('db')], 'monitor')];
  const p = policy(groups, [rule('web-db-http', 'web', 'db', { applications: ['http'] })]);
  const px = await startProxy(p, port);
  const s = dial(px.port, ATTACKER);
  s.write('GET / HTTP/1.1\r\nHost: db\r\n\r\n');
  assert.equal((await drain(s)).reset, true);
  const d = await px.next();
  assert.equal(d.action, 'block');
  assert.equal(d.client.workload, 'shop/attacker');

  px.proxy.setPolicy(proxyPolicy(compile(policy(monitorGroups, p.rules, 'discover'), inv), new AddressIndex(inv)));
  const m = dial(px.port, ATTACKER);
  m.end('GET /monitored HTTP/1.1\r\nHost: db\r\nConnection: close\r\n\r\n');
  assert.match((await drain(m)).data, /hello GET \/monitored/);
  const alert = await px.next();
  assert.equal(alert.action, 'alert');
  assert.equal(alert.verdict.mode, 'monitor');
});

test('a connection that was not redirected is reset and counted', async () => {
  const proxy = new L7Proxy({ policy: proxyPolicy(compile(policy(groups, []), inv), new AddressIndex(inv)), destinationOf: () => undefined });
  const port = await proxy.listen(0, '127.0.0.1');
  closers.push(() => proxy.close());
  const got = await drain(dial(port, CLIENT));
  assert.equal(got.reset, true);
  assert.equal(proxy.stats().notRedirected, 1);
});

test('undecided connections are bounded: beyond maxPending new ones are reset, and the count goes back down', async () => {
  const port = await echoServer();
  const p = policy(groups, [rule('web-db-http', 'web', 'db', { applications: ['http'] })]);
  const px = await startProxy(p, port, { maxPending: 2, serverFirstMs: 60_000, pendingMs: 60_000 });
  const a = dial(px.port, CLIENT);
  const b = dial(px.port, CLIENT);
  await Promise.all([once(a, 'connect'), once(b, 'connect')]);
  await new Promise((r) => setTimeout(r, 50));
  const c = await drain(dial(px.port, CLIENT));
  assert.equal(c.reset, true);
  assert.equal(px.proxy.stats().overflow, 1);
  assert.equal(px.proxy.stats().pending, 2);
  a.destroy();
  b.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(px.proxy.stats().pending, 0);
  assert.equal(px.proxy.stats().open, 0);
});

test('bytes held before the decision are bounded by pendingBytes', async () => {
  const port = await echoServer();
  const p = policy(groups, [rule('web-db-http', 'web', 'db', { applications: ['http'] })]);
  const px = await startProxy(p, port, { pendingBytes: 1000, pendingMs: 60_000 });
  const s = dial(px.port, CLIENT);
  // Text no probe settles on quickly: it keeps the session undecided until the bound.
  for (let i = 0; i < 20; i++) s.write('x'.repeat(100));
  const got = await drain(s);
  assert.equal(got.reset, true);
  const d = await px.next();
  assert.ok(d.trigger === 'bytes' || d.trigger === 'dpi-gave-up', d.trigger);
  assert.ok(d.evidence.c2s.length <= 1024);
});

test('a large exchange is spliced intact both ways, half-close included', async () => {
  const port = await echoServer();
  const p = policy(groups, [rule('web-db-http', 'web', 'db', { applications: ['http'] })]);
  const px = await startProxy(p, port);
  const s = dial(px.port, CLIENT);
  const body = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
  const head = Buffer.from(`POST /upload HTTP/1.1\r\nHost: db\r\nContent-Length: ${body.length}\r\n\r\n`);
  const received = drain(s);
  s.write(head);
  s.end(body);
  const got = await received;
  assert.equal(got.reset, false);
  const expected = Buffer.concat([head, body]).toString('latin1');
  assert.equal(got.data.length, expected.length);
  assert.ok(got.data === expected, 'the echoed bytes differ');
  assert.equal((await px.next()).action, 'allow');
});

test('a policy change cuts the open connections it no longer allows once revisited, and only those', async () => {
  const port = await echoServer();
  const both = policy(groups, [rule('web-db-http', 'web', 'db', { applications: ['http'] }), rule('attacker-db-http', 'attacker', 'db', { applications: ['http'] })]);
  const px = await startProxy(both, port);
  const request = 'GET / HTTP/1.1\r\nHost: db\r\n\r\n';
  const open = async (from: string): Promise<{ s: Socket; done: Promise<{ data: string; reset: boolean }> }> => {
    const s = dial(px.port, from);
    const done = drain(s);
    s.write(request);
    assert.equal((await px.next()).action, 'allow');
    return { s, done };
  };
  const kept = await open(CLIENT);
  const cut = await open(ATTACKER);
  // Only web may still speak HTTP to db: setting the policy alone changes nothing open.
  px.proxy.setPolicy(proxyPolicy(compile(policy(groups, [rule('web-db-http', 'web', 'db', { applications: ['http'] })]), inv), new AddressIndex(inv)));
  assert.equal(px.proxy.stats().open, 2);
  assert.equal(px.proxy.revisit(), 1);
  assert.equal((await cut.done).reset, true, 'the connection the policy no longer allows is reset');
  assert.equal(px.proxy.stats().revoked, 1);
  kept.s.end(request);
  const got = await kept.done;
  assert.equal(got.reset, false);
  assert.equal(got.data, request + request, 'the allowed connection carried on');
  assert.equal(px.proxy.revisit(), 0, 'nothing more to cut');
});

test('a connection let through without identification is cut on revisit only when no rule could allow it', async () => {
  const port = await echoServer();
  const px = await startProxy(policy(groups, [rule('web-db', 'web', 'db')]), port);
  const s = dial(px.port, CLIENT);
  const done = drain(s);
  const d = await px.next();
  assert.deepEqual([d.action, d.trigger], ['allow', 'rule'], 'decided at once, nothing identified');
  const set = (p: Policy): void => px.proxy.setPolicy(proxyPolicy(compile(p, inv), new AddressIndex(inv)));
  // A rule naming applications could still match what it speaks: kept.
  set(policy(groups, [rule('web-db-http', 'web', 'db', { applications: ['http'] })]));
  assert.equal(px.proxy.revisit(), 0);
  // No rule lets web reach db any more: cut.
  set(policy(groups, []));
  assert.equal(px.proxy.revisit(), 1);
  assert.equal((await done).reset, true);
});

/** A DNS query for `name` (A, recursion desired). */
function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

test('UDP: datagrams to a proxied destination are identified per client, relayed when allowed and dropped when not', async () => {
  // The "server": answers every datagram with itself, QR bit set (a DNS response to a DNS query).
  const server = dgram.createSocket('udp4');
  server.on('message', (m, r) => {
    const reply = Buffer.from(m);
    if (reply.length > 2) reply[2] = (reply[2] as number) | 0x80;
    server.send(reply, r.port, r.address);
  });
  await new Promise<void>((resolve) => server.bind(0, SERVER, resolve));
  closers.push(() => void server.close());
  const serverPort = server.address().port;
  const p = policy(groups, [rule('web-db-dns', 'web', 'db', { ports: [{ proto: 'udp', first: serverPort, last: serverPort }], applications: ['dns'] })]);
  const decisions: ProxyDecision[] = [];
  const proxy = new L7Proxy({ policy: proxyPolicy(compile(p, inv), new AddressIndex(inv)), onDecision: (d) => decisions.push(d), destinationOf: () => undefined });
  await proxy.listen(0, '127.0.0.1');
  closers.push(() => proxy.close());
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const listen = probe.address().port;
  probe.close();
  await proxy.setUdpDestinations([{ ip: SERVER, port: serverPort, listen }]);

  const ask = async (from: string, payload: Buffer): Promise<Buffer | undefined> => {
    const c = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => c.bind(0, from, resolve));
    const answer = new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 500);
      c.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    c.send(payload, listen, '127.0.0.1');
    const got = await answer;
    c.close();
    return got;
  };
  const reply = await ask(CLIENT, dnsQuery(0x1234, 'db.shop.svc.cluster.local'));
  assert.ok(reply !== undefined && reply.readUInt16BE(0) === 0x1234 && ((reply[2] as number) & 0x80) !== 0, 'the DNS answer came back');
  assert.deepEqual(decisions.map((d) => [d.ipProto, d.action, d.app, d.client.workload]), [['udp', 'allow', 'dns', 'shop/web']]);

  const refused = await ask(ATTACKER, dnsQuery(0x4321, 'db.shop.svc.cluster.local'));
  assert.equal(refused, undefined, 'no rule allows the attacker: nothing comes back');
  const garbage = await ask(CLIENT, Buffer.from('not dns at all, just text\n'));
  assert.equal(garbage, undefined, 'another application on the DNS port is dropped');
  // Some UDP probes wait for a second datagram: the session is decided at the latest after pendingMs.
  for (let i = 0; i < 60 && decisions.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(decisions.slice(1).map((d) => [d.action, d.client.workload]), [['block', 'shop/attacker'], ['block', 'shop/web']]);
  assert.notEqual(decisions[2]?.app, 'dns');
  assert.equal(decisions[2]?.evidence.c2s.toString(), 'not dns at all, just text\n');
  assert.equal(proxy.udpStats().blocked, 2);
  // The DNS rule goes: web's relayed session ends on revisit, and its next query is dropped.
  proxy.setPolicy(proxyPolicy(compile(policy(groups, []), inv), new AddressIndex(inv)));
  assert.equal(proxy.revisit(), 1);
  assert.equal(proxy.udpStats().revoked, 1);
  assert.equal(await ask(CLIENT, dnsQuery(0x5678, 'db.shop.svc.cluster.local')), undefined, 'no answer once the rule is gone');
  await proxy.setUdpDestinations([]);
  assert.equal(proxy.udpStats().sessions, 0, 'sessions go with their destination');
});
