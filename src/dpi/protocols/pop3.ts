// POP3 (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS): the server greets with "+OK", the client sends
// USER, APOP, CAPA, STLS or AUTH. A greeting naming POP is enough; otherwise the client's first
// command decides. The extractor records the user name.

import { commandOf, line, literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const OPENING = new Set(['USER', 'APOP', 'CAPA', 'STLS', 'AUTH']);

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const s2c = dir === 's2c' ? data : ctx.other;
  const c2s = dir === 'c2s' ? data : ctx.other;
  let greeting: ProbeResult = 'need-more';
  if (s2c.length > 0) {
    greeting = literal(s2c, '+OK');
    if (greeting === 'no') return 'no';
  }
  const cmd = c2s.length > 0 ? commandOf(c2s) : 'need-more';
  if (cmd === undefined || (cmd !== 'need-more' && !OPENING.has(cmd))) return 'no';
  if (cmd !== 'need-more') return greeting;
  return greeting === 'match' && /POP/i.test(line(s2c, 0, 512) ?? '') ? 'match' : 'need-more';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const text = data.toString('latin1', 0, Math.min(data.length, 1024));
  const user = /^(?:USER|APOP) ([^\s]{1,128})/im.exec(text);
  if (user !== null) meta.pop3User = user[1];
  return user === null && data.length < 1024;
}

export const pop3: ProtocolModule = {
  name: 'POP3',
  aliases: ['POP'],
  transports: ['tcp'],
  ports: [110],
  probe,
  extract,
};
