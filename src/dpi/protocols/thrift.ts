// Apache Thrift RPC: a message begins with the binary protocol's strict header (0x8001, message
// type, method name, sequence id) or the compact protocol's (0x82, type and version, varint
// sequence id, method name), optionally after a 4-byte frame length (framed transport).
// The extractor records the method name and the encoding.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** Message types: call, reply, exception, oneway. */
const CALL = 1;
const ONEWAY = 4;
const MAX_NAME = 256;
/** Thrift's default maximum frame size (16 MB). */
const MAX_FRAME = 16 * 1024 * 1024;

interface Message {
  protocol: 'binary' | 'compact';
  type: number;
  method: string;
}

function methodName(b: Buffer, at: number, length: number): string | 'need-more' | undefined {
  if (length < 1 || length > MAX_NAME) return undefined;
  if (at + length > b.length) return 'need-more';
  const name = b.toString('latin1', at, at + length);
  return /^[A-Za-z_][A-Za-z0-9_.:]*$/.test(name) ? name : undefined;
}

function message(b: Buffer, at: number): Message | 'need-more' | undefined {
  const first = b[at];
  if (first === undefined) return 'need-more';
  if (first === 0x80) {
    if (at + 8 > b.length) return b[at + 1] === undefined || b[at + 1] === 0x01 ? 'need-more' : undefined;
    const type = b[at + 3] as number;
    if (b[at + 1] !== 0x01 || b[at + 2] !== 0 || type < CALL || type > ONEWAY) return undefined;
    const method = methodName(b, at + 8, b.readInt32BE(at + 4));
    if (method === 'need-more' || method === undefined) return method;
    return { protocol: 'binary', type, method };
  }
  if (first === 0x82) {
    const second = b[at + 1];
    if (second === undefined) return 'need-more';
    const type = second >> 5;
    if ((second & 0x1f) !== 1 || type < CALL || type > ONEWAY) return undefined;
    // Sequence id: varint of up to 5 bytes; then the name's varint length.
    let i = at + 2;
    for (let n = 0; n < 5 && (b[i] ?? 0) & 0x80; n++) i++;
    if (i >= b.length) return 'need-more';
    i++;
    let length = 0;
    for (let shift = 0; shift < 14; shift += 7) {
      const c = b[i++];
      if (c === undefined) return 'need-more';
      length |= (c & 0x7f) << shift;
      if ((c & 0x80) === 0) {
        const method = methodName(b, i, length);
        if (method === 'need-more' || method === undefined) return method;
        return { protocol: 'compact', type, method };
      }
    }
    return undefined;
  }
  return undefined;
}

/** The message unframed or after a 4-byte frame length that covers it. */
function framedMessage(b: Buffer): (Message & { framed: boolean }) | 'need-more' | undefined {
  const direct = message(b, 0);
  if (direct !== undefined) return direct === 'need-more' ? direct : { ...direct, framed: false };
  if (b.length < 4) return b[0] === 0 || b.length === 0 ? 'need-more' : undefined;
  const frame = b.readInt32BE(0);
  if (frame < 9 || frame > MAX_FRAME) return undefined;
  const inner = message(b, 4);
  return inner === undefined || inner === 'need-more' ? inner : { ...inner, framed: true };
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  const m = framedMessage(data);
  if (m === 'need-more') return 'need-more';
  if (m === undefined) return 'no';
  // Clients send calls and oneways; servers send replies and exceptions.
  const fromClient = m.type === CALL || m.type === ONEWAY;
  return fromClient === (dir === 'c2s') ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const m = framedMessage(data);
  if (m === 'need-more') return true;
  if (m === undefined) return false;
  if (dir === 'c2s') meta.thriftMethod = m.method;
  meta.thriftProtocol = m.framed ? `${m.protocol}-framed` : m.protocol;
  return false;
}

export const thrift: ProtocolModule = {
  name: 'Thrift',
  transports: ['tcp'],
  ports: [9090, 9160],
  probe,
  extract,
};
