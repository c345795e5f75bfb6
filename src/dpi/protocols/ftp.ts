// FTP control connection (RFC 959, RFC 2228/4217 for AUTH TLS): the server greets with a 220 reply
// and the client answers with FTP commands. A greeting naming FTP is enough; otherwise the
// client's first command decides (SMTP also greets with 220). The extractor records the user.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProtocolModule } from '../types.js';
import { greetedSession, replyIs, type Greeting } from '../bytes.js';

const greeting: Greeting = {
  fits: (s2c) => replyIs(s2c, 220, 120),
  // Commands a client sends before or right after logging in (RFC 959 section 4.1, RFC 2389 FEAT).
  opening: new Set(['USER', 'AUTH', 'FEAT', 'SYST', 'OPTS', 'HOST', 'CLNT', 'PBSZ']),
  names: /FTP/i,
};

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const text = data.toString('latin1', 0, Math.min(data.length, 1024));
  const user = /^USER ([^\r\n]{1,128})\r?\n/im.exec(text);
  if (user !== null) meta.ftpUser = user[1];
  return user === null && data.length < 1024;
}

export const ftp: ProtocolModule = {
  name: 'FTP',
  transports: ['tcp'],
  ports: [21],
  probe: (data, dir, ctx) => greetedSession(data, dir, ctx, greeting),
  extract,
};
