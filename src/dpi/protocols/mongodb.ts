// MongoDB wire protocol: every message starts with a 16-byte little-endian header (messageLength,
// requestID, responseTo, opCode) followed by OP_MSG sections, an OP_QUERY or an OP_REPLY, each
// carrying BSON documents. The extractor reads the command name and the target database.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_COMPRESSED = 2012;
const OP_MSG = 2013;
/** maxMessageSizeBytes of current servers. */
const MAX_MESSAGE = 48_000_000;
/** OP_MSG flag bits defined by the spec: checksumPresent, moreToCome, exhaustAllowed. */
const OP_MSG_FLAGS = 0x00010003;

function i32(b: Buffer, at: number): number | undefined {
  return at >= 0 && at + 4 <= b.length ? b.readInt32LE(at) : undefined;
}

/** A BSON document header at `at`: plausible length within the message, trailing 0 when visible. */
function documentFits(b: Buffer, at: number, messageEnd: number): ProbeResult {
  const length = i32(b, at);
  if (length === undefined) return 'need-more';
  if (length < 5 || at + length > messageEnd) return 'no';
  const last = b[at + length - 1];
  if (last === undefined) return 'match';
  return last === 0 ? 'match' : 'no';
}

/** The start of the first BSON document of a message, or undefined when the opcode has none. */
function firstDocument(b: Buffer, opCode: number): number | undefined {
  if (opCode === OP_MSG) return b[20] === 0 ? 21 : undefined;
  if (opCode === OP_REPLY) return 36;
  if (opCode === OP_QUERY) {
    const nul = b.indexOf(0, 20);
    return nul < 0 || nul > 20 + 256 ? undefined : nul + 9;
  }
  return undefined;
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (data.length < 16) return 'need-more';
  const length = data.readInt32LE(0);
  const responseTo = data.readInt32LE(8);
  const opCode = data.readInt32LE(12);
  if (length < 21 || length > MAX_MESSAGE) return 'no';
  if (opCode !== OP_MSG && opCode !== OP_QUERY && opCode !== OP_REPLY && opCode !== OP_COMPRESSED) return 'no';
  // Requests (other than exhaust continuations) answer nothing; replies always answer something.
  if (opCode === OP_REPLY && (dir === 'c2s' || responseTo === 0)) return 'no';
  if (opCode === OP_QUERY && (dir === 's2c' || responseTo !== 0)) return 'no';
  if (opCode === OP_MSG && dir === 'c2s' && responseTo !== 0) return 'no';
  if (opCode === OP_COMPRESSED) {
    // originalOpcode, uncompressedSize, compressorId (0 noop, 1 snappy, 2 zlib, 3 zstd)
    if (data.length < 25) return 'need-more';
    const original = data.readInt32LE(16);
    return (original === OP_MSG || original === OP_QUERY || original === OP_REPLY) && (data[24] as number) <= 3 ? 'match' : 'no';
  }
  if (opCode === OP_MSG) {
    if (data.length < 21) return 'need-more';
    if ((data.readUInt32LE(16) & ~OP_MSG_FLAGS) !== 0 || (data[20] as number) > 2) return 'no';
  }
  if (opCode === OP_QUERY) {
    const nul = data.indexOf(0, 20);
    if (nul < 0) return data.length < 20 + 256 ? 'need-more' : 'no';
    const collection = data.toString('latin1', 20, nul);
    if (!/^[^.\s]+\.[^\s]+$/.test(collection)) return 'no';
  }
  const doc = firstDocument(data, opCode);
  if (doc === undefined) return 'no';
  return documentFits(data, doc, length);
}

/** Skips one BSON value of `type` at `at`; the offset past it, or undefined when unknown or cut. */
function skipValue(b: Buffer, type: number, at: number): number | undefined {
  const fixed: Record<number, number> = { 1: 8, 7: 12, 8: 1, 9: 8, 10: 0, 16: 4, 17: 8, 18: 8, 19: 16, 127: 0, 255: 0 };
  const size = fixed[type];
  if (size !== undefined) return at + size;
  const n = i32(b, at);
  if (n === undefined || n < 0) return undefined;
  if (type === 2 || type === 13 || type === 14) return at + 4 + n;
  if (type === 3 || type === 4) return at + n;
  if (type === 5) return at + 5 + n;
  return undefined;
}

/** The first element's name and the string value of `$db`, reading at most 32 elements. */
function commandOf(b: Buffer, doc: number): { command?: string; db?: string } {
  const length = i32(b, doc);
  const out: { command?: string; db?: string } = {};
  if (length === undefined) return out;
  const end = Math.min(b.length, doc + length);
  let at = doc + 4;
  for (let n = 0; n < 32 && at < end; n++) {
    const type = b[at] as number;
    if (type === 0) break;
    const nul = b.indexOf(0, at + 1);
    if (nul < 0 || nul >= end) break;
    const name = b.toString('utf8', at + 1, nul);
    if (n === 0) out.command = name;
    if (name === '$db' && type === 2) {
      const len = i32(b, nul + 1);
      if (len !== undefined && len > 0 && nul + 5 + len <= end) out.db = b.toString('utf8', nul + 5, nul + 4 + len);
    }
    const next = skipValue(b, type, nul + 1);
    if (next === undefined) break;
    at = next;
  }
  return out;
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  if (data.length < 21) return true;
  const length = data.readInt32LE(0);
  const opCode = data.readInt32LE(12);
  const doc = firstDocument(data, opCode);
  if (doc === undefined) return false;
  if (data.length < Math.min(length, 16384)) return true;
  const { command, db } = commandOf(data, doc);
  if (command !== undefined) meta.mongoCommand = command;
  if (db !== undefined) meta.dbName = db;
  if (opCode === OP_QUERY) {
    const collection = data.toString('utf8', 20, data.indexOf(0, 20));
    const dot = collection.indexOf('.');
    if (dot > 0) meta.dbName = collection.slice(0, dot);
  }
  return false;
}

export const mongodb: ProtocolModule = {
  name: 'MongoDB',
  transports: ['tcp'],
  ports: [27017, 27018, 27019],
  probe,
  extract,
};
