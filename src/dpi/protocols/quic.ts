// QUIC (RFC 9000 invariants and long header, RFC 9001 Initial protection, RFC 9369 for v2):
// a long-header packet of a known version. The extractor removes the Initial packet protection,
// whose keys derive from the client's Destination Connection ID alone, and reads the TLS
// ClientHello from the CRYPTO frames: SNI and ALPN.

import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { parsed, u8, u32 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { addHello, parseHello } from './tls.js';

const V1 = 0x00000001;
const V2 = 0x6b3343cf;
const DRAFT29 = 0xff00001d;

/** Initial salts: RFC 9001 section 5.2, RFC 9369 section 3.3.1, and section 5.2 of the drafts. */
const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');
const SALT_DRAFT29 = Buffer.from('afbfec289993d24c9e9786f19c6111e04390a899', 'hex');
const SALT_DRAFT23 = Buffer.from('c3eef712c72ebb5a11a7d2432bb46365bef9f502', 'hex');

function saltOf(v: number): Buffer | undefined {
  if (v === V1) return SALT_V1;
  if (v === V2) return SALT_V2;
  // Drafts 29 to 32 share one salt, drafts 23 to 28 the one before it.
  if (v >= DRAFT29 && v <= 0xff000020) return SALT_DRAFT29;
  if (v >= 0xff000017 && v < DRAFT29) return SALT_DRAFT23;
  return undefined;
}

function versionName(v: number): string {
  if (v === V1) return '1';
  if (v === V2) return '2';
  if (v >>> 8 === 0xff0000) return `draft-${v & 0xff}`;
  return `0x${v.toString(16).padStart(8, '0')}`;
}

/** IETF versions and drafts, plus Google QUIC's Q0xx/T0xx, which share the invariant long header. */
function knownVersion(v: number): boolean {
  return v === V1 || v === V2 || v >>> 8 === 0xff0000 || v >>> 16 === 0x5130 || v >>> 16 === 0x5430;
}

/** Variable-length integer (RFC 9000 section 16), up to 2^53 in a JS number. */
function varint(b: Buffer, at: number): { value: number; next: number } | undefined {
  const first = u8(b, at);
  if (first < 0) return undefined;
  const len = 1 << (first >> 6);
  if (at + len > b.length) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < len; i++) value = value * 256 + (b[at + i] as number);
  return { value, next: at + len };
}

/** The first bytes of a long header: the top bit set. */
const LONG_HEADER_FIRST = Array.from({ length: 128 }, (_, i) => 0x80 | i);

interface LongHeader {
  version: number;
  /** Initial packet of a version whose protection we know. */
  initial: boolean;
  dcid: Buffer;
  /** Offset of the (protected) packet number and the length of packet number plus payload. */
  pnOffset: number;
  length: number;
}

function longHeader(b: Buffer): LongHeader | 'need-more' | undefined {
  const first = u8(b, 0);
  // A clear first bit is a short header (or not QUIC): no more bytes would make it a long one.
  if (first >= 0 && (first & 0x80) === 0) return undefined;
  if (b.length < 7) return 'need-more';
  const version = u32(b, 1);
  const dcidLen = u8(b, 5);
  if (dcidLen > 20) return undefined;
  const scidLen = u8(b, 6 + dcidLen);
  if (scidLen < 0) return 'need-more';
  if (scidLen > 20) return undefined;
  const dcid = b.subarray(6, 6 + dcidLen);
  let at = 7 + dcidLen + scidLen;
  if (at > b.length) return 'need-more';
  if (version === 0) {
    // Version Negotiation: the rest is a list of 32-bit versions.
    const rest = b.length - at;
    return rest >= 4 && rest % 4 === 0 ? { version, initial: false, dcid, pnOffset: at, length: rest } : undefined;
  }
  if (!knownVersion(version) || (first & 0x40) === 0) return undefined;
  const type = (first >> 4) & 3;
  const initial = saltOf(version) !== undefined && type === (version === V2 ? 1 : 0);
  const retry = type === (version === V2 ? 0 : 3);
  if (retry || saltOf(version) === undefined) return { version, initial: false, dcid, pnOffset: at, length: b.length - at };
  if (initial) {
    const token = varint(b, at);
    if (token === undefined) return 'need-more';
    at = token.next + token.value;
  }
  const length = varint(b, at);
  if (length === undefined) return 'need-more';
  if (length.next + length.value > b.length || length.value < 20) return undefined;
  return { version, initial, dcid, pnOffset: length.next, length: length.value };
}

function probe(data: Buffer): ProbeResult {
  return parsed(longHeader(data));
}

/** HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for outputs of one SHA-256 block. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0, 1])]);
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** The client's Initial packet protection keys for a version with a known salt (RFC 9001 section 5.2). */
export function initialKeys(version: number, dcid: Buffer): { key: Buffer; iv: Buffer; hp: Buffer } | undefined {
  const salt = saltOf(version);
  if (salt === undefined) return undefined;
  const v2 = version === V2;
  const initialSecret = createHmac('sha256', salt).update(dcid).digest();
  const secret = expandLabel(initialSecret, 'client in', 32);
  return {
    key: expandLabel(secret, v2 ? 'quicv2 key' : 'quic key', 16),
    iv: expandLabel(secret, v2 ? 'quicv2 iv' : 'quic iv', 12),
    hp: expandLabel(secret, v2 ? 'quicv2 hp' : 'quic hp', 16),
  };
}

