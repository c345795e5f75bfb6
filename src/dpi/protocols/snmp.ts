// SNMP (RFC 1157 v1, RFC 3416 v2c PDUs, RFC 3412 v3): Message ::= SEQUENCE { version INTEGER
// (0, 1 or 3), then community OCTET STRING and a PDU [0..8] for v1/v2c, or the v3 header data
// SEQUENCE }. The extractor records the version and the v1/v2c community string.

import { ber, berInt, parsed } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const VERSIONS: Record<number, string> = { 0: '1', 1: '2c', 3: '3' };

function parse(b: Buffer): { version: number; community?: string } | 'need-more' | undefined {
  const msg = ber(b, 0);
  if (typeof msg !== 'object') return msg;
  if (msg.tag !== 0x30) return undefined;
  const v = ber(b, msg.start);
  if (typeof v !== 'object') return v;
  const version = berInt(b, v);
  if (version === undefined || VERSIONS[version] === undefined) return v.end > b.length ? 'need-more' : undefined;
  const next = ber(b, v.end);
  if (typeof next !== 'object') return next;
  if (version === 3) return next.tag === 0x30 ? { version } : undefined;
  if (next.tag !== 0x04 || next.end - next.start > 255) return undefined;
  const pdu = ber(b, next.end);
  if (typeof pdu !== 'object') return pdu;
  // GetRequest [0] ... Report [8], all constructed context-specific.
  if (pdu.tag < 0xa0 || pdu.tag > 0xa8 || pdu.end > msg.end) return undefined;
  return { version, community: b.toString('latin1', next.start, next.end) };
}

/** Every SNMP message is a SEQUENCE. */
const SEQUENCE = 0x30;

function probe(data: Buffer): ProbeResult {
  // Ruled out on its first byte however short it is, so the engine can skip the probe.
  if (data.length > 0 && data[0] !== SEQUENCE) return 'no';
  return parsed(parse(data));
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const p = parse(data);
  if (typeof p !== 'object') return false;
  meta.snmpVersion = VERSIONS[p.version];
  if (p.community !== undefined) meta.snmpCommunity = p.community;
  return false;
}

export const snmp: ProtocolModule = {
  name: 'SNMP',
  transports: ['udp', 'tcp'],
  ports: [161, 162],
  firstBytes: { c2s: [SEQUENCE], s2c: [SEQUENCE] },
  probe,
  extract,
};
