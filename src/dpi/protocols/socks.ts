// SOCKS (RFC 1928 v5, with RFC 1929 username/password; the SOCKS4/4a memo): a v4 CONNECT/BIND
// request or a v5 method greeting from the client, and the matching reply from the server. The
// extractor records the version and the requested destination.

import { ipv6, u16 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** v4: VN 4, CD 1|2, DSTPORT, DSTIP, USERID NUL; 4a: DSTIP 0.0.0.x (x != 0), then DOMAIN NUL. */
function v4Request(b: Buffer): { end: number; target: string } | 'need-more' | undefined {
  if (b.length < 9) return b[1] === undefined || b[1] === 1 || b[1] === 2 ? 'need-more' : undefined;
  if (b[1] !== 1 && b[1] !== 2) return undefined;
  const user = b.indexOf(0, 8);
  if (user < 0) return b.length < 8 + 256 ? 'need-more' : undefined;
  const port = u16(b, 2);
  const ip = [...b.subarray(4, 8)];
  if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
    const host = b.indexOf(0, user + 1);
    if (host < 0) return b.length < user + 256 ? 'need-more' : undefined;
    return { end: host + 1, target: `${b.toString('latin1', user + 1, host)}:${port}` };
  }
  return { end: user + 1, target: `${ip.join('.')}:${port}` };
}

/** v5 greeting: VER 5, NMETHODS, METHODS (0x00-0x09 and 0x80-0xFE assigned or private). */
function v5Greeting(b: Buffer): number | 'need-more' | undefined {
  const n = b[1];
  if (n === undefined) return 'need-more';
  if (n === 0 || n > 32) return undefined;
  if (b.length < 2 + n) return 'need-more';
  for (let i = 2; i < 2 + n; i++) {
    const m = b[i] as number;
    if (m > 0x09 && m < 0x80) return undefined;
  }
  return 2 + n;
}

/** v5 request after the greeting (and a username/password sub-negotiation): VER 5, CMD, RSV 0, ATYP. */
function v5Target(b: Buffer, at: number): string | undefined {
  if (b[at] === 1) at += 3 + (b[at + 1] ?? 0) + (b[at + 2 + (b[at + 1] ?? 0)] ?? 0);
  if (b[at] !== 5 || (b[at + 1] ?? 0) < 1 || (b[at + 1] ?? 0) > 3 || b[at + 2] !== 0) return undefined;
  const atyp = b[at + 3];
  let host: string;
  let next: number;
  if (atyp === 1) {
    host = [...b.subarray(at + 4, at + 8)].join('.');
    next = at + 8;
  } else if (atyp === 3) {
    const n = b[at + 4] ?? 0;
    host = b.toString('latin1', at + 5, at + 5 + n);
    next = at + 5 + n;
  } else if (atyp === 4) {
    host = `[${ipv6(b.subarray(at + 4, at + 20))}]`;
    next = at + 20;
  } else {
    return undefined;
  }
  const port = u16(b, next);
  return port < 0 ? undefined : `${host}:${port}`;
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const c2s = dir === 'c2s' ? data : ctx.other;
  const s2c = dir === 's2c' ? data : ctx.other;
  if (c2s.length === 0) return s2c[0] === 5 || s2c[0] === 0 ? 'need-more' : 'no';
  const version = c2s[0];
  if (version === 4) {
    const r = v4Request(c2s);
    if (r === undefined || r === 'need-more') return r ?? 'no';
    // Reply: VN 0, CD 90..93 (granted, rejected, identd failures), 6 more bytes.
    if (s2c.length === 0) return c2s.length === r.end ? 'need-more' : 'no';
    return s2c[0] === 0 && (s2c[1] ?? 0) >= 90 && (s2c[1] ?? 0) <= 93 ? 'match' : s2c.length < 2 ? 'need-more' : 'no';
  }
  if (version !== 5) return 'no';
  const g = v5Greeting(c2s);
  if (g === undefined || g === 'need-more') return g ?? 'no';
  // Method selection: VER 5, METHOD chosen from the client's list, or 0xFF none acceptable.
  if (s2c.length === 0) return c2s.length === g ? 'need-more' : v5Target(c2s, g) !== undefined ? 'match' : 'no';
  if (s2c.length < 2) return s2c[0] === 5 ? 'need-more' : 'no';
  const method = s2c[1] as number;
  return s2c[0] === 5 && (method === 0xff || c2s.subarray(2, g).includes(method)) ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  meta.socksVersion ??= data[0];
  if (data[0] === 4) {
    const r = v4Request(data);
    if (typeof r === 'object') meta.socksTarget = r.target;
    return r === 'need-more';
  }
  const g = v5Greeting(data);
  if (typeof g !== 'number') return false;
  const target = v5Target(data, g);
  if (target !== undefined) meta.socksTarget = target;
  return target === undefined && data.length < 600;
}

export const socks: ProtocolModule = {
  name: 'SOCKS',
  aliases: ['SOCKS5', 'SOCKS4'],
  transports: ['tcp'],
  ports: [1080],
  probe,
  extract,
};
