import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { addPacketSample, findingEvent, makeEvent, MAX_TEXT, SAMPLE_LIMITS, violationEvent } from '../../src/events/event.js';
import { pcapFromSample } from '../../src/events/pcap.js';
import { decodeFrame, LINKTYPE_ETHERNET, LINKTYPE_RAW, readCapture, type CaptureRecord, type Packet } from '../../src/packet/index.js';
import { ether, ipv4, tcp } from '../packet/build.js';
import { violation } from './sample-events.js';

const SYN = 0x02;

function packet(frame: Buffer, tsUs: number, linkType = LINKTYPE_ETHERNET): Packet {
  const p = decodeFrame(frame, linkType, tsUs);
  assert.equal(typeof p, 'object', 'test frame must decode');
  return p as Packet;
}

async function records(file: Buffer): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of readCapture(Readable.from([file]))) out.push({ ...r, data: Buffer.from(r.data) });
  return out;
}

test('makeEvent gives an id, a count of one and lastSeen equal to firstSeen', () => {
  const e = violation();
  assert.match(e.id, /^[0-9a-f-]{36}$/);
  assert.equal(e.count, 1);
  assert.equal(e.lastSeen, e.firstSeen);
});

test('makeEvent cuts a finding detail that quotes a huge payload', () => {
  const e = violation({ kind: 'threat', finding: { name: 'sql-injection', severity: 'high', detail: "' OR 1=1 --".repeat(1000) } });
  assert.ok((e.finding?.detail.length ?? 0) <= MAX_TEXT + 1);
});

test('a packet sample keeps only the first frames', () => {
  let sample;
  for (let i = 0; i < SAMPLE_LIMITS.frames + 3; i++) {
    sample = addPacketSample(sample, packet(ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(40000 + i, 80, 1, 0, SYN))), 1_000_000 + i));
  }
  assert.equal(sample?.frames.length, SAMPLE_LIMITS.frames);
  assert.equal(sample?.frames[0]?.tsUs, 1_000_000);
});

test('a packet sample skips frames of another link type', () => {
  const first = addPacketSample(undefined, packet(ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 80, 1, 0, SYN))), 1));
  const raw = addPacketSample(first, packet(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 80, 1, 0, SYN)), 2, LINKTYPE_RAW));
  assert.equal(raw.frames.length, 1);
  assert.equal(raw.linkType, LINKTYPE_ETHERNET);
});

test('a sample written as pcap reads back with the same frames, times and link type', async () => {
  const frames = [
    ether(ipv4('10.200.1.5', '10.200.2.9', 6, tcp(43512, 5432, 100, 0, SYN))),
    ether(ipv4('10.200.1.5', '10.200.2.9', 6, tcp(43512, 5432, 101, 0, 0x18, 'SELECT 1'))),
  ];
  let sample;
  for (const [i, f] of frames.entries()) sample = addPacketSample(sample, packet(f, 1_740_823_200_123_456 + i));
  assert.ok(sample);
  const back = await records(pcapFromSample(sample));
  assert.deepEqual(
    back.map((r) => ({ linkType: r.linkType, ts: r.ts, data: r.data })),
    frames.map((f, i) => ({ linkType: LINKTYPE_ETHERNET, ts: 1_740_823_200_123_456 + i, data: f })),
  );
  const decoded = decodeFrame(back[1]?.data ?? Buffer.alloc(0), LINKTYPE_ETHERNET);
  assert.equal((decoded as Packet).payload.toString(), 'SELECT 1');
});

test('a frame longer than the snap length is cut and keeps its wire length in pcap', async () => {
  const big = ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 80, 1, 0, 0x18, 'x'.repeat(3000))));
  const sample = addPacketSample(undefined, packet(big, 5));
  const [rec] = await records(pcapFromSample(sample));
  assert.equal(rec?.data.length, SAMPLE_LIMITS.snapLen);
  assert.equal(rec?.origLen, big.length);
});

test('an event with a sample survives a JSON round trip', () => {
  const sample = addPacketSample(undefined, packet(ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 80, 1, 0, SYN))), 1));
  const e = makeEvent({ ...violation(), sample });
  assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
});

const shop = new Map([
  ['shop/frontend-7d9', { id: 'shop/frontend-7d9', name: 'frontend-7d9', namespace: 'shop', kind: 'Pod', labels: {}, node: 'n1', image: 'nginx', service: 'frontend', addresses: [] }],
]);
const flow = {
  firstSeen: '2025-03-01T10:00:00.000Z',
  lastSeen: '2025-03-01T10:00:01.000Z',
  ipProto: 'tcp' as const,
  client: { ip: '10.200.1.5', port: 43512, workload: 'shop/frontend-7d9' },
  server: { ip: '203.0.113.7', port: 443 },
  app: 'tls',
  appConfidence: 'dpi' as const,
};
const verdict = { ruleId: 'default', mode: 'protect' as const, reason: 'no rule allows it', violation: true, enforced: true, perimeters: [] };

test('a blocked connection becomes a drop violation naming the client workload', () => {
  const e = violationEvent(flow, { ...verdict, allowed: false }, (id) => shop.get(id));
  assert.equal(e.action, 'drop');
  assert.deepEqual(e.client, { ip: '10.200.1.5', port: 43512, workload: 'shop/frontend-7d9', name: 'frontend-7d9', service: 'frontend', namespace: 'shop' });
  assert.deepEqual(e.server, { ip: '203.0.113.7', port: 443 });
  assert.equal(e.lastSeen, flow.lastSeen);
});

test('a violation the verdict lets through is an alert', () => {
  assert.equal(violationEvent(flow, { ...verdict, allowed: true, mode: 'monitor' }, (id) => shop.get(id)).action, 'alert');
});

test('a finding that asks to block only alerts when the workload is not in protect', () => {
  const finding = { name: 'sql-injection', severity: 'high' as const, detail: "id=1' OR '1'='1", action: 'block' as const };
  assert.equal(findingEvent(flow, 'threat', finding, 'protect', (id) => shop.get(id)).action, 'block');
  const monitored = findingEvent(flow, 'threat', finding, 'monitor', (id) => shop.get(id));
  assert.equal(monitored.action, 'alert');
  assert.match(monitored.reason, /not in protect/);
});
