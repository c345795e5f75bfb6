// Oracle Net (TNS): packets start with an 8-byte header (length, packet checksum, type, flags,
// header checksum). The client opens with CONNECT carrying a connect descriptor
// "(DESCRIPTION=...(CONNECT_DATA=(SERVICE_NAME=...)))"; the server answers ACCEPT, REFUSE,
// REDIRECT or RESEND. The extractor reads the service name (or SID) from the descriptor.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const CONNECT = 1;
const ACCEPT = 2;
const REFUSE = 4;
const REDIRECT = 5;
const RESEND = 11;
/** CONNECT's fixed part ends at offset 34 (connect data length at 24, its offset at 26). */
const CONNECT_FIXED = 34;

/** Version numbers seen in CONNECT/ACCEPT: 300 (Oracle 7) up to the 3xx of current releases. */
function plausibleVersion(v: number): boolean {
  return v >= 300 && v < 400;
}

function header(b: Buffer): { length: number; type: number } | 'need-more' | undefined {
  if (b.length < 8) return 'need-more';
  const length = b.readUInt16BE(0);
  // Packet and header checksums are 0 unless the long-obsolete checksumming is on.
  if (length < 8 || b.readUInt16BE(2) !== 0 || b.readUInt16BE(6) !== 0) return undefined;
  return { length, type: b[4] as number };
}

function probeConnect(b: Buffer, length: number): ProbeResult {
  if (length < CONNECT_FIXED) return 'no';
  if (b.length < CONNECT_FIXED) return 'need-more';
  const version = b.readUInt16BE(8);
  const compatible = b.readUInt16BE(10);
  if (!plausibleVersion(version) || compatible > version || compatible < 300) return 'no';
  const dataLength = b.readUInt16BE(24);
  const dataOffset = b.readUInt16BE(26);
  if (dataLength === 0) return 'match';
  if (dataOffset < CONNECT_FIXED) return 'no';
  // A long descriptor travels in the packets that follow; a short one lies inside this packet.
  if (dataOffset + dataLength <= length) {
    const open = b[dataOffset];
    if (open === undefined) return 'need-more';
    return open === 0x28 ? 'match' : 'no';
  }
  return dataOffset <= length ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const h = header(data);
  if (h === 'need-more') return 'need-more';
  if (h === undefined) return 'no';
  if (dir === 'c2s') return h.type === CONNECT ? probeConnect(data, h.length) : 'no';
  if (h.type === ACCEPT) {
    if (data.length < 10) return 'need-more';
    return plausibleVersion(data.readUInt16BE(8)) ? 'match' : 'no';
  }
  if (h.type === REFUSE || h.type === REDIRECT || h.type === RESEND) {
    // Short answers: trust them only as the answer to a CONNECT.
    const asked = header(ctx.other);
    if (asked === 'need-more') return 'need-more';
    return asked !== undefined && asked.type === CONNECT ? 'match' : 'no';
  }
  return 'no';
}

/** The value of `KEY=` in a connect descriptor, case-insensitively. */
function descriptorValue(descriptor: string, key: string): string | undefined {
  const m = new RegExp(`\\(\\s*${key}\\s*=([^)]*)\\)`, 'i').exec(descriptor);
  return m?.[1]?.trim();
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const h = header(data);
  if (h === 'need-more' || data.length < CONNECT_FIXED) return true;
  if (h === undefined || h.type !== CONNECT) return false;
  const dataLength = data.readUInt16BE(24);
  const dataOffset = data.readUInt16BE(26);
  // When the descriptor does not fit the CONNECT packet it follows in the next packet's payload.
  const start = dataOffset + dataLength <= h.length ? dataOffset : h.length + 10;
  const end = Math.min(data.length, start + dataLength, start + 2048);
  if (end < start + dataLength && data.length < start + 2048) return true;
  const descriptor = data.toString('latin1', start, end);
  const service = descriptorValue(descriptor, 'SERVICE_NAME') ?? descriptorValue(descriptor, 'SID');
  const program = descriptorValue(descriptor, 'PROGRAM');
  if (service !== undefined) meta.oracleService = service;
  if (program !== undefined) meta.oracleProgram = program;
  return false;
}

export const oracleTns: ProtocolModule = {
  name: 'OracleTNS',
  aliases: ['Oracle', 'TNS'],
  transports: ['tcp'],
  ports: [1521, 1522, 1526],
  probe,
  extract,
};
