// NetBIOS Name Service (RFC 1002, UDP 137): a DNS-shaped header followed by names encoded as 32
// letters 'A'..'P' (two per byte of the 16-byte NetBIOS name), of type NB (0x20) or NBSTAT (0x21)
// and class IN. The extractor decodes the queried or registered name and its suffix.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const HEADER = 12;
const ENCODED = 32;
const NB = 0x20;
const NBSTAT = 0x21;
/** Opcodes: query, registration, release, WACK, refresh (and its alternate value 9), multi-homed registration. */
const OPCODES = new Set([0, 5, 6, 7, 8, 9, 15]);

/** The first name (question, or answer when there is none) and where it ends. */
function firstName(b: Buffer): { name: Buffer; next: number } | undefined {
  if (b[HEADER] !== ENCODED || b.length < HEADER + 1 + ENCODED + 1) return undefined;
  const name = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    const hi = (b[HEADER + 1 + 2 * i] as number) - 0x41;
    const lo = (b[HEADER + 2 + 2 * i] as number) - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return undefined;
    name[i] = (hi << 4) | lo;
  }
  // The NetBIOS scope: further labels, usually none, then the root label.
  let at = HEADER + 1 + ENCODED;
  for (let n = 0; n < 8; n++) {
    const len = b[at];
    if (len === undefined || len > 63) return undefined;
    at += 1 + len;
    if (len === 0) return { name, next: at };
  }
  return undefined;
}

function probe(data: Buffer): ProbeResult {
  if (data.length < HEADER) return 'no';
  const flags = data.readUInt16BE(2);
  const questions = data.readUInt16BE(4);
  const answers = data.readUInt16BE(6);
  const authority = data.readUInt16BE(8);
  const additional = data.readUInt16BE(10);
  if (!OPCODES.has((flags >> 11) & 0x0f) || questions + answers > 1 || questions + answers === 0 || authority > 1 || additional > 1) return 'no';
  const name = firstName(data);
  if (name === undefined || name.next + 4 > data.length) return 'no';
  const type = data.readUInt16BE(name.next);
  return (type === NB || type === NBSTAT) && data.readUInt16BE(name.next + 2) === 1 ? 'match' : 'no';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (probe(data) !== 'match') return false;
  const decoded = firstName(data);
  if (decoded === undefined) return false;
  const base = decoded.name.subarray(0, 15);
  // "*" padded with zeros is the wildcard name of an NBSTAT query.
  const printable = base.every((c) => c === 0 || (c >= 0x20 && c < 0x7f));
  if (printable) meta.netbiosName = base.toString('latin1').replace(/[\0 ]+$/, '');
  meta.netbiosSuffix = decoded.name[15];
  return false;
}

export const netbiosNs: ProtocolModule = {
  name: 'NetBIOS-NS',
  aliases: ['NBNS'],
  transports: ['udp'],
  ports: [137],
  probe,
  extract,
};