/** The client Initial's plaintext payload (frames), or undefined when it does not decrypt. */
function openClientInitial(packet: Buffer, h: LongHeader): Buffer | undefined {
  const keys = initialKeys(h.version, h.dcid);
  if (keys === undefined) return undefined;
  const { key, iv, hp } = keys;
  const sample = packet.subarray(h.pnOffset + 4, h.pnOffset + 20);
  if (sample.length < 16) return undefined;
  const mask = createCipheriv('aes-128-ecb', hp, null).update(sample);
  const first = (packet[0] as number) ^ ((mask[0] as number) & 0x0f);
  const pnLen = (first & 3) + 1;
  const header = Buffer.from(packet.subarray(0, h.pnOffset + pnLen));
  header[0] = first;
  const nonce = Buffer.from(iv);
  for (let i = 0; i < pnLen; i++) {
    const pnByte = (header[h.pnOffset + i] as number) ^ (mask[1 + i] as number);
    header[h.pnOffset + i] = pnByte;
    nonce[12 - pnLen + i] = (nonce[12 - pnLen + i] as number) ^ pnByte;
  }
  const end = h.pnOffset + h.length;
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAAD(header);
  decipher.setAuthTag(packet.subarray(end - 16, end));
  try {
    return Buffer.concat([decipher.update(packet.subarray(h.pnOffset + pnLen, end - 16)), decipher.final()]);
  } catch {
    // Authentication failed: not a client Initial of this connection (or not QUIC at all).
    return undefined;
  }
}

/** CRYPTO data kept for the ClientHello: bounded, since a client could send endless Initials. */
const MAX_CRYPTO = 4096;

/**
 * A ClientHello with post-quantum key shares spans two or more Initial packets, so the pieces seen
 * so far ride along on the session's metadata under a symbol key: non-enumerable, it never shows
 * in the flow record, and it is dropped once the hello is read.
 */
const PIECES = Symbol('quic crypto pieces');
type Pieces = Array<[number, Buffer]>;

function piecesOf(meta: FlowMeta): Pieces {
  const held = (meta as Record<symbol, Pieces | undefined>)[PIECES];
  if (held !== undefined) return held;
  const fresh: Pieces = [];
  Object.defineProperty(meta, PIECES, { value: fresh, enumerable: false, configurable: true });
  return fresh;
}

/** Adds the CRYPTO frames of a decrypted Initial to `pieces`; PADDING, PING and ACK are skipped. */
function collectCrypto(frames: Buffer, pieces: Pieces): void {
  let held = pieces.reduce((n, [, d]) => n + d.length, 0);
  for (let at = 0, count = 0; at < frames.length && count < 64; count++) {
    // Runs of PADDING (0x00) and PING (0x01) are one byte each: skip them without counting.
    while (at < frames.length && (frames[at] as number) <= 0x01) at++;
    if (at >= frames.length) return;
    const type = frames[at] as number;
    if (type === 0x02 || type === 0x03) {
      // ACK: largest, delay, range count, first range, then (gap, range) pairs, then ECN counts.
      let f = varint(frames, at + 1);
      for (let i = 0; i < 2 && f !== undefined; i++) f = varint(frames, f.next);
      const ranges = f?.value ?? 0;
      if (f === undefined || ranges > 64) return;
      for (let i = 0; i < 1 + 2 * ranges + (type === 0x03 ? 3 : 0) && f !== undefined; i++) f = varint(frames, f.next);
      if (f === undefined) return;
      at = f.next;
      continue;
    }
    if (type !== 0x06) return;
    const off = varint(frames, at + 1);
    const len = off && varint(frames, off.next);
    if (off === undefined || len === undefined || len.next + len.value > frames.length) return;
    if (off.value < MAX_CRYPTO && held + len.value <= 2 * MAX_CRYPTO) {
      pieces.push([off.value, frames.subarray(len.next, len.next + len.value)]);
      held += len.value;
    }
    at = len.next + len.value;
  }
}

/** The CRYPTO stream bytes contiguous from offset 0: pieces may arrive in any order. */
function cryptoPrefix(pieces: Pieces): Buffer {
  const out = Buffer.alloc(MAX_CRYPTO);
  let filled = 0;
  for (const [off, data] of [...pieces].sort((a, b) => a[0] - b[0])) {
    if (off > filled) break;
    const n = data.copy(out, off, 0, Math.min(data.length, MAX_CRYPTO - off));
    filled = Math.max(filled, off + n);
  }
  return out.subarray(0, filled);
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const h = longHeader(data);
  if (h === undefined || h === 'need-more') return false;
  meta.quicVersion = versionName(h.version);
  if (dir !== 'c2s' || !h.initial) return dir === 'c2s' && h.version !== 0;
  const frames = openClientInitial(data, h);
  if (frames === undefined) return true;
  const pieces = piecesOf(meta);
  collectCrypto(frames, pieces);
  const hello = parseHello(cryptoPrefix(pieces));
  if (hello !== undefined) {
    addHello(hello, meta);
    meta.tlsVersion = 'TLSv1.3';
  }
  if (hello?.complete !== true && pieces.length < 64) return true;
  delete (meta as Record<symbol, unknown>)[PIECES];
  return false;
}

export const quic: ProtocolModule = {
  name: 'QUIC',
  transports: ['udp'],
  ports: [443, 784, 853, 8443],
  firstBytes: { c2s: LONG_HEADER_FIRST, s2c: LONG_HEADER_FIRST },
  probe,
  extract,
};
