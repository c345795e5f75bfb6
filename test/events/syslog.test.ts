import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { backoffDelay } from '../../src/events/backoff.js';
import { addPacketSample, type Event } from '../../src/events/event.js';
import { SyslogSink } from '../../src/events/syslog-sink.js';
import { formatSyslog, octetCounted, SD_ID, syslogSeverity, type SyslogFormat } from '../../src/events/syslog.js';
import { decodeFrame, type Packet } from '../../src/packet/index.js';
import { ether, ipv4, tcp } from '../packet/build.js';
import { eventually, freeTcpPort, rsyslog } from './rsyslog.js';
import { violation } from './sample-events.js';

const FORMAT: SyslogFormat = { facility: 'local0', hostname: 'node-1', appName: 'palisade', procId: '42', maxBytes: 8192 };

/** Splits `[id k="v" ...]` into its parameters, undoing the RFC 5424 escapes. */
function parseSd(text: string): { id: string; params: Record<string, string>; rest: string } {
  const m = /^\[(\S+) /.exec(text);
  assert.ok(m, `no structured data in ${text}`);
  const params: Record<string, string> = {};
  let i = m[0].length;
  while (text[i] !== ']') {
    const eq = text.indexOf('="', i);
    const name = text.slice(i, eq).trim();
    let value = '';
    for (i = eq + 2; text[i] !== '"'; i++) value += text[i] === '\\' ? text[++i] : text[i];
    params[name] = value;
    i++;
  }
  return { id: m[1] as string, params, rest: text.slice(i + 2) };
}

/** A received line of the test rsyslog's template: the header fields, the SD and the JSON message. */
function parseReceived(line: string): { msgid: string; hostname: string; app: string; sd: ReturnType<typeof parseSd>; json: Event } {
  const [version, hostname, app, , msgid] = line.split(' ', 5);
  assert.equal(version, '1');
  const sdStart = line.indexOf('[');
  const sd = parseSd(line.slice(sdStart));
  return { msgid: msgid ?? '', hostname: hostname ?? '', app: app ?? '', sd, json: JSON.parse(sd.rest) as Event };
}

const awkward = (): Event[] => [
  violation({ id: 'v-1' }),
  violation({ id: 'v-2', reason: 'quote " backslash \\ bracket ] and ünïcode → done', client: { ip: '10.200.1.5', port: 1, workload: 'shop/we"ird]\\name' } }),
  violation({
    id: 't-1',
    kind: 'threat',
    action: 'block',
    app: 'postgresql',
    appConfidence: 'dpi',
    ruleId: 'allow-frontend-db',
    finding: { name: 'sql-injection', severity: 'high', detail: "SELECT * FROM users WHERE id='1' OR '1'='1'" },
    serverPorts: { ports: [5432, 5433], truncated: true },
    count: 7,
  }),
];

test('the PRI says facility and severity: a dropped violation is a warning, a blocked threat an error', () => {
  assert.match(formatSyslog(violation(), FORMAT), /^<132>1 /);
  assert.equal(syslogSeverity(violation({ kind: 'threat', action: 'block' })), 3);
  assert.equal(syslogSeverity(violation({ action: 'alert' })), 5);
});

test('structured data escapes quote, backslash and closing bracket', () => {
  const line = formatSyslog(violation({ client: { ip: '10.0.0.1', port: 1, workload: 'a"b\\c]d' } }), FORMAT);
  assert.ok(line.includes('srcWorkload="a\\"b\\\\c\\]d"'));
});

test('the message part is the event as ASCII JSON without its packet sample', () => {
  const frame = ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 80, 1, 0, 2)));
  const e = violation({ reason: 'über', sample: addPacketSample(undefined, decodeFrame(frame, 1) as Packet) });
  const line = formatSyslog(e, FORMAT);
  assert.ok(/^[\x20-\x7e]*$/.test(line));
  assert.deepEqual(parseSd(line.slice(line.indexOf('['))).rest, JSON.stringify({ ...e, sample: undefined }).replace('ü', '\\u00fc'));
});

test('a message over the size limit keeps the structured data and only the id in JSON', () => {
  const e = violation({ reason: 'x'.repeat(1000) });
  const line = formatSyslog(e, { ...FORMAT, maxBytes: 900 });
  const sd = parseSd(line.slice(line.indexOf('[')));
  assert.equal(sd.params.dst, '10.200.2.9');
  assert.deepEqual(JSON.parse(sd.rest), { id: e.id, truncated: true });
});

test('octet counting frames the message with its length in bytes', () => {
  assert.equal(octetCounted('ab→').toString(), '5 ab→');
});

test('backoff doubles per failure, stays within half to all of it, and is capped', () => {
  const o = { baseMs: 100, maxMs: 1000 };
  assert.deepEqual([1, 2, 3].map((n) => backoffDelay(n, o, () => 1)), [100, 200, 400]);
  assert.equal(backoffDelay(3, o, () => 0), 200);
  assert.equal(backoffDelay(50, o, () => 1), 1000);
});

