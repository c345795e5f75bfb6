// FTP control connection (RFC 959, RFC 2228/4217 for AUTH TLS): the server greets with a 220 reply
// and the client answers with FTP commands. A greeting naming FTP is enough; otherwise the
// client's first command decides (SMTP also greets with 220). The extractor records the user.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { commandOf, line, replyCode } from '../bytes.js';

/** Commands a client sends before or right after logging in (RFC 959 section 4.1, RFC 2389 FEAT). */
const OPENING = new Set(['USER', 'AUTH', 'FEAT', 'SYST', 'OPTS', 'HOST', 'CLNT', 'PBSZ']);

function greeting(s2c: Buffer): ProbeResult {
  const code = replyCode(s2c);
  if (code === 'need-more' || code === undefined) return code ?? 'no';
  return code === 220 || code === 120 ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const s2c = dir === 's2c' ? data : ctx.other;
  const c2s = dir === 'c2s' ? data : ctx.other;
  const g = s2c.length > 0 ? greeting(s2c) : 'need-more';
  if (g === 'no') return 'no';
  const cmd = c2s.length > 0 ? commandOf(c2s) : 'need-more';
  if (cmd === undefined) return 'no';
  if (cmd !== 'need-more') return OPENING.has(cmd) ? g : 'no';
  if (g === 'match' && /FTP/i.test(line(s2c, 0, 512) ?? '')) return 'match';
  return 'need-more';
}

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
  probe,
  extract,
};
