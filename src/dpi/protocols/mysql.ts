// MySQL / MariaDB client/server protocol: the server speaks first with a HandshakeV10 packet, the
// client answers with a HandshakeResponse41 (or an SSLRequest). The extractor reads the server
// version from the greeting and the user and database from the client's response.

import { u8 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SSL = 0x800;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x200000;

/** Every packet starts with a 3-byte little-endian payload length and a sequence id. */
function header(b: Buffer): { length: number; seq: number } | undefined {
  if (b.length < 4) return undefined;
  return { length: b.readUIntLE(0, 3), seq: b[3] as number };
}

/** A NUL-terminated string starting at `at`, looking at most `max` bytes ahead. */
function cstring(b: Buffer, at: number, max: number): { text: string; next: number } | undefined {
  const stop = Math.min(b.length, at + max);
  for (let i = at; i < stop; i++) if (b[i] === 0) return { text: b.toString('utf8', at, i), next: i + 1 };
  return undefined;
}

/** HandshakeV10: protocol 10, printable version, thread id, 8 bytes of scramble and a 0 filler. */
function probeGreeting(b: Buffer): ProbeResult {
  const h = header(b);
  if (h === undefined) return 'need-more';
  if (h.seq !== 0 || h.length < 1 || h.length > 1024) return 'no';
  const kind = u8(b, 4);
  if (kind === 0xff) return probeEarlyError(b, h.length);
  if (kind !== 10) return kind < 0 ? 'need-more' : 'no';
  for (let i = 5; i < Math.min(b.length, 4 + h.length); i++) {
    const c = b[i] as number;
    if (c === 0) {
      if (i === 5) return 'no';
      // thread id (4), auth-plugin-data-part-1 (8), filler (1) = 0, capability flags (2)
      const filler = u8(b, i + 13);
      if (filler < 0 || b.length < i + 16) return 'need-more';
      if (filler !== 0 || h.length < i + 16 - 4) return 'no';
      return (b.readUInt16LE(i + 14) & CLIENT_PROTOCOL_41) !== 0 ? 'match' : 'no';
    }
    if (c < 0x20 || c > 0x7e) return 'no';
  }
  return b.length >= 4 + h.length ? 'no' : 'need-more';
}

/** A server that refuses the host sends an ERR packet instead of a greeting: 0xff, code, message. */
function probeEarlyError(b: Buffer, length: number): ProbeResult {
  if (b.length < 4 + length) return 'need-more';
  if (length < 4) return 'no';
  const code = b.readUInt16LE(5);
  const text = b.subarray(7, 4 + length);
  return code >= 1000 && code < 5000 && text.every((c) => c >= 0x20 && c < 0x7f) ? 'match' : 'no';
}

/** HandshakeResponse41 or SSLRequest: sequence 1, CLIENT_PROTOCOL_41, charset, zero filler. */
function probeResponse(b: Buffer): ProbeResult {
  const h = header(b);
  if (h === undefined) return 'need-more';
  if (h.seq !== 1 || h.length < 32 || h.length > 65536) return 'no';
  if (b.length < 36) return 'need-more';
  const caps = b.readUInt32LE(4);
  if ((caps & CLIENT_PROTOCOL_41) === 0) return 'no';
  // The 23-byte filler is zero; MariaDB reuses its last 4 bytes for extended capabilities.
  for (let i = 13; i < 32; i++) if (b[i] !== 0) return 'no';
  if (h.length === 32) return (caps & CLIENT_SSL) !== 0 ? 'match' : 'no';
  const user = cstring(b, 36, 256);
  if (user === undefined) return b.length < 36 + 256 ? 'need-more' : 'no';
  return 'match';
}

/** Statements a session opens with when capture starts mid-connection (pooled connections). */
const SQL_START = /^\s*(?:SELECT|INSERT|UPDATE|DELETE|REPLACE|SET|SHOW|BEGIN|START|COMMIT|ROLLBACK|CALL|USE|CREATE|DROP|ALTER|TRUNCATE|WITH|EXPLAIN|DESCRIBE|PREPARE|EXECUTE|DEALLOCATE|LOCK|UNLOCK|GRANT|REVOKE|SAVEPOINT|RELEASE)\b/i;

/** Does `text` (a statement's first bytes) read as SQL? Shared with the PostgreSQL and TDS probes. */
export function looksLikeSql(text: string): boolean {
  return SQL_START.test(text) && /^[\t\n\r -~]*$/.test(text);
}

const COM_QUERY = 0x03;
const COM_STMT_PREPARE = 0x16;

/** A command packet opening a new sequence (id 0): COM_QUERY or COM_STMT_PREPARE with SQL text. */
function probeCommand(b: Buffer): ProbeResult {
  const h = header(b);
  if (h === undefined) return 'need-more';
  const command = u8(b, 4);
  if (h.seq !== 0 || h.length < 2 || (command !== COM_QUERY && command !== COM_STMT_PREPARE)) return command < 0 ? 'need-more' : 'no';
  const visible = b.toString('latin1', 5, Math.min(b.length, 4 + h.length, 5 + 64));
  if (visible.length < Math.min(h.length - 1, 16)) return 'need-more';
  return looksLikeSql(visible) ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (dir === 's2c') return probeGreeting(data);
  // Capture may have missed the greeting; the client response alone is structured enough, and
  // on a session caught mid-way the client's statements are.
  const response = probeResponse(data);
  return response === 'no' ? probeCommand(data) : response;
}

/** A length-encoded integer (1, 3, 4 or 9 bytes); undefined when cut or too large to matter. */
function lenenc(b: Buffer, at: number): { value: number; next: number } | undefined {
  const first = u8(b, at);
  if (first < 0) return undefined;
  if (first < 0xfb) return { value: first, next: at + 1 };
  if (first === 0xfc && at + 3 <= b.length) return { value: b.readUInt16LE(at + 1), next: at + 3 };
  if (first === 0xfd && at + 4 <= b.length) return { value: b.readUIntLE(at + 1, 3), next: at + 4 };
  return undefined;
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir === 's2c') {
    if (u8(data, 4) !== 10) return false;
    const version = cstring(data, 5, 128);
    if (version !== undefined) meta.dbServerVersion = version.text;
    return version === undefined && data.length < 133;
  }
  if (data.length < 36) return true;
  const caps = data.readUInt32LE(4);
  const user = cstring(data, 36, 256);
  if (user === undefined) return data.length < 36 + 256;
  meta.dbUser = user.text;
  let next: number;
  if ((caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) !== 0) {
    const n = lenenc(data, user.next);
    if (n === undefined) return false;
    next = n.next + n.value;
  } else if ((caps & CLIENT_SECURE_CONNECTION) !== 0) {
    const n = u8(data, user.next);
    if (n < 0) return true;
    next = user.next + 1 + n;
  } else {
    const auth = cstring(data, user.next, 256);
    if (auth === undefined) return false;
    next = auth.next;
  }
  if ((caps & CLIENT_CONNECT_WITH_DB) !== 0) {
    const db = cstring(data, next, 256);
    if (db === undefined) return data.length < next + 256;
    meta.dbName = db.text;
  }
  return false;
}

export const mysql: ProtocolModule = {
  name: 'MySQL',
  aliases: ['MariaDB'],
  transports: ['tcp'],
  ports: [3306, 33060],
  probe,
  extract,
};