for (const transport of ['udp', 'tcp'] as const) {
  test(`events reach a real rsyslogd over ${transport} with structured data and JSON intact`, async (t) => {
    const server = await rsyslog();
    t.after(() => server.stop());
    await server.start();
    const sink = new SyslogSink({ host: '127.0.0.1', port: transport === 'udp' ? server.udpPort : server.tcpPort, transport, hostname: 'node-1' });
    const events = awkward();
    for (const e of events) sink.write(e);
    await sink.close();
    assert.ok(await eventually(() => server.lines().length >= events.length), `rsyslog got ${server.lines().length} lines`);
    const received = server.lines().map(parseReceived);
    assert.deepEqual(received.map((r) => r.json), events);
    for (const [i, r] of received.entries()) {
      const e = events[i] as Event;
      assert.equal(r.hostname, 'node-1');
      assert.equal(r.app, 'palisade');
      assert.equal(r.msgid, e.kind);
      assert.equal(r.sd.id, SD_ID);
      assert.equal(r.sd.params.id, e.id);
      assert.equal(r.sd.params.src, e.client.ip);
      assert.equal(r.sd.params.dpt, String(e.server.port));
      assert.equal(r.sd.params.srcWorkload, e.client.workload);
      assert.equal(r.sd.params.rule, e.ruleId);
      assert.equal(r.sd.params.count, String(e.count));
    }
    assert.equal(received[2]?.sd.params.finding, 'sql-injection');
    assert.equal(received[2]?.sd.params.dstPorts, '5432,5433,...');
    assert.equal(sink.stats.delivered, events.length);
  });
}

test('the TCP sink queues while rsyslogd is down and delivers once it is up', async (t) => {
  const server = await rsyslog();
  t.after(() => server.stop());
  const sink = new SyslogSink({ host: '127.0.0.1', port: server.tcpPort, transport: 'tcp', reconnect: { baseMs: 20, maxMs: 200 }, closeTimeoutMs: 20_000 });
  const events = awkward();
  for (const e of events) sink.write(e);
  await server.start();
  await sink.close();
  assert.ok(await eventually(() => server.lines().length >= events.length));
  assert.deepEqual(server.lines().map((l) => parseReceived(l).json.id), ['v-1', 'v-2', 't-1']);
});

test('the TCP sink reconnects after the collector drops the connection', async (t) => {
  const port = await freeTcpPort();
  const connections: Socket[] = [];
  let received = '';
  const collector = createServer((socket) => {
    connections.push(socket);
    socket.on('data', (d) => (received += d.toString()));
  });
  await new Promise<void>((resolve) => collector.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => collector.close(() => resolve())));
  const sink = new SyslogSink({ host: '127.0.0.1', port, transport: 'tcp', reconnect: { baseMs: 10, maxMs: 50 } });
  sink.write(violation({ id: 'before' }));
  assert.ok(await eventually(() => received.includes('id="before"')));
  connections[0]?.destroy();
  assert.ok(await eventually(() => connections.length === 2), 'the sink came back');
  sink.write(violation({ id: 'after' }));
  await sink.close();
  assert.ok(await eventually(() => received.includes('id="after"')));
  assert.deepEqual(sink.stats, { delivered: 2, dropped: 0, failed: 0 });
});

test('closing a TCP sink whose collector never comes up gives up on the queue and counts it', async () => {
  const port = await freeTcpPort();
  const sink = new SyslogSink({ host: '127.0.0.1', port, transport: 'tcp', reconnect: { baseMs: 10, maxMs: 20 }, closeTimeoutMs: 100 });
  sink.write(violation());
  sink.write(violation());
  await sink.close();
  assert.deepEqual(sink.stats, { delivered: 0, dropped: 0, failed: 2 });
});

test('a TCP sink with a full queue drops the oldest waiting message', async (t) => {
  const port = await freeTcpPort();
  let received = '';
  const collector = createServer((socket) => socket.on('data', (d) => (received += d.toString())));
  t.after(() => new Promise<void>((resolve) => collector.close(() => resolve())));
  const sink = new SyslogSink({ host: '127.0.0.1', port, transport: 'tcp', maxQueue: 2, reconnect: { baseMs: 10, maxMs: 20 }, closeTimeoutMs: 10_000 });
  for (const id of ['a', 'b', 'c']) sink.write(violation({ id }));
  await new Promise<void>((resolve) => collector.listen(port, '127.0.0.1', resolve));
  await sink.close();
  assert.ok(await eventually(() => received.includes('id="c"')));
  assert.equal(received.includes('id="a"'), false);
  assert.deepEqual(sink.stats, { delivered: 2, dropped: 1, failed: 0 });
});
