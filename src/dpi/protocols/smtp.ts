// SMTP (RFC 5321): the server greets with a 220 reply, the client opens with EHLO or HELO
// (RFC 5321 section 4.1.1.1). A greeting naming SMTP is enough; otherwise the client's first
// command decides (FTP also greets with 220). The extractor reads HELO and the envelope.

import { greetedSession, replyIs, type Greeting } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProtocolModule } from '../types.js';

const greeting: Greeting = {
  // 554 is the greeting of a server that refuses service (section 3.1).
  fits: (s2c) => replyIs(s2c, 220, 554),
  opening: new Set(['EHLO', 'HELO', 'LHLO']),
  names: /SMTP/i,
};

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
  probe: (data, dir, ctx) => greetedSession(data, dir, ctx, greeting),
  extract,
};
