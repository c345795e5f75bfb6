// VNC (RFB, RFC 6143 section 7.1.1): both sides open with the 12-byte ProtocolVersion
// "RFB xxx.yyy\n". The extractor records the version each side announced.

import { literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

function probe(data: Buffer): ProbeResult {
  const r = literal(data, 'RFB ');
  if (r !== 'match') return r;
  for (let i = 4; i < 12; i++) {
    const c = data[i];
    if (c === undefined) return 'need-more';
    const ok = i === 7 ? c === 0x2e : i === 11 ? c === 0x0a : isDigit(c);
    if (!ok) return 'no';
  }
  return 'match';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (probe(data) !== 'match') return false;
  const version = data.toString('latin1', 4, 11);
  if (dir === 'c2s') meta.vncClientVersion = version;
  else meta.vncServerVersion = version;
  return false;
}

export const vnc: ProtocolModule = {
  name: 'VNC',
  aliases: ['RFB'],
  transports: ['tcp'],
  ports: [5900, 5901, 5902, 5800],
  // Both sides open with their "RFB xxx.yyy" protocol version.
  firstBytes: { c2s: [0x52], s2c: [0x52] },
  probe,
  extract,
};
