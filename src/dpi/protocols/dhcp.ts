// DHCP (RFC 2131 section 2, RFC 951 BOOTP, RFC 2132 options): a BOOTP message (op 1 or 2, hlen
// matching htype) with the magic cookie 99.130.83.99 at offset 236. The extractor reads the DHCP
// message type, host name and vendor class from the options.

import { u32 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MAGIC_COOKIE = 0x63825363;
const TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

function probe(data: Buffer): ProbeResult {
  if (data.length < 240) return 'no';
  const op = data[0];
  const hlen = data[2] as number;
  // Ethernet (htype 1) has 6-byte addresses; others must still fit chaddr's 16 bytes.
  const hwOk = data[1] === 1 ? hlen === 6 : hlen <= 16;
  return (op === 1 || op === 2) && hwOk && (data[3] as number) <= 16 && u32(data, 236) === MAGIC_COOKIE ? 'match' : 'no';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (probe(data) !== 'match') return false;
  for (let at = 240; at < data.length; ) {
    const code = data[at] as number;
    if (code === 255) break;
    if (code === 0) {
      at++;
      continue;
    }
    const len = data[at + 1];
    if (len === undefined || at + 2 + len > data.length) break;
    const value = data.subarray(at + 2, at + 2 + len);
    if (code === 53 && len === 1) meta.dhcpMessageType ??= TYPES[value[0] as number];
    else if (code === 12) meta.dhcpHostname ??= value.toString('latin1');
    else if (code === 60) meta.dhcpVendorClass ??= value.toString('latin1');
    at += 2 + len;
  }
  return false;
}

export const dhcp: ProtocolModule = {
  name: 'DHCP',
  aliases: ['BOOTP'],
  transports: ['udp'],
  ports: [67, 68],
  // op: 1 BOOTREQUEST, 2 BOOTREPLY; relays and servers may send either way.
  firstBytes: { c2s: [1, 2], s2c: [1, 2] },
  probe,
  extract,
};
