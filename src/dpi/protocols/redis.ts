// Redis serialization protocol (RESP2/RESP3): clients send arrays of bulk strings or inline
// commands, servers answer with typed replies. Short replies ("+OK") are only trusted after a
// request was seen. The extractor records the first command name.

import { line, u8 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** Commands a client commonly sends inline (without RESP framing), e.g. from telnet or redis-cli. */
const INLINE = new Set([
  'PING', 'AUTH', 'HELLO', 'INFO', 'SELECT', 'GET', 'SET', 'DEL', 'EXISTS', 'KEYS', 'SCAN',
  'ECHO', 'CONFIG', 'CLIENT', 'COMMAND', 'MONITOR', 'SUBSCRIBE', 'PSUBSCRIBE', 'DBSIZE', 'FLUSHALL',
  'FLUSHDB', 'INCR', 'DECR', 'EXPIRE', 'TTL', 'TYPE', 'HGET', 'HSET', 'HGETALL', 'LPUSH', 'RPUSH',
  'LRANGE', 'SADD', 'SMEMBERS', 'ZADD', 'ZRANGE', 'MGET', 'MSET', 'PUBLISH', 'SLAVEOF', 'REPLICAOF',
  'SYNC', 'PSYNC', 'REPLCONF', 'SAVE', 'BGSAVE', 'MULTI', 'EXEC', 'EVAL', 'SHUTDOWN', 'ROLE', 'CLUSTER',
]);

/** RESP type bytes: every server message starts with one. */
const REPLY_TYPES = '+-:$*%~_#,(=|>!';

/** A RESP length line "<digits>\r\n" (or "-1\r\n" for null) at `at`: value and offset after it. */
function number(b: Buffer, at: number, max: number): { value: number; next: number } | 'need-more' | undefined {
  const negative = b[at] === 0x2d;
  const start = negative ? at + 1 : at;
  let value = 0;
  for (let i = start; i < at + 12; i++) {
    const c = b[i];
    if (c === undefined) return 'need-more';
    if (c === 0x0d) {
      if (i === start) return undefined;
      const lf = b[i + 1];
      if (lf === undefined) return 'need-more';
      if (lf !== 0x0a) return undefined;
      if (negative) return value === 1 ? { value: -1, next: i + 2 } : undefined;
      return value <= max ? { value, next: i + 2 } : undefined;
    }
    if (c < 0x30 || c > 0x39) return undefined;
    value = value * 10 + (c - 0x30);
  }
  return undefined;
}

/** A client request: "*N" then bulk strings, the first one a command name of letters. */
function probeArray(b: Buffer): { result: ProbeResult; command?: string } {
  const count = number(b, 1, 1024 * 1024);
  if (count === 'need-more') return { result: 'need-more' };
  if (count === undefined || count.value < 1) return { result: 'no' };
  if (u8(b, count.next) < 0) return { result: 'need-more' };
  if (b[count.next] !== 0x24) return { result: 'no' };
  const size = number(b, count.next + 1, 512 * 1024 * 1024);
  if (size === 'need-more') return { result: 'need-more' };
  if (size === undefined || size.value < 1 || size.value > 64) return { result: 'no' };
  const end = size.next + size.value;
  if (b.length < end + 2) return { result: 'need-more' };
  if (b[end] !== 0x0d || b[end + 1] !== 0x0a) return { result: 'no' };
  const command = b.toString('latin1', size.next, end);
  return /^[A-Za-z][A-Za-z_|.-]*$/.test(command) ? { result: 'match', command: command.toUpperCase() } : { result: 'no' };
}

function probeInline(b: Buffer): { result: ProbeResult; command?: string } {
  const text = line(b, 0, 4096);
  if (text === undefined) {
    const head = b.toString('latin1', 0, Math.min(b.length, 16));
    const space = head.indexOf(' ');
    const word = space < 0 ? head : head.slice(0, space);
    const open = space < 0 ? /^[A-Z]*$/.test(word) && [...INLINE].some((c) => c.startsWith(word)) : INLINE.has(word);
    return { result: open && b.length < 4096 ? 'need-more' : 'no' };
  }
  const word = text.split(' ')[0] ?? '';
  const command = word.toUpperCase();
  // Redis accepts inline commands in any case, but lower-case "get"/"set" lines are memcached's
  // text protocol, so only upper-case inline commands count as Redis evidence.
  const plausible = INLINE.has(command) && word === command && !/ HTTP\/\d\.\d$/.test(text);
  return plausible ? { result: 'match', command } : { result: 'no' };
}

function request(b: Buffer): { result: ProbeResult; command?: string } {
  const first = u8(b, 0);
  if (first < 0) return { result: 'need-more' };
  return first === 0x2a ? probeArray(b) : probeInline(b);
}

/** A reply that stands on its own: a bulk string, array, map or attribute with valid framing, or +PONG. */
function probeReply(b: Buffer, other: Buffer): ProbeResult {
  const first = u8(b, 0);
  if (first < 0) return 'need-more';
  const asked = request(other).result;
  if (asked === 'no' && other.length > 0) return 'no';
  const text = line(b, 0, 1024);
  if ('+-:_#,('.includes(String.fromCharCode(first))) {
    if (text === undefined) return b.length < 1024 ? 'need-more' : 'no';
    if (!/^[ -~]*$/.test(text)) return 'no';
    if (text === '+PONG') return 'match';
    return asked === 'match' ? 'match' : 'need-more';
  }
  if ('$*%~>|'.includes(String.fromCharCode(first))) {
    const size = number(b, 1, 512 * 1024 * 1024);
    if (size === 'need-more') return 'need-more';
    if (size === undefined) return 'no';
    if (first === 0x24) {
      if (size.value < 0) return asked === 'match' ? 'match' : 'need-more';
      const end = size.next + size.value;
      if (end + 2 > b.length) return asked === 'match' ? 'match' : 'need-more';
      return b[end] === 0x0d && b[end + 1] === 0x0a ? 'match' : 'no';
    }
    // An aggregate's first element starts with a RESP type byte.
    const next = u8(b, size.next);
    if (size.value <= 0) return asked === 'match' ? 'match' : 'need-more';
    if (next < 0) return 'need-more';
    return REPLY_TYPES.includes(String.fromCharCode(next)) ? 'match' : 'no';
  }
  return 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  if (dir === 's2c') return probeReply(data, ctx.other);
  // A Redis server never speaks first, so whatever it sent must be a reply.
  const answer = u8(ctx.other, 0);
  if (answer >= 0 && !REPLY_TYPES.includes(String.fromCharCode(answer))) return 'no';
  return request(data).result;
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const r = request(data);
  if (r.command !== undefined) meta.redisCommand = r.command;
  return r.result === 'need-more';
}

export const redis: ProtocolModule = {
  name: 'Redis',
  aliases: ['RESP'],
  transports: ['tcp'],
  ports: [6379, 6380, 26379],
  probe,
  extract,
};
