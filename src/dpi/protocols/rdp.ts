// RDP (MS-RDPBCGR 2.2.1.1 and 2.2.1.2): a TPKT header (RFC 1006) carrying an X.224 Connection
// Request whose user data is a "Cookie: mstshash=" or routing token and/or an RDP_NEG_REQ, or the
// server's Connection Confirm with an RDP_NEG_RSP/FAILURE. Other ISO transports on TPKT (S7comm,
// ...) put TSAP parameters there instead. Over UDP, the MS-RDPEUDP SYN exchange. The extractor
// records the cookie.

import { literal, u16, u32 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const CONNECTION_REQUEST = 0xe0;
const CONNECTION_CONFIRM = 0xd0;

/** TPKT version 3 with its length, and the X.224 length indicator covering the rest. */
function tpdu(data: Buffer, code: number): Buffer | 'need-more' | undefined {
  if (data.length < 11) return data.length === 0 || data[0] === 3 ? 'need-more' : undefined;
  const len = u16(data, 2);
  if (data[0] !== 3 || data[1] !== 0 || len < 11 || data[4] !== len - 5 || ((data[5] as number) & 0xf0) !== code) return undefined;
  // DST-REF is zero in a request; class 0 (bits 4-7 of the class option) is what RDP uses.
  if ((code === CONNECTION_REQUEST && u16(data, 6) !== 0) || ((data[10] as number) & 0xf0) !== 0) return undefined;
  if (data.length < len) return 'need-more';
  return data.subarray(11, len);
}

/** RDP_NEG_REQ/RSP/FAILURE: type, flags, length 8 (little-endian), 4 more bytes. */
function negotiation(b: Buffer, at: number, types: number[]): boolean {
  return types.includes(b[at] as number) && b[at + 2] === 8 && b[at + 3] === 0 && at + 8 === b.length;
}

/**
 * MS-RDPEUDP 3.1.5.1.1/3.1.5.1.2: the UDP transport opens with SYN and SYN+ACK datagrams of exactly
 * 1232 bytes: RDPUDP_FEC_HEADER (snSourceAck, uReceiveWindowSize, uFlags with RDPUDP_FLAG_SYN)
 * then RDPUDP_SYNDATA_PAYLOAD whose up- and downstream MTUs lie within 1132..1232.
 */
function probeUdpSyn(data: Buffer, dir: Direction): ProbeResult {
  if (data.length !== 1232) return 'no';
  const flags = u16(data, 6);
  const syn = dir === 'c2s' ? (flags & 0x0005) === 0x0001 && u32(data, 0) === 0xffffffff : (flags & 0x0005) === 0x0005;
  const mtu = (v: number): boolean => v >= 1132 && v <= 1232;
  return syn && mtu(u16(data, 12)) && mtu(u16(data, 14)) ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  if (ctx.transport === 'udp') return probeUdpSyn(data, dir);
  const user = tpdu(data, dir === 'c2s' ? CONNECTION_REQUEST : CONNECTION_CONFIRM);
  if (user === undefined || user === 'need-more') return user ?? 'no';
  if (dir === 's2c') return user.length === 0 || negotiation(user, 0, [2, 3]) ? 'match' : 'no';
  if (user.length === 0) return 'no';
  if (literal(user, 'Cookie: ') === 'match') return 'match';
  return negotiation(user, 0, [1]) ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s' || ctx.transport !== 'tcp') return false;
  const user = tpdu(data, CONNECTION_REQUEST);
  if (user === 'need-more') return true;
  if (user === undefined) return false;
  const text = user.toString('latin1', 0, Math.min(user.length, 300));
  const cookie = /^Cookie: mstshash=([^\r\n]{1,128})\r\n/.exec(text);
  if (cookie !== null) meta.rdpCookie = cookie[1];
  return false;
}

export const rdp: ProtocolModule = {
  name: 'RDP',
  transports: ['tcp', 'udp'],
  ports: [3389],
  // TCP: a TPKT header (version 3); UDP: a client SYN's sequence number 0xFFFFFFFF. The server's
  // UDP SYN+ACK starts with its own sequence number, any byte.
  firstBytes: { c2s: [0x03, 0xff] },
  probe,
  extract,
};
