// Apache ZooKeeper client protocol (jute): a session opens with a length-prefixed ConnectRequest
// (protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly) answered by a
// ConnectResponse; the admin "four-letter words" (ruok, stat, mntr, ...) are 4 bytes on a fresh
// connection. The extractor records the negotiated session timeout or the command word.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const FOUR_LETTER_WORDS = new Set([
  'ruok', 'stat', 'srvr', 'conf', 'cons', 'crst', 'dump', 'envi', 'mntr', 'wchs', 'wchc', 'wchp',
  'dirs', 'isro', 'gtmk', 'stmk', 'srst', 'reqs', 'hash',
]);
/** The session password is always 16 bytes (zeros for a new session). */
const PASSWD = 16;
/** ConnectRequest body: 4 + 8 + 4 + 8 + (4 + 16), plus the optional readOnly byte. */
const REQUEST_BODY = 44;
/** ConnectResponse body: 4 + 4 + 8 + (4 + 16), plus the optional readOnly byte. */
const RESPONSE_BODY = 36;

function probeConnect(b: Buffer, body: number, timeoutAt: number, passwdAt: number): ProbeResult {
  if (b.length < 4 + body) return b.length >= 4 && !plausibleLength(b.readInt32BE(0), body) ? 'no' : 'need-more';
  const length = b.readInt32BE(0);
  if (!plausibleLength(length, body) || b.readInt32BE(4) !== 0) return 'no';
  const timeout = b.readInt32BE(timeoutAt);
  // Session timeouts are milliseconds; servers bound them to 2..20 ticks, far below 10 minutes.
  if (timeout < 0 || timeout > 600_000) return 'no';
  if (b.readInt32BE(passwdAt) !== PASSWD) return 'no';
  if (length === body + 1 && b.length > 4 + body && (b[4 + body] as number) > 1) return 'no';
  return 'match';
}

function plausibleLength(length: number, body: number): boolean {
  return length === body || length === body + 1;
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  if (dir === 'c2s') {
    const word = data.toString('latin1', 0, 4);
    if (data.length === 4 && FOUR_LETTER_WORDS.has(word)) return 'match';
    // timeOut after protocolVersion and lastZxidSeen; passwd length after sessionId.
    return probeConnect(data, REQUEST_BODY, 16, 28);
  }
  const asked = ctx.other.toString('latin1', 0, 4);
  if (ctx.other.length === 4 && FOUR_LETTER_WORDS.has(asked)) return data.length > 0 ? 'match' : 'need-more';
  return probeConnect(data, RESPONSE_BODY, 8, 20);
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir === 'c2s' && data.length === 4 && FOUR_LETTER_WORDS.has(data.toString('latin1'))) {
    meta.zookeeperCommand = data.toString('latin1');
    return false;
  }
  if (dir === 's2c' && probeConnect(data, RESPONSE_BODY, 8, 20) === 'match') {
    meta.zookeeperSessionTimeout = data.readInt32BE(8);
    meta.zookeeperSessionId = data.readBigInt64BE(12).toString(16);
  }
  return false;
}

export const zookeeper: ProtocolModule = {
  name: 'ZooKeeper',
  transports: ['tcp'],
  ports: [2181],
  probe,
  extract,
};
