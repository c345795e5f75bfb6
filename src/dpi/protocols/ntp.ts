// NTP (RFC 5905 section 7.3; RFC 1305 appendix B for mode 6 control messages; mode 7 is ntpd's
// private request format): LI, version 1..4 and mode in the first byte, then a 48-byte header
// (modes 1-5), a 12-byte control header plus its count (mode 6), or ntpd's mode 7 header.

import { u16 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MODES = ['reserved', 'symmetric-active', 'symmetric-passive', 'client', 'server', 'broadcast', 'control', 'private'];

function probe(data: Buffer): ProbeResult {
  if (data.length < 8) return 'no';
  const first = data[0] as number;
  const version = (first >> 3) & 7;
  const mode = first & 7;
  if (version < 1 || version > 4 || mode === 0) return 'no';
  if (mode === 6) {
    // Control: the count of data octets follows the 12-byte header, padded to 4 octets.
    const count = u16(data, 10);
    return data.length >= 12 && count <= 468 && data.length >= 12 + count && data.length <= 12 + count + 3 + 24 ? 'match' : 'no';
  }
  if (mode === 7) {
    // ntpd private: implementation 0 (universal), 2 or 3 (xntpd), then a request code below 64.
    const impl = data[2] as number;
    return version >= 2 && (impl === 0 || impl === 2 || impl === 3) && (data[3] as number) < 64 ? 'match' : 'no';
  }
  if (data.length < 48) return 'no';
  // Stratum 0..16 (16 = unsynchronized); poll is a log2 interval kept within 4..17 by servers,
  // though clients send 0 or small values; precision is a negative log2 of seconds.
  const stratum = data[1] as number;
  const poll = data.readInt8(2);
  const precision = data.readInt8(3);
  // After the header come extension fields and/or a MAC of key id plus 16 or 20 octets (RFC 5905 7.3).
  const rest = data.length - 48;
  const tail = rest === 0 || rest === 20 || rest === 24 || rest % 4 === 0;
  return stratum <= 16 && poll >= -7 && poll <= 17 && precision <= 0 && precision >= -32 && tail ? 'match' : 'no';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const first = data[0] ?? 0;
  meta.ntpVersion ??= (first >> 3) & 7;
  meta.ntpMode ??= MODES[first & 7];
  return false;
}

export const ntp: ProtocolModule = {
  name: 'NTP',
  transports: ['udp'],
  ports: [123],
  probe,
  extract,
};
