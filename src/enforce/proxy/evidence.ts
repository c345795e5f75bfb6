// A proxy decision's evidence as packets: the first bytes each direction sent before the decision,
// written as raw IP/TCP frames between the real endpoints, so an event's sample opens in any pcap
// tool like a capture of the connection. The proxy saw a byte stream, not packets: one frame per
// direction, sequence numbers relative to the start of each stream, checksums computed.

import type { PacketSample, SampleFrame } from '../../events/index.js';
import { SAMPLE_LIMITS } from '../../events/index.js';
import { parseIp } from '../../model/address.js';
import { LINKTYPE_RAW } from '../../packet/index.js';
import type { ProxyDecision } from './proxy.js';

const TCP_HEADER = 20;
const PSH_ACK = 0x18;

function sum16(buf: Buffer, start: number, end: number, acc = 0): number {
  for (let i = start; i + 1 < end; i += 2) acc += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if ((end - start) % 2 === 1) acc += (buf[end - 1] as number) << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

function addressBytes(ip: string): Buffer | undefined {
  const a = parseIp(ip);
  if (a === undefined) return undefined;
  if (a.version === 4) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(a.value >>> 0);
    return b;
  }
  const b = Buffer.alloc(16);
  let v = a.value;
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/** One IPv4 or IPv6 packet carrying `payload` from src to dst; undefined for addresses that do not parse. */
export function tcpFrame(src: { ip: string; port: number }, dst: { ip: string; port: number }, seq: number, ack: number, payload: Buffer): Buffer | undefined {
  const s = addressBytes(src.ip);
  const d = addressBytes(dst.ip);
  if (s === undefined || d === undefined || s.length !== d.length) return undefined;
  const v4 = s.length === 4;
  const ipHeader = v4 ? 20 : 40;
  const frame = Buffer.alloc(ipHeader + TCP_HEADER + payload.length);
  const tcpLength = TCP_HEADER + payload.length;
  if (v4) {
    frame[0] = 0x45;
    frame.writeUInt16BE(frame.length, 2);
    frame.writeUInt16BE(0x4000, 6); // don't fragment
    frame[8] = 64;
    frame[9] = 6;
    s.copy(frame, 12);
    d.copy(frame, 16);
    frame.writeUInt16BE(fold(sum16(frame, 0, 20)), 10);
  } else {
    frame.writeUInt32BE(0x60000000, 0);
    frame.writeUInt16BE(tcpLength, 4);
    frame[6] = 6;
    frame[7] = 64;
    s.copy(frame, 8);
    d.copy(frame, 24);
  }
  const t = ipHeader;
  frame.writeUInt16BE(src.port, t);
  frame.writeUInt16BE(dst.port, t + 2);
  frame.writeUInt32BE(seq >>> 0, t + 4);
  frame.writeUInt32BE(ack >>> 0, t + 8);
  frame[t + 12] = (TCP_HEADER / 4) << 4;
  frame[t + 13] = PSH_ACK;
  frame.writeUInt16BE(0xffff, t + 14);
  payload.copy(frame, t + TCP_HEADER);
  // Checksum over the pseudo-header (addresses, protocol, length) and the segment.
  let acc = sum16(s, 0, s.length) + sum16(d, 0, d.length) + 6 + tcpLength;
  acc = sum16(frame, t, frame.length, acc);
  frame.writeUInt16BE(fold(acc), t + 16);
  return frame;
}

/** The decision's evidence as a packet sample: the client's bytes, then the server's. */
export function evidenceSample(d: ProxyDecision): PacketSample | undefined {
  const frames: SampleFrame[] = [];
  const tsUs = d.at * 1000;
  // Relative sequence numbers as a capture tool shows them: each stream starts at 1.
  const c2s = d.evidence.c2s.subarray(0, SAMPLE_LIMITS.snapLen - 60);
  const s2c = d.evidence.s2c.subarray(0, SAMPLE_LIMITS.snapLen - 60);
  const parts: [typeof d.client, typeof d.server, Buffer, number, number][] = [];
  if (s2c.length > 0 && c2s.length === 0) parts.push([d.server, d.client, s2c, 1, 1]);
  else {
    if (c2s.length > 0) parts.push([d.client, d.server, c2s, 1, 1]);
    if (s2c.length > 0) parts.push([d.server, d.client, s2c, 1, 1 + c2s.length]);
  }
  for (const [src, dst, payload, seq, ack] of parts) {
    const frame = tcpFrame(src, dst, seq, ack, payload);
    if (frame !== undefined) frames.push({ tsUs, origLen: frame.length, data: frame.toString('base64') });
  }
  return frames.length === 0 ? undefined : { linkType: LINKTYPE_RAW, frames };
}
