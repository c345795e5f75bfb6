// Syslog (RFC 5424, RFC 3164; over TCP RFC 6587): a message starts with "<PRI>", PRI = facility * 8
// + severity in 0..191 written without leading zeros; over TCP it may be preceded by an octet
// count "LEN SP". The extractor records facility and severity.

import { parsed } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** The PRI value at `at` and the offset after ">", 'need-more', or undefined. */
function pri(b: Buffer, at: number): { value: number; next: number } | 'need-more' | undefined {
  if (at >= b.length) return 'need-more';
  if (b[at] !== 0x3c) return undefined;
  let value = 0;
  for (let i = at + 1; i <= at + 4; i++) {
    const c = b[i];
    if (c === undefined) return 'need-more';
    if (c === 0x3e) {
      const digits = i - at - 1;
      if (digits === 0 || value > 191 || (digits > 1 && b[at + 1] === 0x30)) return undefined;
      return { value, next: i + 1 };
    }
    if (!isDigit(c)) return undefined;
    value = value * 10 + c - 0x30;
  }
  return undefined;
}

/** Offset of the message: after an RFC 6587 octet count over TCP, else 0. */
function start(b: Buffer, ctx: ProbeContext): number | 'need-more' | undefined {
  if (ctx.transport !== 'tcp' || b[0] === 0x3c) return 0;
  for (let i = 0; i < 8; i++) {
    const c = b[i];
    if (c === undefined) return 'need-more';
    if (c === 0x20 && i > 0 && b[0] !== 0x30) return i + 1;
    if (!isDigit(c)) return undefined;
  }
  return undefined;
}

function parse(data: Buffer, ctx: ProbeContext): { value: number; next: number } | 'need-more' | undefined {
  const at = start(data, ctx);
  if (at === undefined || at === 'need-more') return at;
  const p = pri(data, at);
  if (typeof p !== 'object') return p;
  // What follows is a version digit (RFC 5424) or the printable start of an RFC 3164 message.
  const c = data[p.next];
  if (c === undefined) return 'need-more';
  return c >= 0x20 && c < 0x7f ? p : undefined;
}

function probe(data: Buffer, _dir: Direction, ctx: ProbeContext): ProbeResult {
  return parsed(parse(data, ctx));
}

function extract(data: Buffer, _dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean {
  const p = parse(data, ctx);
  if (typeof p !== 'object') return p === 'need-more';
  meta.syslogFacility ??= p.value >> 3;
  meta.syslogSeverity ??= p.value & 7;
  return false;
}

export const syslog: ProtocolModule = {
  name: 'Syslog',
  transports: ['udp', 'tcp'],
  ports: [514, 601],
  probe,
  extract,
};
