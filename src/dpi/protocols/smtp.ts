// SMTP (RFC 5321): the server greets with a 220 reply, the client opens with EHLO or HELO
// (RFC 5321 section 4.1.1.1). A greeting naming SMTP is enough; otherwise the client's first
// command decides (FTP also greets with 220). The extractor reads HELO and the envelope.

import { commandOf, line, replyCode } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const OPENING = new Set(['EHLO', 'HELO', 'LHLO']);

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const s2c = dir === 's2c' ? data : ctx.other;
  const c2s = dir === 'c2s' ? data : ctx.other;
  let greeting: ProbeResult = 'need-more';
  if (s2c.length > 0) {
    const code = replyCode(s2c);
    if (code === undefined || (code !== 'need-more' && code !== 220 && code !== 554)) return 'no';
    if (code !== 'need-more') greeting = 'match';
  }
  const cmd = c2s.length > 0 ? commandOf(c2s) : 'need-more';
  if (cmd === undefined || (cmd !== 'need-more' && !OPENING.has(cmd))) return 'no';
  if (cmd !== 'need-more') return greeting;
  return greeting === 'match' && /SMTP/i.test(line(s2c, 0, 512) ?? '') ? 'match' : 'need-more';
}

const LIMIT = 2048;

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const text = data.toString('latin1', 0, Math.min(data.length, LIMIT));
  const helo = /^(?:EHLO|HELO|LHLO) ([^\r\n]{1,255})/im.exec(text);
  const from = /^MAIL FROM:\s?<([^>\r\n]{0,320})>/im.exec(text);
  const to = /^RCPT TO:\s?<([^>\r\n]{0,320})>/im.exec(text);
  if (helo !== null) meta.smtpHelo = helo[1];
  if (from !== null) meta.smtpMailFrom = from[1];
  if (to !== null) meta.smtpRcptTo = to[1];
  // STARTTLS ends the cleartext part: nothing after it is readable.
  return to === null && !/^STARTTLS\r?\n/im.test(text) && data.length < LIMIT;
}

export const smtp: ProtocolModule = {
  name: 'SMTP',
  aliases: ['ESMTP'],
  transports: ['tcp'],
  ports: [25, 587, 2525],
  probe,
  extract,
};
