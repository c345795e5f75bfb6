// Couchbase key-value (memcached binary protocol with Couchbase extensions, port 11210): clients
// open with HELLO (feature negotiation), SASL and SELECT_BUCKET. The probe accepts only the
// Couchbase-specific opcodes, so plain memcached binary traffic stays with Memcached.

import { binaryHeader } from './memcached.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const HELLO = 0x1f;
const SASL_AUTH = 0x21;
const SELECT_BUCKET = 0x89;
const GET_CLUSTER_CONFIG = 0xb5;
const GET_ERROR_MAP = 0xfe;
/** Opcodes only Couchbase defines; the SASL ones are shared with memcached. */
const COUCHBASE_ONLY = new Set([HELLO, SELECT_BUCKET, GET_CLUSTER_CONFIG, GET_ERROR_MAP]);

function probe(data: Buffer, dir: Direction): ProbeResult {
  const h = binaryHeader(data, dir, true);
  if (h === 'need-more') return 'need-more';
  if (h === undefined) return 'no';
  // Flexible framing (magic 0x08/0x18) exists only in Couchbase.
  if (h.magic === 0x08 || h.magic === 0x18) return 'match';
  if (!COUCHBASE_ONLY.has(h.opcode)) return 'no';
  // These connection-level requests carry no extras and address no vbucket.
  return dir === 's2c' || (h.extrasLength === 0 && data.readUInt16BE(6) === 0) ? 'match' : 'no';
}

/** Walks the client's first requests (bounded) for the HELLO agent name and the selected bucket. */
function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  let at = 0;
  for (let n = 0; n < 8; n++) {
    const h = binaryHeader(data.subarray(at), dir, true);
    if (h === undefined) return false;
    if (h === 'need-more' || at + 24 + h.bodyLength > data.length) return data.length < 8192;
    const framing = h.magic === 0x08 ? (data[at + 2] as number) : 0;
    const key = data.toString('utf8', at + 24 + framing + h.extrasLength, at + 24 + framing + h.extrasLength + h.keyLength);
    if (h.opcode === HELLO && key.length > 0) meta.couchbaseAgent = key;
    if (h.opcode === SELECT_BUCKET && key.length > 0) meta.couchbaseBucket = key;
    if (h.opcode === SASL_AUTH && key.length > 0) meta.couchbaseSaslMechanism = key;
    if (h.opcode === SELECT_BUCKET) return false;
    at += 24 + h.bodyLength;
  }
  return false;
}

export const couchbase: ProtocolModule = {
  name: 'Couchbase',
  transports: ['tcp'],
  ports: [11210, 11207],
  // The binary protocol's magic: classic or flexible framing, request or response.
  firstBytes: { c2s: [0x80, 0x08], s2c: [0x81, 0x18] },
  probe,
  extract,
};
