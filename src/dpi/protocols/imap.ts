// IMAP (RFC 9051, RFC 3501): the server greets with an untagged "* OK", "* PREAUTH" or "* BYE";
// the client sends tagged commands "tag SP COMMAND". A greeting naming IMAP, or a tagged IMAP
// command, is enough. The extractor records the LOGIN user.

import { commandOf, line, literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const COMMANDS = new Set(['CAPABILITY', 'LOGIN', 'AUTHENTICATE', 'STARTTLS', 'ID', 'NOOP', 'LOGOUT', 'SELECT', 'EXAMINE', 'LIST', 'ENABLE']);

function greeting(s2c: Buffer): ProbeResult {
  for (const g of ['* OK', '* PREAUTH', '* BYE']) {
    const r = literal(s2c, g, 0, true);
    if (r !== 'no') return r;
  }
  return 'no';
}

/** "tag SP command": the tag is 1 to 32 characters of ASTRING-CHAR without "+" (RFC 9051 section 9). */
function taggedCommand(c2s: Buffer): ProbeResult {
  for (let i = 0; i < 33; i++) {
    const c = c2s[i];
    if (c === undefined) return 'need-more';
    if (c === 0x20) {
      if (i === 0) return 'no';
      const cmd = commandOf(c2s, i + 1);
      if (cmd === 'need-more') return cmd;
      return cmd !== undefined && COMMANDS.has(cmd) ? 'match' : 'no';
    }
    if (c <= 0x20 || c >= 0x7f || c === 0x2b || c === 0x28 || c === 0x29 || c === 0x7b || c === 0x25 || c === 0x2a || c === 0x22 || c === 0x5c) return 'no';
  }
  return 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const s2c = dir === 's2c' ? data : ctx.other;
  const c2s = dir === 'c2s' ? data : ctx.other;
  const g = s2c.length > 0 ? greeting(s2c) : 'need-more';
  const t = c2s.length > 0 ? taggedCommand(c2s) : 'need-more';
  if (g === 'no' || t === 'no') return 'no';
  if (t === 'match') return 'match';
  return g === 'match' && /IMAP/i.test(line(s2c, 0, 1024) ?? '') ? 'match' : 'need-more';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const text = data.toString('latin1', 0, Math.min(data.length, 1024));
  const login = /^\S{1,32} LOGIN "?([^\s"]{1,128})/im.exec(text);
  if (login !== null) meta.imapUser = login[1];
  return login === null && data.length < 1024;
}

export const imap: ProtocolModule = {
  name: 'IMAP',
  transports: ['tcp'],
  ports: [143],
  probe,
  extract,
};
