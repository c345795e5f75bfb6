// TFTP (RFC 1350, RFC 2347 options): RRQ/WRQ "opcode filename NUL mode NUL [option NUL value NUL]*"
// with mode netascii, octet or mail; on the transfer's own port pair DATA (block, at most 512 bytes
// unless blksize was negotiated, RFC 2348), ACK (4 bytes), ERROR (code 0..8) or the server's
// option acknowledgement OACK (RFC 2347), which opens the transfer's port pair when options were asked.

import { u16 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const RRQ = 1;
const WRQ = 2;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const OACK = 6;
/** Options a server may acknowledge: blksize (RFC 2348), timeout/tsize (RFC 2349), windowsize (RFC 7440). */
const OPTIONS = new Set(['blksize', 'timeout', 'tsize', 'windowsize']);
const MODES = new Set(['netascii', 'octet', 'mail']);

/** The NUL-terminated strings after the opcode, or undefined when one is not terminated or not text. */
function strings(b: Buffer): string[] | undefined {
  const out: string[] = [];
  for (let at = 2; at < b.length && out.length < 32; ) {
    const end = b.indexOf(0, at);
    if (end < 0) return undefined;
    const s = b.toString('latin1', at, end);
    if (!/^[\x20-\x7e]*$/.test(s)) return undefined;
    out.push(s);
    at = end + 1;
  }
  return out;
}

function request(b: Buffer): { file: string; mode: string } | undefined {
  const op = u16(b, 0);
  if (op !== RRQ && op !== WRQ) return undefined;
  const s = strings(b);
  if (s === undefined || s.length < 2 || s.length % 2 !== 0 || (s[0] as string).length === 0) return undefined;
  const mode = (s[1] as string).toLowerCase();
  return MODES.has(mode) ? { file: s[0] as string, mode } : undefined;
}

function probe(data: Buffer): ProbeResult {
  if (data.length < 4) return 'no';
  const op = u16(data, 0);
  if (op === RRQ || op === WRQ) return request(data) !== undefined ? 'match' : 'no';
  // Transfers start at block 1; a 65464-byte blksize is the RFC 2348 maximum.
  if (op === DATA) return u16(data, 2) === 1 && data.length <= 4 + 65464 ? 'match' : 'no';
  if (op === ACK) return data.length === 4 && u16(data, 2) <= 1 ? 'match' : 'no';
  if (op === OACK) {
    const s = strings(data);
    const names = s?.filter((_, i) => i % 2 === 0) ?? [];
    return s !== undefined && s.length >= 2 && s.length % 2 === 0 && names.every((n) => OPTIONS.has(n.toLowerCase())) ? 'match' : 'no';
  }
  if (op === ERROR) return u16(data, 2) <= 8 && data[data.length - 1] === 0 && strings(data) !== undefined ? 'match' : 'no';
  return 'no';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const r = request(data);
  if (r !== undefined) {
    meta.tftpFile = r.file;
    meta.tftpMode = r.mode;
  }
  return false;
}

export const tftp: ProtocolModule = {
  name: 'TFTP',
  transports: ['udp'],
  ports: [69],
  // Opcodes are 1 to 6 in 16 bits: the first byte is always zero.
  firstBytes: { c2s: [0], s2c: [0] },
  probe,
  extract,
};
