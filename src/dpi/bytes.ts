// Small bounded readers shared by the protocol probes. Every reader answers "out of range"
// with -1 or undefined instead of throwing, because probe input is adversarial and may be cut
// anywhere by the bounded stream prefix.

import type { Direction, ProbeContext, ProbeResult } from './types.js';

// Byte arithmetic rather than Buffer#readUInt*: on Node 20 those validate their offset through a
// wrapped helper on every call, which the probes of every candidate pay on every packet.

export function u8(b: Buffer, at: number): number {
  return at >= 0 && at < b.length ? (b[at] as number) : -1;
}

export function u16(b: Buffer, at: number): number {
  return at >= 0 && at + 2 <= b.length ? ((b[at] as number) << 8) | (b[at + 1] as number) : -1;
}

export function u24(b: Buffer, at: number): number {
  return at >= 0 && at + 3 <= b.length ? ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number) : -1;
}

export function u32(b: Buffer, at: number): number {
  return at >= 0 && at + 4 <= b.length ? (b[at] as number) * 0x1000000 + u24(b, at + 1) : -1;
}

/**
 * Compares the start of `b` with a fixed ASCII literal: 'match' when it is all there,
 * 'need-more' when `b` is a proper prefix of it, 'no' on the first differing byte.
 */
export function literal(b: Buffer, text: string, at = 0, ignoreCase = false): ProbeResult {
  for (let i = 0; i < text.length; i++) {
    const c = u8(b, at + i);
    if (c < 0) return 'need-more';
    const want = text.charCodeAt(i);
    if (c !== want && !(ignoreCase && (c | 0x20) === (want | 0x20) && isAlpha(want))) return 'no';
  }
  return 'match';
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Index of the first LF at or after `from`, looking at most `max` bytes ahead; -1 if none. */
function lineEnd(b: Buffer, from = 0, max = 1024): number {
  const stop = Math.min(b.length, from + max);
  for (let i = from; i < stop; i++) if (b[i] === 0x0a) return i;
  return -1;
}

/** One text line without its terminator, or undefined when it is not complete within `max` bytes. */
export function line(b: Buffer, from = 0, max = 1024): string | undefined {
  const end = lineEnd(b, from, max);
  if (end < 0) return undefined;
  const stop = end > from && b[end - 1] === 0x0d ? end - 1 : end;
  return b.toString('latin1', from, stop);
}

/** An IPv6 address in RFC 5952 text form: lower-case hex, the longest run of zero words as "::". */
export function ipv6(b: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i + 1 < Math.min(b.length, 16); i += 2) words.push(b.readUInt16BE(i).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < words.length; ) {
    let j = i;
    while (j < words.length && words[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

/** What a parse of a message prefix says as a probe: parsed is 'match', undefined is 'no'. */
export function parsed(r: unknown): ProbeResult {
  return r === undefined ? 'no' : r === 'need-more' ? 'need-more' : 'match';
}

/** Reads a big-endian unsigned integer of 1 to 4 bytes; -1 when out of range. */
function uint(b: Buffer, at: number, size: number): number {
  if (size < 1 || size > 4 || at < 0 || at + size > b.length) return -1;
  return b.readUIntBE(at, size);
}

/** One BER/DER element header: identifier octet, definite length, and where its content lies. */
export interface Tlv {
  tag: number;
  /** Offset of the content. */
  start: number;
  /** Offset just past the content (may lie beyond the buffer when the input is cut). */
  end: number;
}

/**
 * Reads a BER element header at `at` (single-octet tags only, definite lengths up to 4 octets).
 * Returns 'need-more' when the header itself is cut, undefined when it is malformed.
 */
export function ber(b: Buffer, at: number): Tlv | 'need-more' | undefined {
  const tag = u8(b, at);
  const first = u8(b, at + 1);
  if (tag < 0 || first < 0) return 'need-more';
  if ((tag & 0x1f) === 0x1f) return undefined;
  if (first < 0x80) return { tag, start: at + 2, end: at + 2 + first };
  const n = first & 0x7f;
  if (n === 0 || n > 4) return undefined;
  const len = uint(b, at + 2, n);
  if (len < 0) return 'need-more';
  return { tag, start: at + 2 + n, end: at + 2 + n + len };
}

/** A BER INTEGER's value when it fits in 32 bits and lies inside the buffer; undefined otherwise. */
export function berInt(b: Buffer, t: Tlv): number | undefined {
  const len = t.end - t.start;
  if (t.tag !== 0x02 || len < 1 || len > 4 || t.end > b.length) return undefined;
  return b.readIntBE(t.start, len);
}

/**
 * The three-digit reply code a line-protocol server message starts with ("220 ", "250-", "220\r"),
 * 'need-more' while it may still be one, undefined when it is not.
 */
export function replyCode(b: Buffer): number | 'need-more' | undefined {
  for (let i = 0; i < 4; i++) {
    const c = b[i];
    if (c === undefined) return 'need-more';
    const ok = i < 3 ? c >= 0x30 && c <= 0x39 : c === 0x20 || c === 0x2d || c === 0x0d || c === 0x0a;
    if (!ok) return undefined;
  }
  return Number(b.toString('latin1', 0, 3));
}

/**
 * The command word (2 to 12 letters, upper-cased) a client line starts with, when followed by a
 * space or the line end; 'need-more' while only letters were seen; undefined otherwise.
 */
export function commandOf(b: Buffer, from = 0): string | 'need-more' | undefined {
  for (let i = from; i < from + 13; i++) {
    const c = b[i];
    if (c === undefined) return 'need-more';
    if (isAlpha(c)) continue;
    if (i - from >= 2 && (c === 0x20 || c === 0x0d || c === 0x0a)) return b.toString('latin1', from, i).toUpperCase();
    return undefined;
  }
  return undefined;
}

/** A line protocol's greeting: the server's first bytes and what they say. */
export interface Greeting {
  /** Whether the server's first bytes can open this protocol. */
  fits(s2c: Buffer): ProbeResult;
  /** Commands a client may open with. */
  opening: ReadonlySet<string>;
  /** A greeting line matching this names the protocol, which is enough without the client. */
  names: RegExp;
}

/**
 * Server-first line protocols (FTP, SMTP, POP3): the greeting must fit and the client's first
 * command must be an opening one. Several of them greet alike ("220 ..."), so unless the greeting
 * names its protocol, the client's command decides.
 */
export function greetedSession(data: Buffer, dir: Direction, ctx: ProbeContext, g: Greeting): ProbeResult {
  const s2c = dir === 's2c' ? data : ctx.other;
  const c2s = dir === 'c2s' ? data : ctx.other;
  const fits = s2c.length > 0 ? g.fits(s2c) : 'need-more';
  if (fits === 'no') return 'no';
  const cmd = c2s.length > 0 ? commandOf(c2s) : 'need-more';
  if (cmd === undefined || (cmd !== 'need-more' && !g.opening.has(cmd))) return 'no';
  if (cmd !== 'need-more') return fits;
  return fits === 'match' && g.names.test(line(s2c, 0, 512) ?? '') ? 'match' : 'need-more';
}

/** 'match' when the reply code opening `s2c` is one of `codes`. */
export function replyIs(s2c: Buffer, ...codes: number[]): ProbeResult {
  const code = replyCode(s2c);
  if (code === 'need-more') return code;
  return code !== undefined && codes.includes(code) ? 'match' : 'no';
}
