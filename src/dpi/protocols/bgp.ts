// BGP-4 (RFC 4271): every message starts with a 16-byte all-ones marker, a length (19..4096) and
// a type; a session opens with OPEN (version 4, AS, hold time, BGP identifier, optional
// parameters). The extractor reads AS (the 4-octet one from RFC 6793 when offered), router id and hold time.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const OPEN = 1;
const KEEPALIVE = 4;
/** OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH. */
const LAST_TYPE = 5;
const HEADER = 19;
const MAX_MESSAGE = 4096;
const CAPABILITIES = 2;
const FOUR_OCTET_AS = 65;

function probe(data: Buffer): ProbeResult {
  for (let i = 0; i < 16; i++) {
    const c = data[i];
    if (c === undefined) return 'need-more';
    if (c !== 0xff) return 'no';
  }
  if (data.length < HEADER) return 'need-more';
  const length = data.readUInt16BE(16);
  const type = data[18] as number;
  if (length < HEADER || length > MAX_MESSAGE || type < OPEN || type > LAST_TYPE) return 'no';
  if (type === KEEPALIVE) return length === HEADER ? 'match' : 'no';
  if (type !== OPEN) return 'match';
  // OPEN: version, my AS, hold time (0 or at least 3 s), identifier, optional parameters length.
  if (data.length < 29) return 'need-more';
  const hold = data.readUInt16BE(22);
  if (data[19] !== 4 || (hold > 0 && hold < 3) || length !== 29 + (data[28] as number)) return 'no';
  return 'match';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (data.length < 29) return data.length < HEADER || data[18] === OPEN;
  if (probe(data) !== 'match' || data[18] !== OPEN) return false;
  const side = dir === 'c2s' ? 'bgpClient' : 'bgpServer';
  let as = data.readUInt16BE(20);
  const end = Math.min(data.length, data.readUInt16BE(16));
  // Optional parameters: type, length, value; capabilities hold code, length, value.
  for (let at = 29; at + 2 <= end; ) {
    const type = data[at] as number;
    const len = data[at + 1] as number;
    if (type === CAPABILITIES) {
      for (let c = at + 2; c + 2 <= Math.min(at + 2 + len, end); c += 2 + (data[c + 1] as number)) {
        // The 4-octet AS capability carries the real AS; the 2-octet field then holds AS_TRANS.
        if (data[c] === FOUR_OCTET_AS && data[c + 1] === 4 && c + 6 <= end) as = data.readUInt32BE(c + 2);
      }
    }
    at += 2 + len;
  }
  meta[`${side}As`] = as;
  meta[`${side}RouterId`] = [...data.subarray(24, 28)].join('.');
  meta[`${side}HoldTime`] = data.readUInt16BE(22);
  return false;
}

export const bgp: ProtocolModule = {
  name: 'BGP',
  transports: ['tcp'],
  ports: [179],
  // Every message starts with the 16-byte all-ones marker.
  firstBytes: { c2s: [0xff], s2c: [0xff] },
  probe,
  extract,
};
