// Memcached (protocol.txt and the binary protocol): text commands such as "get <key>" or
// "set <key> <flags> <exptime> <bytes>" and their replies, or 24-byte binary headers with magic
// 0x80/0x81. The binary header reader is shared with Couchbase, which extends that protocol.

import { line, u8 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

export interface BinaryHeader {
  magic: number;
  opcode: number;
  keyLength: number;
  extrasLength: number;
  bodyLength: number;
}

/**
 * A binary request (magic 0x80) or response (0x81) header whose key and extras fit its body;
 * Couchbase adds the flexible-framing magics 0x08/0x18, whose key length is one byte.
 */
export function binaryHeader(b: Buffer, dir: Direction, flexible: boolean): BinaryHeader | 'need-more' | undefined {
  const magic = u8(b, 0);
  if (magic < 0) return 'need-more';
  const request = magic === 0x80 || (flexible && magic === 0x08);
  const response = magic === 0x81 || (flexible && magic === 0x18);
  if (dir === 'c2s' ? !request : !response) return undefined;
  if (b.length < 24) return 'need-more';
  const framing = magic === 0x08 || magic === 0x18 ? (b[2] as number) : 0;
  const keyLength = framing > 0 || magic === 0x08 || magic === 0x18 ? (b[3] as number) : b.readUInt16BE(2);
  const extrasLength = b[4] as number;
  const dataType = b[5] as number;
  const bodyLength = b.readUInt32BE(8);
  // Data type bits: JSON, Snappy, extended attributes; plain memcached only uses 0.
  if (dataType > (flexible ? 0x07 : 0)) return undefined;
  if (framing + extrasLength + keyLength > bodyLength || bodyLength > 20 * 1024 * 1024) return undefined;
  return { magic, opcode: b[1] as number, keyLength, extrasLength, bodyLength };
}

/**
 * Extras length each request opcode carries (binary protocol spec, section 4): get/delete/append 0,
 * set/add/replace 8 (flags, expiration), incr/decr 20, verbosity/touch/gat 4, flush 0 or 4.
 */
const REQUEST_EXTRAS: Record<number, readonly number[]> = {
  0x00: [0], 0x01: [8], 0x02: [8], 0x03: [8], 0x04: [0], 0x05: [20], 0x06: [20], 0x07: [0], 0x08: [0, 4],
  0x09: [0], 0x0a: [0], 0x0b: [0], 0x0c: [0], 0x0d: [0], 0x0e: [0], 0x0f: [0], 0x10: [0], 0x11: [8],
  0x12: [8], 0x13: [8], 0x14: [0], 0x15: [20], 0x16: [20], 0x17: [0], 0x18: [0, 4], 0x19: [0], 0x1a: [0],
  0x1b: [4], 0x1c: [4], 0x1d: [4], 0x1e: [4], 0x20: [0], 0x21: [0], 0x22: [0],
};
/** Response statuses: success, key/value/argument errors, auth, unknown command, out of memory, busy. */
function knownStatus(status: number): boolean {
  return status <= 0x09 || (status >= 0x20 && status <= 0x22) || (status >= 0x81 && status <= 0x86);
}

/** A classic memcached binary message: request extras fit the opcode, reserved vbucket 0; known response status. */
function classicMessage(b: Buffer, h: BinaryHeader): boolean {
  const extras = REQUEST_EXTRAS[h.opcode];
  if (extras === undefined) return false;
  if (h.magic === 0x81) return knownStatus(b.readUInt16BE(6));
  return extras.includes(h.extrasLength) && b.readUInt16BE(6) === 0;
}

/** Text commands and the number of arguments each takes (min, max), from protocol.txt. */
const COMMANDS = new Map<string, readonly [number, number]>(Object.entries({
  get: [1, 64], gets: [1, 64], gat: [2, 64], gats: [2, 64], set: [4, 5], add: [4, 5], replace: [4, 5],
  append: [4, 5], prepend: [4, 5], cas: [5, 6], delete: [1, 2], incr: [2, 3], decr: [2, 3], touch: [2, 3],
  stats: [0, 2], version: [0, 0], flush_all: [0, 2], verbosity: [1, 2], quit: [0, 0],
  mg: [1, 64], ms: [2, 64], md: [1, 64], ma: [1, 64], mn: [0, 0], me: [1, 1],
}));
const COMMAND_NAMES = [...COMMANDS.keys()];
/** Storage commands whose <flags> <exptime> <bytes> arguments are numbers. */
const STORAGE = new Set(['set', 'add', 'replace', 'append', 'prepend', 'cas']);

const REPLIES = /^(VALUE \S{1,250} \d+ \d+( \d+)?|STORED|NOT_STORED|EXISTS|NOT_FOUND|DELETED|TOUCHED|END|OK|ERROR|VERSION \S+|STAT \S+ .*|(CLIENT|SERVER)_ERROR .*|\d+|HD( .*)?|VA \d+( .*)?|EN|NF|NS|EX|MN)$/;

function probeTextRequest(b: Buffer): { result: ProbeResult; command?: string } {
  const text = line(b, 0, 2048);
  if (text === undefined) {
    const head = b.toString('latin1', 0, Math.min(b.length, 10));
    const word = head.split(' ')[0] ?? '';
    const spaced = head.includes(' ');
    const open = b.length < 2048 && COMMAND_NAMES.some((c) => (spaced ? c === word : c.startsWith(word)));
    return { result: open ? 'need-more' : 'no' };
  }
  const [command = '', ...args] = text.split(' ');
  const arity = COMMANDS.get(command);
  if (arity === undefined || args.length < arity[0] || args.length > arity[1]) return { result: 'no' };
  if (args.some((a) => a.length === 0 || a.length > 250 || !/^[!-~]+$/.test(a))) return { result: 'no' };
  if (STORAGE.has(command) && !args.slice(1, command === 'cas' ? 5 : 4).every((a) => /^-?\d+$/.test(a))) return { result: 'no' };
  return { result: 'match', command };
}

function probeTextReply(b: Buffer, other: Buffer): ProbeResult {
  const text = line(b, 0, 1024);
  if (text === undefined) return b.length < 1024 && /^[A-Z_]*( |$)/.test(b.toString('latin1', 0, Math.min(b.length, 14))) ? 'need-more' : 'no';
  if (!REPLIES.test(text)) return 'no';
  // Bare status words are common to many protocols; they only count after a memcached request.
  if (other.length === 0) return /^(VERSION|STAT|VALUE) /.test(text) ? 'match' : 'need-more';
  return probeTextRequest(other).result === 'match' ? 'match' : 'no';
}

/** Over UDP each datagram starts with a frame header: request id, sequence, count, reserved 0. */
function udpPayload(data: Buffer, ctx: ProbeContext): Buffer | undefined {
  if (ctx.transport !== 'udp') return data;
  if (data.length < 8) return undefined;
  const sequence = data.readUInt16BE(2);
  const count = data.readUInt16BE(4);
  return count >= 1 && sequence < count && data.readUInt16BE(6) === 0 ? data.subarray(8) : undefined;
}

function probe(datagram: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const data = udpPayload(datagram, ctx);
  if (data === undefined) return ctx.transport === 'udp' && datagram.length >= 8 ? 'no' : 'need-more';
  const first = u8(data, 0);
  if (first < 0) return 'need-more';
  if (first === 0x80 || first === 0x81) {
    const h = binaryHeader(data, dir, false);
    if (h === 'need-more') return 'need-more';
    return h !== undefined && classicMessage(data, h) ? 'match' : 'no';
  }
  return dir === 'c2s' ? probeTextRequest(data).result : probeTextReply(data, ctx.other);
}

function extract(datagram: Buffer, dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean {
  const data = udpPayload(datagram, ctx);
  if (dir !== 'c2s' || data === undefined) return false;
  const first = u8(data, 0);
  if (first === 0x80) {
    const h = binaryHeader(data, dir, false);
    if (h === 'need-more') return true;
    if (h !== undefined) meta.memcachedOpcode = h.opcode;
    return false;
  }
  const r = probeTextRequest(data);
  if (r.command !== undefined) meta.memcachedCommand = r.command;
  return r.result === 'need-more';
}

export const memcached: ProtocolModule = {
  name: 'Memcached',
  transports: ['tcp', 'udp'],
  ports: [11211],
  probe,
  extract,
};
