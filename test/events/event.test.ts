import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { addPacketSample, makeEvent, MAX_TEXT, SAMPLE_LIMITS } from '../../src/events/event.js';
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
