// Cassandra native protocol v3-v5 (CQL binary protocol): a 9-byte frame header (version with the
// response bit, flags, stream, opcode, body length). Sessions open with OPTIONS/SUPPORTED and
// STARTUP/READY; the extractor reads CQL_VERSION (and the driver) from STARTUP's string map.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const ERROR = 0x00;
const STARTUP = 0x01;
const READY = 0x02;
const AUTHENTICATE = 0x03;
const OPTIONS = 0x05;
const SUPPORTED = 0x06;
const QUERY = 0x07;
const PREPARE = 0x09;
/** Flags: compression, tracing, custom payload, warning, use-beta. */
const KNOWN_FLAGS = 0x1f;
/** The spec's maximum frame body (256 MB). */
const MAX_BODY = 256 * 1024 * 1024;

interface Frame {
  version: number;
  opcode: number;
  length: number;
}

function frame(b: Buffer, dir: Direction): Frame | 'need-more' | undefined {
  const first = b[0];
  if (first === undefined) return 'need-more';
  const version = first & 0x7f;
  const response = (first & 0x80) !== 0;
  if (version < 3 || version > 5 || response !== (dir === 's2c')) return undefined;
  if (b.length < 9) return 'need-more';
  if (((b[1] as number) & ~KNOWN_FLAGS) !== 0) return undefined;
  const length = b.readUInt32BE(5);
  if (length > MAX_BODY) return undefined;
  return { version, opcode: b[4] as number, length };
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  const f = frame(data, dir);
  if (f === 'need-more') return 'need-more';
  if (f === undefined) return 'no';
  const end = 9 + f.length;
  switch (f.opcode) {
    case OPTIONS:
    case READY:
      return f.length === 0 && dir === (f.opcode === OPTIONS ? 'c2s' : 's2c') ? 'match' : 'no';
    case STARTUP: {
      if (dir !== 'c2s') return 'no';
      const map = startupOptions(data, end);
      if (map === 'need-more') return 'need-more';
      return map?.has('CQL_VERSION') === true ? 'match' : 'no';
    }
    case SUPPORTED:
      return dir === 's2c' && f.length >= 2 ? 'match' : 'no';
    case ERROR:
    case AUTHENTICATE:
      // ERROR: [int] code then [string]; AUTHENTICATE: [string] authenticator class.
      return dir === 's2c' && f.length >= (f.opcode === ERROR ? 6 : 2) ? 'match' : 'no';
    case QUERY:
    case PREPARE: {
      // [long string] CQL text, visible ASCII.
      if (dir !== 'c2s') return 'no';
      if (data.length < 13) return 'need-more';
      const len = data.readInt32BE(9);
      if (len < 1 || 13 + len > end) return 'no';
      const text = data.toString('latin1', 13, Math.min(13 + len, data.length, 13 + 64));
      return /^\s*[A-Za-z]/.test(text) && /^[\t\n\r -~]*$/.test(text) ? 'match' : 'no';
    }
    default:
      return 'no';
  }
}

/** STARTUP's body: keys and values in order. */
function startupOptions(data: Buffer, end: number): Map<string, string> | 'need-more' | undefined {
  if (data.length < 11) return 'need-more';
  const count = data.readUInt16BE(9);
  if (count > 64) return undefined;
  const out = new Map<string, string>();
  let at = 11;
  for (let n = 0; n < count; n++) {
    const pair: string[] = [];
    for (let k = 0; k < 2; k++) {
      if (at + 2 > data.length) return 'need-more';
      const len = data.readUInt16BE(at);
      if (at + 2 + len > end) return undefined;
      if (at + 2 + len > data.length) return 'need-more';
      pair.push(data.toString('utf8', at + 2, at + 2 + len));
      at += 2 + len;
    }
    out.set(pair[0] as string, pair[1] as string);
  }
  return at === end ? out : undefined;
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  // The driver may send OPTIONS before STARTUP: skip frames until STARTUP (bounded).
  let at = 0;
  for (let n = 0; n < 4; n++) {
    const rest = data.subarray(at);
    const f = frame(rest, dir);
    if (f === 'need-more') return true;
    if (f === undefined) return false;
    if (f.opcode === STARTUP) {
      const map = startupOptions(rest, 9 + f.length);
      if (map === 'need-more') return true;
      if (map === undefined) return false;
      meta.cqlProtocolVersion = f.version;
      const cql = map.get('CQL_VERSION');
      const driver = map.get('DRIVER_NAME');
      if (cql !== undefined) meta.cqlVersion = cql;
      if (driver !== undefined) meta.cqlDriver = driver;
      return false;
    }
    at += 9 + f.length;
  }
  return false;
}

export const cassandra: ProtocolModule = {
  name: 'Cassandra',
  aliases: ['CQL'],
  transports: ['tcp'],
  ports: [9042, 9142],
  probe,
  extract,
};
