// IKE (RFC 2408 ISAKMP header for IKEv1, RFC 7296 section 3.1 for IKEv2): a 28-byte header with a
// non-zero initiator SPI, a known next payload, version 1.0 or 2.0, a known exchange type and a
// length equal to the datagram's. On port 4500 (RFC 3948) IKE follows a 4-byte zero non-ESP marker.

import { u32 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const EXCHANGES: Record<number, string> = {
  1: 'Base', 2: 'Identity Protection', 3: 'Authentication Only', 4: 'Aggressive', 5: 'Informational',
  32: 'Quick Mode', 33: 'New Group Mode',
  34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL',
};

interface Header {
  major: number;
  exchange: number;
}

function header(m: Buffer): Header | undefined {
  if (m.length < 28) return undefined;
  const next = m[16] as number;
  const major = (m[17] as number) >> 4;
  const minor = (m[17] as number) & 0x0f;
  const exchange = m[18] as number;
  if (u32(m, 0) === 0 && u32(m, 4) === 0) return undefined;
  if (minor !== 0 || (major !== 1 && major !== 2) || EXCHANGES[exchange] === undefined) return undefined;
  if (major === 1 ? exchange >= 34 : exchange < 34) return undefined;
  // Payload types: IKEv1 1..13 (RFC 2408 3.1) and 20/21 for NAT-D/NAT-OA (RFC 3947); IKEv2 33..54, 0 none.
  const nextOk = major === 1 ? (next >= 1 && next <= 13) || next === 20 || next === 21 || next === 0 : next === 0 || (next >= 33 && next <= 54);
  return nextOk && u32(m, 24) === m.length ? { major, exchange } : undefined;
}

/** The ISAKMP message: the datagram, or what follows the non-ESP marker. */
function message(data: Buffer): Buffer {
  return data.length >= 32 && u32(data, 0) === 0 ? data.subarray(4) : data;
}

function probe(data: Buffer): ProbeResult {
  // A NAT-keepalive (RFC 3948 section 2.3) is a single 0xFF byte: it says nothing either way.
  if (data.length === 1 && data[0] === 0xff) return 'need-more';
  return header(message(data)) !== undefined ? 'match' : 'no';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const h = header(message(data));
  if (h === undefined) return data.length === 1;
  meta.ikeVersion ??= h.major;
  meta.ikeExchange ??= EXCHANGES[h.exchange];
  return false;
}

export const ike: ProtocolModule = {
  name: 'IKE',
  aliases: ['ISAKMP', 'IPsec'],
  transports: ['udp'],
  ports: [500, 4500],
  probe,
  extract,
};
