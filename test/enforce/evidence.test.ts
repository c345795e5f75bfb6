import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceSample, tcpFrame } from '../../src/enforce/proxy/evidence.js';
import type { ProxyDecision } from '../../src/enforce/proxy/proxy.js';
import { decodeFrame, formatIp, LINKTYPE_RAW } from '../../src/packet/index.js';
import { pcapFromSample } from '../../src/events/index.js';
import { readCapture } from '../../src/packet/index.js';
import { Readable } from 'node:stream';

/** One's-complement sum of 16-bit words: 0xffff over a span that includes its own correct checksum. */
function sum(buf: Buffer, start: number, end: number, acc = 0): number {
  for (let i = start; i < end; i += 2) acc += ((buf[i] as number) << 8) | (i + 1 < end ? (buf[i + 1] as number) : 0);
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

test('an IPv4 evidence frame decodes to the endpoints, sequence and payload, with valid checksums', () => {
  const payload = Buffer.from('*1\r\n$4\r\nPING\r\n');
  const frame = tcpFrame({ ip: '10.200.1.10', port: 40001 }, { ip: '10.200.1.20', port: 8080 }, 1, 1, payload) as Buffer;
  const pkt = decodeFrame(frame, LINKTYPE_RAW);
  assert.notEqual(typeof pkt, 'string');
  if (typeof pkt === 'string') return;
  assert.equal(formatIp(pkt.src), '10.200.1.10');
  assert.equal(formatIp(pkt.dst), '10.200.1.20');
  assert.deepEqual([pkt.proto, pkt.srcPort, pkt.dstPort, pkt.seq], [6, 40001, 8080, 1]);
  assert.equal(pkt.payload.toString(), payload.toString());
  assert.equal(sum(frame, 0, 20), 0xffff, 'IPv4 header checksum');
  const pseudo = Buffer.concat([frame.subarray(12, 20), Buffer.from([0, 6]), Buffer.from([(frame.length - 20) >> 8, (frame.length - 20) & 0xff])]);
  assert.equal(sum(frame, 20, frame.length, sum(pseudo, 0, pseudo.length)), 0xffff, 'TCP checksum');
});

test('an IPv6 evidence frame carries the addresses and payload', () => {
  const frame = tcpFrame({ ip: 'fd00::10', port: 40001 }, { ip: 'fd00::20', port: 443 }, 1, 1, Buffer.from('hello')) as Buffer;
  const pkt = decodeFrame(frame, LINKTYPE_RAW);
  if (typeof pkt === 'string') assert.fail(pkt);
  assert.equal(pkt.ipVersion, 6);
  assert.equal(formatIp(pkt.dst), 'fd00::20');
  assert.equal(pkt.payload.toString(), 'hello');
  assert.equal(tcpFrame({ ip: '10.0.0.1', port: 1 }, { ip: 'fd00::1', port: 2 }, 1, 1, Buffer.alloc(0)), undefined, 'mixed families make no frame');
});

test("a decision's evidence becomes a sample that writes as a readable pcap: client bytes, then the server's", async () => {
  const d = {
    at: Date.parse('2026-11-24T12:00:00Z'),
    client: { ip: '10.200.1.10', port: 40001 },
    server: { ip: '10.200.1.20', port: 25 },
    evidence: { c2s: Buffer.from('EHLO web\r\n'), s2c: Buffer.from('220 db ESMTP\r\n') },
  } as unknown as ProxyDecision;
  const sample = evidenceSample(d);
  assert.equal(sample?.frames.length, 2);
  const payloads: string[] = [];
  for await (const r of readCapture(Readable.from([pcapFromSample(sample as NonNullable<typeof sample>)]))) {
    const pkt = decodeFrame(r.data, r.linkType);
    payloads.push(typeof pkt === 'string' ? pkt : pkt.payload.toString());
  }
  assert.deepEqual(payloads, ['EHLO web\r\n', '220 db ESMTP\r\n']);
  const none = evidenceSample({ ...d, evidence: { c2s: Buffer.alloc(0), s2c: Buffer.alloc(0) } });
  assert.equal(none, undefined);
});
