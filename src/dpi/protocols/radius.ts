// RADIUS (RFC 2865, 2866, 5176) over UDP: code, identifier, a length that covers the packet, a
// 16-byte authenticator, then attributes (type, length, value) that fill the length exactly.
// The extractor reads the packet kind, User-Name, NAS-Identifier and Called-Station-Id.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const CODES: Record<number, string> = {
  1: 'Access-Request', 2: 'Access-Accept', 3: 'Access-Reject', 4: 'Accounting-Request',
  5: 'Accounting-Response', 11: 'Access-Challenge', 12: 'Status-Server', 13: 'Status-Client',
  40: 'Disconnect-Request', 41: 'Disconnect-ACK', 42: 'Disconnect-NAK', 43: 'CoA-Request', 44: 'CoA-ACK', 45: 'CoA-NAK',
};
const HEADER = 20;
const MAX_PACKET = 4096;
const USER_NAME = 1;
const CALLED_STATION_ID = 30;
const NAS_IDENTIFIER = 32;

/** The attributes of a well-formed packet, or undefined. */
function attributes(b: Buffer): Map<number, Buffer> | undefined {
  if (b.length < HEADER || CODES[b[0] as number] === undefined) return undefined;
  const length = b.readUInt16BE(2);
  // Bytes past the length are padding (RFC 2865 section 3), but the length must be there.
  if (length < HEADER || length > MAX_PACKET || length > b.length) return undefined;
  const out = new Map<number, Buffer>();
  let at = HEADER;
  while (at < length) {
    if (at + 2 > length) return undefined;
    const type = b[at] as number;
    const len = b[at + 1] as number;
    if (type === 0 || len < 2 || at + len > length) return undefined;
    if (!out.has(type)) out.set(type, b.subarray(at + 2, at + len));
    at += len;
  }
  return out;
}

function probe(data: Buffer): ProbeResult {
  const attrs = attributes(data);
  if (attrs === undefined) return 'no';
  // Requests always carry attributes; an empty reply (Accounting-Response) stands on its length alone.
  const code = data[0] as number;
  return attrs.size > 0 || code === 2 || code === 3 || code === 5 ? 'match' : 'no';
}

function text(v: Buffer | undefined): string | undefined {
  return v !== undefined && v.every((c) => c >= 0x20 && c < 0x7f) ? v.toString('latin1') : undefined;
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const attrs = attributes(data);
  if (attrs === undefined) return false;
  meta[dir === 'c2s' ? 'radiusRequest' : 'radiusResponse'] = CODES[data[0] as number];
  const user = text(attrs.get(USER_NAME));
  const nas = text(attrs.get(NAS_IDENTIFIER));
  const called = text(attrs.get(CALLED_STATION_ID));
  if (user !== undefined) meta.radiusUser = user;
  if (nas !== undefined) meta.radiusNas = nas;
  if (called !== undefined) meta.radiusCalledStation = called;
  return false;
}

export const radius: ProtocolModule = {
  name: 'RADIUS',
  transports: ['udp'],
  ports: [1812, 1813, 1645, 1646, 3799],
  probe,
  extract,
};
