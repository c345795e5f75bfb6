// SMB over the NetBIOS session service (RFC 1002 section 4.3) or direct TCP (MS-SMB2 2.1): a
// 4-byte session header (type 0x00, 17-bit length) before an SMB1 (0xFF 'SMB'), SMB2/3 (0xFE 'SMB')
// or SMB3 transform (0xFD 'SMB') header; or a NetBIOS session request on port 139.

import { u24 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const SESSION_MESSAGE = 0x00;
const SESSION_REQUEST = 0x81;
const VERSIONS: Record<number, string> = { 0xff: '1', 0xfe: '2', 0xfd: '3' };

/** A first-level encoded NetBIOS name (RFC 1001 section 14.1): length 32, letters 'A'..'P'. */
function encodedName(b: Buffer, at: number): boolean {
  if (b[at] !== 32) return false;
  for (let i = at + 1; i <= at + 32; i++) {
    const c = b[i] as number;
    if (c < 0x41 || c > 0x50) return false;
  }
  return true;
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (data.length < 8) return data.length === 0 || data[0] === SESSION_MESSAGE || data[0] === SESSION_REQUEST ? 'need-more' : 'no';
  const type = data[0];
  const len = u24(data, 1);
  if (type === SESSION_REQUEST && dir === 'c2s') {
    // Called and calling names, each encoded (34 bytes with its length and the empty scope).
    if (len !== 68) return 'no';
    if (data.length < 72) return 'need-more';
    return encodedName(data, 4) && data[37] === 0 && encodedName(data, 38) && data[71] === 0 ? 'match' : 'no';
  }
  // Bits 1-7 of the flags byte are reserved zero, so the length fits in 17 bits; the SMB1 header
  // alone is 32 bytes (SMB2: 64).
  if (type !== SESSION_MESSAGE || len > 0x1ffff || len < 32) return 'no';
  const magic = data[4] as number;
  return VERSIONS[magic] !== undefined && data.toString('latin1', 5, 8) === 'SMB' ? 'match' : 'no';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (data[0] === SESSION_REQUEST) return true;
  // Skip a NetBIOS session request and its positive response (0x82, length 0) on port 139.
  const at = data[0] === 0x82 ? 4 : 0;
  const v = VERSIONS[data[at + 4] ?? 0];
  if (data[at] !== SESSION_MESSAGE || v === undefined) return data.length < 8;
  if (data.toString('latin1', at + 5, at + 8) === 'SMB') meta.smbVersion ??= v;
  return false;
}

export const smb: ProtocolModule = {
  name: 'SMB',
  aliases: ['CIFS', 'NetBIOS'],
  transports: ['tcp'],
  ports: [445, 139],
  // NetBIOS session service framing: a session message, or a session request.
  firstBytes: { c2s: [SESSION_MESSAGE, SESSION_REQUEST], s2c: [SESSION_MESSAGE, SESSION_REQUEST] },
  probe,
  extract,
};
