// IRC (RFC 1459, RFC 2812, IRCv3 capability negotiation): the client registers with CAP LS,
// PASS, NICK and USER lines; the server talks in lines ":<prefix> <command or numeric> ...".
// The extractor records the nickname and the server's name.

import { line } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MAX_LINE = 512;
/** Nicknames: a letter or special first, then letters, digits, specials and '-' (RFC 2812 section 2.3.1). */
const NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,31}$/;

/** Does one client registration line follow the grammar of its command? */
function registrationLine(text: string): boolean {
  const [command = '', ...params] = text.split(' ');
  switch (command.toUpperCase()) {
    case 'NICK':
      return params.length === 1 && NICK.test(params[0] as string);
    case 'USER':
      // USER <user> <mode> <unused> :<realname>
      return params.length >= 4 && (params[3] as string).startsWith(':');
    case 'CAP':
      return /^(LS|REQ|END)$/.test(params[0] ?? '');
    case 'PASS':
      return params.length === 1;
    default:
      return false;
  }
}

/** A server line: prefix, then a command word or three-digit numeric, then a parameter. */
function serverLine(text: string): boolean {
  return /^:[!-~]+ (NOTICE|PING|CAP|ERROR|\d{3}) \S/.test(text) || /^(NOTICE AUTH|PING) :/.test(text);
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  const text = line(data, 0, MAX_LINE);
  if (text === undefined) {
    if (data.length >= MAX_LINE) return 'no';
    const head = data.toString('latin1', 0, Math.min(data.length, 5)).toUpperCase();
    const starts = dir === 'c2s' ? ['NICK ', 'USER ', 'CAP ', 'PASS '] : [':', 'NOTICE', 'PING '];
    return starts.some((s) => s.startsWith(head) || head.startsWith(s)) ? 'need-more' : 'no';
  }
  return (dir === 'c2s' ? registrationLine(text) : serverLine(text)) ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  let at = 0;
  for (let n = 0; n < 8; n++) {
    const text = line(data, at, MAX_LINE);
    if (text === undefined) return data.length < 2048;
    at = data.indexOf(0x0a, at) + 1;
    if (dir === 'c2s') {
      const nick = /^NICK (\S+)$/i.exec(text)?.[1];
      if (nick !== undefined) {
        meta.ircNick = nick;
        return false;
      }
    } else {
      const server = /^:([^\s!@]+) /.exec(text)?.[1];
      if (server !== undefined) {
        meta.ircServer = server;
        return false;
      }
    }
  }
  return false;
}

export const irc: ProtocolModule = {
  name: 'IRC',
  transports: ['tcp'],
  ports: [6667, 6697, 194],
  probe,
  extract,
};
