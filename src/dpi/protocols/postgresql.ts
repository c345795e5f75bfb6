// PostgreSQL frontend/backend protocol 3.0: the client opens with a StartupMessage (or an
// SSLRequest / GSSENCRequest first), the server answers with Authentication and ParameterStatus
// messages; sessions caught mid-way show Query/Parse messages. The extractor reads user, database
// and application_name, and the server_version.

import { u8, u32 } from '../bytes.js';
import { looksLikeSql } from './mysql.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const PROTOCOL_3_0 = 0x00030000;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Startup packets are small; the server refuses anything above 10000 bytes. */
const MAX_STARTUP = 10000;

/** Bytes taken by leading SSLRequest/GSSENCRequest packets the server declined. */
function negotiationLength(b: Buffer): number {
  let at = 0;
  while (at < 16 && u32(b, at) === 8 && (u32(b, at + 4) === SSL_REQUEST || u32(b, at + 4) === GSSENC_REQUEST)) at += 8;
  return at;
}

/** The key/value pairs of a StartupMessage at `at`, or why they cannot be read. */
function startupParameters(b: Buffer, at: number): Map<string, string> | 'need-more' | undefined {
  const length = u32(b, at);
  if (length < 0 || u32(b, at + 4) < 0) return 'need-more';
  if (length < 9 || length > MAX_STARTUP || u32(b, at + 4) !== PROTOCOL_3_0) return undefined;
  const end = at + length;
  const params = new Map<string, string>();
  let i = at + 8;
  const strings: string[] = [];
  while (i < Math.min(end, b.length)) {
    const nul = b.indexOf(0, i);
    if (nul < 0 || nul >= end) return b.length < end ? 'need-more' : undefined;
    if (nul === i) {
      // The list ends with an empty name, which must be the last byte of the message.
      if (nul !== end - 1 || strings.length % 2 !== 0) return undefined;
      for (let k = 0; k < strings.length; k += 2) params.set(strings[k] as string, strings[k + 1] as string);
      return params;
    }
    strings.push(b.toString('utf8', i, nul));
    i = nul + 1;
  }
  return 'need-more';
}

function probeClient(b: Buffer): ProbeResult {
  if (b.length < 8) return 'need-more';
  const length = u32(b, 0);
  const code = u32(b, 4);
  if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) return 'match';
  if (length === 16 && code === CANCEL_REQUEST) return 'match';
  const params = startupParameters(b, 0);
  if (params === 'need-more') return 'need-more';
  if (params !== undefined) return params.has('user') ? 'match' : 'no';
  return probeQuery(b);
}

/**
 * On a session caught mid-way: a simple Query ('Q') or extended-protocol Parse ('P') message,
 * whose length fits and whose SQL text reads as a statement.
 */
function probeQuery(b: Buffer): ProbeResult {
  const kind = u8(b, 0);
  if (kind !== 0x51 && kind !== 0x50) return 'no';
  const length = u32(b, 1);
  if (length < 0) return 'need-more';
  if (length < 6 || length > 1 << 30) return 'no';
  let at = 5;
  if (kind === 0x50) {
    // Parse: prepared statement name (often empty), then the query.
    const nul = b.indexOf(0, 5);
    if (nul < 0) return b.length < 5 + 256 ? 'need-more' : 'no';
    at = nul + 1;
  }
  const visible = b.toString('latin1', at, Math.min(b.length, 1 + length, at + 64));
  if (visible.length < Math.min(1 + length - at - 1, 16)) return 'need-more';
  return looksLikeSql(visible.replace(/\0[\s\S]*$/, '')) ? 'match' : 'no';
}

/** Authentication request codes (ok, cleartext, MD5, GSS, SSPI, SASL) and their exact lengths. */
function authenticationLength(code: number): number | undefined {
  if (code === 0 || code === 3 || code === 7 || code === 9) return 8;
  if (code === 5) return 12;
  if (code === 10) return -1;
  return undefined;
}

function probeServer(b: Buffer, other: Buffer): ProbeResult {
  const kind = u8(b, 0);
  if (kind < 0) return 'need-more';
  const declined = u32(other, 0) === 8 && (u32(other, 4) === SSL_REQUEST || u32(other, 4) === GSSENC_REQUEST);
  // The one-byte answer to SSLRequest/GSSENCRequest only means something after such a request.
  if (declined && (kind === 0x53 || kind === 0x4e || kind === 0x47)) return 'match';
  if (b.length < 9) return 'need-more';
  const length = u32(b, 1);
  if (kind === 0x52) {
    const want = authenticationLength(u32(b, 5));
    if (want === undefined) return 'no';
    if (want === -1) return length > 8 && length < 1024 && b.indexOf('SCRAM-SHA-256', 9, 'latin1') === 9 ? 'match' : 'no';
    return length === want ? 'match' : 'no';
  }
  if (kind === 0x45) {
    // ErrorResponse: fields of a type byte and a string; severity ('S') comes first.
    return length > 8 && length < 4096 && b[5] === 0x53 && (b.indexOf('FATAL', 6, 'latin1') === 6 || b.indexOf('ERROR', 6, 'latin1') === 6)
      ? 'match'
      : 'no';
  }
  return 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  return dir === 'c2s' ? probeClient(data) : probeServer(data, ctx.other);
}

function extract(data: Buffer, dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir === 'c2s') {
    const at = negotiationLength(data);
    const params = startupParameters(data, at);
    if (params === 'need-more') return true;
    if (params === undefined) return false;
    const user = params.get('user');
    const database = params.get('database');
    const app = params.get('application_name');
    if (user !== undefined) meta.dbUser = user;
    if (database !== undefined || user !== undefined) meta.dbName = database ?? user;
    if (app !== undefined) meta.dbApplication = app;
    return false;
  }
  // Walk the server's messages (bounded) looking for ParameterStatus server_version.
  // A declined SSLRequest/GSSENCRequest is answered by a lone 'N' before the messages.
  let at = negotiationLength(ctx.other) > 0 && u8(data, 0) === 0x4e ? 1 : 0;
  for (let n = 0; n < 64; n++) {
    const kind = u8(data, at);
    const length = u32(data, at + 1);
    if (kind < 0 || length < 0 || at + 1 + length > data.length) return data.length < 16384;
    if (length < 4) return false;
    if (kind === 0x53) {
      const body = data.subarray(at + 5, at + 1 + length).toString('utf8').split('\0');
      if (body[0] === 'server_version' && body[1] !== undefined) {
        meta.dbServerVersion = body[1];
        return false;
      }
    }
    if (kind === 0x5a) return false;
    at += 1 + length;
  }
  return false;
}

export const postgresql: ProtocolModule = {
  name: 'PostgreSQL',
  aliases: ['Postgres'],
  transports: ['tcp'],
  ports: [5432],
  probe,
  extract,
};
