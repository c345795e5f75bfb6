// Microsoft SQL Server TDS (MS-TDS): 8-byte packet headers (type, status, length, SPID, packet
// id, window). Sessions open with PRELOGIN (an option table ending in 0xFF) and, unless TLS is
// negotiated, a LOGIN7 record; sessions caught mid-way show SQL batches. The extractor reads the
// server version, user, database and app.

import type { FlowMeta } from '../../model/flow.js';
import { looksLikeSql } from './mysql.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const SQL_BATCH = 0x01;
const TABULAR_RESULT = 0x04;
const LOGIN7 = 0x10;
const PRELOGIN = 0x12;
/** Status bits: end of message, ignore, reset connection, reset connection skip transaction. */
const STATUS_BITS = 0x1b;
/** PRELOGIN option tokens VERSION..NONCEOPT. */
const LAST_OPTION = 0x07;
const TERMINATOR = 0xff;

function header(b: Buffer): { type: number; length: number } | 'need-more' | undefined {
  if (b.length < 8) return 'need-more';
  const type = b[0] as number;
  const length = b.readUInt16BE(2);
  if (((b[1] as number) & ~STATUS_BITS) !== 0 || length < 8 || b[7] !== 0) return undefined;
  return { type, length };
}

/** PRELOGIN options: (token, offset, length) entries whose data lies inside the payload. */
function preloginOptions(b: Buffer, length: number): Map<number, [number, number]> | 'need-more' | undefined {
  const payload = length - 8;
  const out = new Map<number, [number, number]>();
  for (let at = 8; at < 8 + 5 * 16; at += 5) {
    const token = b[at];
    if (token === undefined) return 'need-more';
    if (token === TERMINATOR) return out.size > 0 && out.has(0) ? out : undefined;
    if (at + 5 > b.length) return 'need-more';
    const offset = b.readUInt16BE(at + 1);
    const size = b.readUInt16BE(at + 3);
    if (token > LAST_OPTION || offset + size > payload) return undefined;
    out.set(token, [offset, size]);
  }
  return undefined;
}

/** LOGIN7: total length, a TDS version 7.x, and offsets that point inside the record. */
function probeLogin(b: Buffer): ProbeResult {
  if (b.length < 8 + 36) return 'need-more';
  const total = b.readUInt32LE(8);
  const version = b.readUInt32LE(12);
  if (total < 36 + 58 || total > 65536) return 'no';
  // TDS versions are 0x70000000 (7.0), 0x71000000/0x71000001 (2000), 0x72090002, 0x730A0003/0x730B0003, 0x74000004.
  if (version >>> 28 !== 7) return 'no';
  return 'match';
}

/**
 * An SQL batch on a session caught mid-way: ALL_HEADERS (TDS 7.2+: its total length first), then
 * the statement in UTF-16LE, which must read as SQL.
 */
function probeBatch(b: Buffer, length: number): ProbeResult {
  if (b.length < 12) return 'need-more';
  const headers = b.readUInt32LE(8);
  const start = headers >= 4 && headers <= 1024 && 8 + headers < length ? 8 + headers : 8;
  const end = Math.min(b.length, length, start + 64);
  if (end - start < Math.min(length - start, 32)) return 'need-more';
  return looksLikeSql(b.toString('utf16le', start, end - ((end - start) % 2))) ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const h = header(data);
  if (h === 'need-more') return 'need-more';
  if (h === undefined) return 'no';
  if (dir === 'c2s') {
    if (h.type === LOGIN7) return probeLogin(data);
    if (h.type === SQL_BATCH) return probeBatch(data, h.length);
    if (h.type !== PRELOGIN) return 'no';
  } else if (h.type !== TABULAR_RESULT) {
    return 'no';
  } else if (ctx.other.length === 0 || ctx.other[0] !== PRELOGIN) {
    // Tabular results follow any request; only the PRELOGIN answer has a structure to check.
    return ctx.other.length === 0 ? 'need-more' : ctx.other[0] === LOGIN7 || ctx.other[0] === SQL_BATCH ? 'match' : 'no';
  }
  const options = preloginOptions(data, h.length);
  if (options === 'need-more') return 'need-more';
  return options !== undefined && options.get(0)?.[1] === 6 ? 'match' : 'no';
}

/** A LOGIN7 string: offset and length (UTF-16 characters) at `at` in the record after the header. */
function loginString(b: Buffer, at: number): string | undefined {
  const record = 8;
  if (record + at + 4 > b.length) return undefined;
  const offset = b.readUInt16LE(record + at);
  const chars = b.readUInt16LE(record + at + 2);
  const end = record + offset + chars * 2;
  if (chars === 0 || chars > 128 || end > b.length) return undefined;
  return b.toString('utf16le', record + offset, end);
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const h = header(data);
  if (h === 'need-more') return true;
  if (h === undefined) return false;
  if (dir === 's2c' && h.type === TABULAR_RESULT) {
    const options = preloginOptions(data, h.length);
    const version = options === 'need-more' || options === undefined ? undefined : options.get(0);
    if (version !== undefined && version[1] === 6 && 8 + version[0] + 4 <= data.length) {
      const at = 8 + version[0];
      meta.dbServerVersion = `${data[at]}.${data[at + 1]}.${data.readUInt16BE(at + 2)}`;
    }
    return false;
  }
  if (dir !== 'c2s') return false;
  // The client's PRELOGIN comes first; LOGIN7 follows it in clear only when TLS was declined.
  const login = h.type === PRELOGIN ? data.subarray(h.length) : data;
  if (login.length < 8 + 94) return data.length < 16384;
  if (login[0] !== LOGIN7) return false;
  // ibUserName at 40, ibAppName at 48, ibDatabase at 68 of the LOGIN7 record.
  const user = loginString(login, 40);
  const app = loginString(login, 48);
  const database = loginString(login, 68);
  if (user !== undefined) meta.dbUser = user;
  if (app !== undefined) meta.dbApplication = app;
  if (database !== undefined) meta.dbName = database;
  return false;
}

export const tds: ProtocolModule = {
  name: 'TDS',
  aliases: ['MSSQL', 'SQLServer'],
  transports: ['tcp'],
  ports: [1433, 1434],
  probe,
  extract,
};
