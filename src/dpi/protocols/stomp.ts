// STOMP 1.0-1.2: text frames of a command line, "name:value" header lines, a blank line and a
// NUL-terminated body. Clients open with CONNECT or STOMP (accept-version, host), servers answer
// CONNECTED (version) or ERROR. The extractor records the versions and the virtual host.

import { line } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MAX_HEAD = 4096;

interface Frame {
  command: string;
  headers: Map<string, string>;
}

/** The command and headers of the first frame; 'need-more' until its blank line is seen. */
function frame(b: Buffer, commands: readonly string[]): Frame | 'need-more' | undefined {
  const first = line(b, 0, 16);
  if (first === undefined) {
    const head = b.toString('latin1', 0, Math.min(b.length, 16));
    return b.length < 16 && commands.some((c) => c.startsWith(head)) ? 'need-more' : undefined;
  }
  if (!commands.includes(first)) return undefined;
  const headers = new Map<string, string>();
  let at = first.length + (b[first.length] === 0x0d ? 2 : 1);
  for (let n = 0; n < 64; n++) {
    const l = line(b, at, MAX_HEAD);
    if (l === undefined) return b.length < MAX_HEAD ? 'need-more' : undefined;
    at += l.length + (b[at + l.length] === 0x0d ? 2 : 1);
    if (l.length === 0) return { command: first, headers };
    const colon = l.indexOf(':');
    if (colon <= 0) return undefined;
    const name = l.slice(0, colon);
    if (!headers.has(name)) headers.set(name, l.slice(colon + 1));
  }
  return undefined;
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  const f = frame(data, dir === 'c2s' ? ['CONNECT', 'STOMP'] : ['CONNECTED', 'ERROR']);
  if (f === 'need-more') return 'need-more';
  if (f === undefined) return 'no';
  if (f.command === 'STOMP' || f.command === 'CONNECTED') return 'match';
  if (f.command === 'ERROR') return f.headers.has('message') ? 'match' : 'no';
  // A 1.0 CONNECT has no accept-version; it still names a login or a virtual host.
  const v = f.headers.get('accept-version');
  if (v !== undefined) return /^1\.[0-2](,1\.[0-2])*$/.test(v) ? 'match' : 'no';
  return f.headers.has('login') || f.headers.has('host') ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const f = frame(data, dir === 'c2s' ? ['CONNECT', 'STOMP'] : ['CONNECTED', 'ERROR']);
  if (f === 'need-more') return true;
  if (f === undefined) return false;
  const accept = f.headers.get('accept-version');
  const host = f.headers.get('host');
  const version = f.headers.get('version');
  const server = f.headers.get('server');
  if (accept !== undefined) meta.stompAcceptVersion = accept;
  if (host !== undefined) meta.stompHost = host;
  if (version !== undefined) meta.stompVersion = version;
  if (server !== undefined) meta.stompServer = server;
  return false;
}

export const stomp: ProtocolModule = {
  name: 'STOMP',
  transports: ['tcp'],
  ports: [61613, 61614],
  probe,
  extract,
};
