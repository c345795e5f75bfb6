// POP3 (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS): the server greets with "+OK", the client sends
// USER, APOP, CAPA, STLS or AUTH. A greeting naming POP is enough; otherwise the client's first
// command decides. The extractor records the user name.

import { greetedSession, literal, type Greeting } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProtocolModule } from '../types.js';

const greeting: Greeting = {
  fits: (s2c) => literal(s2c, '+OK'),
  opening: new Set(['USER', 'APOP', 'CAPA', 'STLS', 'AUTH']),
  names: /POP/i,
};

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
  probe: (data, dir, ctx) => greetedSession(data, dir, ctx, greeting),
  extract,
};
