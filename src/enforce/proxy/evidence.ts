// A proxy decision's evidence as packets: the first bytes each direction sent before the decision,
// written as raw IP/TCP (or UDP) frames between the real endpoints, so an event's sample opens in
// any pcap tool like a capture of the connection. Over TCP the proxy saw a byte stream, not
// packets: one frame per direction, sequence numbers relative to the start of each stream;
// over UDP the first datagrams as one. Checksums computed.

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

type End = { ip: string; port: number };

/** An IP packet of `l4Length` transport bytes after the header; undefined for addresses that do not parse. */
function ipPacket(src: string, dst: string, proto: number, l4Length: number): { frame: Buffer; at: number; pseudo: number } | undefined {
  const s = addressBytes(src);
  const d = addressBytes(dst);
  if (s === undefined || d === undefined || s.length !== d.length) return undefined;
  const v4 = s.length === 4;
  const ipHeader = v4 ? 20 : 40;
  const frame = Buffer.alloc(ipHeader + l4Length);
  if (v4) {
    frame[0] = 0x45;
    frame.writeUInt16BE(frame.length, 2);
    frame.writeUInt16BE(0x4000, 6); // don't fragment
    frame[8] = 64;
    frame[9] = proto;
    s.copy(frame, 12);
    d.copy(frame, 16);
    frame.writeUInt16BE(fold(sum16(frame, 0, 20)), 10);
  } else {
    frame.writeUInt32BE(0x60000000, 0);
    frame.writeUInt16BE(l4Length, 4);
    frame[6] = proto;
    frame[7] = 64;
    s.copy(frame, 8);
    d.copy(frame, 24);
  }
  // The transport checksum covers a pseudo-header of addresses, protocol and length.
  return { frame, at: ipHeader, pseudo: sum16(s, 0, s.length) + sum16(d, 0, d.length) + proto + l4Length };
}

/** One UDP datagram from src to dst as an IPv4 or IPv6 packet. */
export function udpFrame(src: End, dst: End, payload: Buffer): Buffer | undefined {
  const p = ipPacket(src.ip, dst.ip, 17, 8 + payload.length);
  if (p === undefined) return undefined;
  const { frame, at: u } = p;
  frame.writeUInt16BE(src.port, u);
  frame.writeUInt16BE(dst.port, u + 2);
  frame.writeUInt16BE(8 + payload.length, u + 4);
  payload.copy(frame, u + 8);
  frame.writeUInt16BE(fold(sum16(frame, u, frame.length, p.pseudo)) || 0xffff, u + 6);
  return frame;
}

/** One TCP segment (PSH|ACK) carrying `payload` from src to dst as an IPv4 or IPv6 packet. */
export function tcpFrame(src: End, dst: End, seq: number, ack: number, payload: Buffer): Buffer | undefined {
  const p = ipPacket(src.ip, dst.ip, 6, TCP_HEADER + payload.length);
  if (p === undefined) return undefined;
  const frame = p.frame;
  const t = p.at;
  frame.writeUInt16BE(src.port, t);
  frame.writeUInt16BE(dst.port, t + 2);
  frame.writeUInt32BE(seq >>> 0, t + 4);
  frame.writeUInt32BE(ack >>> 0, t + 8);
  frame[t + 12] = (TCP_HEADER / 4) << 4;
  frame[t + 13] = PSH_ACK;
  frame.writeUInt16BE(0xffff, t + 14);
  payload.copy(frame, t + TCP_HEADER);
  frame.writeUInt16BE(fold(sum16(frame, t, frame.length, p.pseudo)), t + 16);
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
    const frame = d.ipProto === 'udp' ? udpFrame(src, dst, payload) : tcpFrame(src, dst, seq, ack, payload);
    if (frame !== undefined) frames.push({ tsUs, origLen: frame.length, data: frame.toString('base64') });
  }
  return frames.length === 0 ? undefined : { linkType: LINKTYPE_RAW, frames };
}
