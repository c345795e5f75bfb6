// AMQP: the client opens with the protocol header "AMQP" followed by the version (0-9-1: 0 0 9 1,
// 0-9 and 0-8: 1 1 0 9 / 1 1 0 8, 1.0: id 0/2/3 and 1 0 0). A 0-9-1 server answers with a
// Connection.Start method frame; a 1.0 server echoes a header. Mid-session captures are
// recognised by 0-9-1 frame structure. The extractor records the version and server product.

import { literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** The version named by the 4 bytes after "AMQP", or undefined for none the specs define. */
function version(b: Buffer): string | undefined {
  const [id, major, minor, revision] = [b[4], b[5], b[6], b[7]];
  if (id === 0 && major === 0 && minor === 9 && revision === 1) return '0-9-1';
  if (id === 1 && major === 1 && minor === 0 && (revision === 9 || revision === 8)) return `0-${revision}`;
  if ((id === 0 || id === 2 || id === 3) && major === 1 && minor === 0 && revision === 0) return '1.0';
  return undefined;
}

function probeHeader(b: Buffer): ProbeResult {
  const r = literal(b, 'AMQP');
  if (r !== 'match') return r;
  if (b.length < 8) return 'need-more';
  return version(b) !== undefined ? 'match' : 'no';
}

/** Connection.Start: method frame (type 1) on channel 0, class 10 method 10, version 0.9. */
function isConnectionStart(b: Buffer): boolean {
  return b.length >= 13 && b[0] === 1 && b.readUInt16BE(1) === 0 && b.readUInt16BE(7) === 10 && b.readUInt16BE(9) === 10 && b[11] === 0 && b[12] === 9;
}

/** 0-9-1 frame types: method, content header, content body, heartbeat. */
const FRAME_TYPES = new Set([1, 2, 3, 8]);
/** Classes: connection, channel, exchange, queue, basic, confirm, tx. */
const CLASSES = new Set([10, 20, 40, 50, 60, 85, 90]);
const FRAME_END = 0xce;
/** frame_max as servers negotiate it (RabbitMQ: 128 KB). */
const MAX_FRAME = 131072;

/**
 * A run of 0-9-1 frames, as seen when capture starts mid-session or from the server's
 * Connection.Start: type, channel, size, payload, frame-end 0xCE. One method frame of a known
 * class, or two well-formed frames in a row, are enough.
 */
function probeFrames(b: Buffer): ProbeResult {
  let at = 0;
  for (let n = 0; n < 2; n++) {
    const type = b[at];
    if (type === undefined) return 'need-more';
    if (!FRAME_TYPES.has(type)) return 'no';
    if (at + 7 > b.length) return 'need-more';
    const size = b.readUInt32BE(at + 3);
    if (size > MAX_FRAME) return 'no';
    if (type === 1 && at + 9 <= b.length && !CLASSES.has(b.readUInt16BE(at + 7))) return 'no';
    const end = b[at + 7 + size];
    if (end === undefined) return 'need-more';
    if (end !== FRAME_END) return 'no';
    if (type === 1) return 'match';
    at += 8 + size;
  }
  return 'match';
}

function probe(data: Buffer): ProbeResult {
  // Either side may open with a protocol header (a 1.0 server echoes one); otherwise frames.
  return data[0] === 0x41 ? probeHeader(data) : probeFrames(data);
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir === 'c2s') {
    if (data.length < 8) return true;
    const v = literal(data, 'AMQP') === 'match' ? version(data) : undefined;
    if (v !== undefined) meta.amqpVersion = v;
    return false;
  }
  if (!isConnectionStart(data)) return false;
  // server-properties is a field table after the version bytes; product and version are long strings.
  const product = tableString(data, 13, 'product');
  const release = tableString(data, 13, 'version');
  if (product !== undefined) meta.amqpServerProduct = product;
  if (release !== undefined) meta.amqpServerVersion = release;
  return false;
}

/** A long-string ('S') entry of an AMQP field table at `at`, looking at most 64 entries. */
function tableString(b: Buffer, at: number, key: string): string | undefined {
  if (at + 4 > b.length) return undefined;
  const end = Math.min(b.length, at + 4 + b.readUInt32BE(at));
  let i = at + 4;
  for (let n = 0; n < 64 && i < end; n++) {
    const nameLength = b[i] as number;
    const name = b.toString('latin1', i + 1, i + 1 + nameLength);
    const type = b[i + 1 + nameLength];
    i += 2 + nameLength;
    if (type === 0x53 && i + 4 <= end) {
      const len = b.readUInt32BE(i);
      if (name === key) return i + 4 + len <= end ? b.toString('utf8', i + 4, i + 4 + len) : undefined;
      i += 4 + len;
    } else if (type === 0x46 && i + 4 <= end) {
      i += 4 + b.readUInt32BE(i);
    } else if (type === 0x74) {
      i += 1;
    } else {
      return undefined;
    }
  }
  return undefined;
}

export const amqp: ProtocolModule = {
  name: 'AMQP',
  transports: ['tcp'],
  ports: [5672, 5671],
  probe,
  extract,
};
