// TLS (RFC 8446, RFC 5246 for the record layer and hello messages, RFC 6066 SNI, RFC 7301 ALPN):
// a handshake record carrying a ClientHello (client) or ServerHello (server), plus the SSLv2
// compatible ClientHello and, for captures begun mid-session, a run of well-formed records. The extractor reads SNI, ALPN, the negotiated version and the cipher.
// QUIC reuses parseHello on the handshake bytes of its CRYPTO frames.

import { u16, u24, u8 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const HANDSHAKE = 0x16;
/** Record content types (RFC 8446 section 5.1): change_cipher_spec 20 to heartbeat 24. */
const FIRST_CONTENT_TYPE = 20;
const LAST_CONTENT_TYPE = 24;
/** A record's first byte, or (from a client) an SSL 2.0 hello's length with the top bit set. */
const RECORD_FIRST = Array.from({ length: LAST_CONTENT_TYPE - FIRST_CONTENT_TYPE + 1 }, (_, i) => FIRST_CONTENT_TYPE + i);
const SSL2_FIRST = Array.from({ length: 128 }, (_, i) => 0x80 | i);
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;
/** Largest TLSCiphertext fragment (RFC 8446 section 5.2). */
const MAX_RECORD = 16384 + 256;

const VERSIONS: Record<number, string> = {
  0x0300: 'SSLv3', 0x0301: 'TLSv1.0', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3',
};

/** IANA names of the suites seen in practice; others are shown in hex. */
const CIPHERS: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  0xc009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  0xc00a: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  0xc027: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  0xc028: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  0x009c: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  0x009d: 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  0x009e: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
  0x009f: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
  0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
  0x003c: 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  0x000a: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  0x0005: 'TLS_RSA_WITH_RC4_128_SHA',
};

export function versionName(v: number): string {
  return VERSIONS[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

export function cipherName(c: number): string {
  return CIPHERS[c] ?? `0x${c.toString(16).padStart(4, '0')}`;
}

/** GREASE values (RFC 8701) are placeholders, never real versions or protocols. */
const isGrease = (v: number): boolean => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);

export interface Hello {
  type: typeof CLIENT_HELLO | typeof SERVER_HELLO;
  /** legacy_version, or the supported_versions choice/maximum. */
  version: number;
  sni?: string;
  alpn?: string[];
  /** Server: the chosen cipher suite. */
  cipher?: number;
  /** The whole message was available (not cut by the prefix). */
  complete: boolean;
}

/**
 * Parses a ClientHello or ServerHello handshake message starting at its type byte. Whatever lies
 * within `b` is read, so a message cut short still yields the fields before the cut.
 */
export function parseHello(b: Buffer): Hello | undefined {
  const type = u8(b, 0);
  const len = u24(b, 1);
  const legacy = u16(b, 4);
  if ((type !== CLIENT_HELLO && type !== SERVER_HELLO) || len < 38 || legacy >> 8 !== 3) return undefined;
  const end = Math.min(b.length, 4 + len);
  const hello: Hello = { type, version: legacy, complete: b.length >= 4 + len };
  let at = 38;
  const sid = u8(b, at);
  if (sid < 0 || sid > 32) return hello;
  at += 1 + sid;
  if (type === CLIENT_HELLO) {
    const suites = u16(b, at);
    if (suites < 0) return hello;
    at += 2 + suites;
    const comp = u8(b, at);
    if (comp < 0) return hello;
    at += 1 + comp;
  } else {
    const cipher = u16(b, at);
    if (cipher < 0) return hello;
    hello.cipher = cipher;
    at += 3;
  }
  const extEnd = Math.min(end, at + 2 + Math.max(0, u16(b, at)));
  at += 2;
  while (at + 4 <= extEnd) {
    const t = u16(b, at);
    const l = u16(b, at + 2);
    const start = at + 4;
    at = start + l;
    if (at > extEnd) break;
    readExtension(b.subarray(start, at), t, hello);
  }
  return hello;
}

function readExtension(e: Buffer, type: number, hello: Hello): void {
  if (type === 0 && hello.type === CLIENT_HELLO) {
    // server_name: list length, then entries of name_type(1) length(2) name; host_name is type 0.
    for (let at = 2; at + 3 <= e.length; ) {
      const n = u16(e, at + 1);
      if (n < 0 || at + 3 + n > e.length) break;
      if (e[at] === 0) {
        hello.sni = e.toString('latin1', at + 3, at + 3 + n);
        break;
      }
      at += 3 + n;
    }
  } else if (type === 16) {
    const list: string[] = [];
    for (let at = 2; at < e.length && list.length < 16; ) {
      const n = u8(e, at);
      if (n <= 0 || at + 1 + n > e.length) break;
      list.push(e.toString('latin1', at + 1, at + 1 + n));
      at += 1 + n;
    }
    if (list.length > 0) hello.alpn = list;
  } else if (type === 43) {
    if (hello.type === SERVER_HELLO) {
      if (e.length >= 2) hello.version = u16(e, 0);
      return;
    }
    let best = -1;
    for (let at = 1; at + 2 <= Math.min(e.length, 1 + (e[0] ?? 0)); at += 2) {
      const v = u16(e, at);
      if (!isGrease(v) && v > best) best = v;
    }
    if (best >= 0) hello.version = best;
  }
}

/**
 * The handshake bytes carried by the leading handshake records of a stream prefix, joined when a
 * message spans records. 'no' when the stream does not start with a handshake record.
 */
export function handshakeBytes(b: Buffer): Buffer | 'no' | 'need-more' {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 5 <= b.length && parts.length < 16) {
    const len = u16(b, at + 3);
    if (b[at] !== HANDSHAKE || b[at + 1] !== 3 || (b[at + 2] as number) > 4 || len === 0 || len > MAX_RECORD) break;
    parts.push(b.subarray(at + 5, Math.min(b.length, at + 5 + len)));
    at += 5 + len;
  }
  if (parts.length === 0) return b.length < 5 && (b.length < 1 || b[0] === HANDSHAKE) ? 'need-more' : 'no';
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** The SSLv2-compatible ClientHello (RFC 5246 appendix E.2) some old clients still send. */
function probeSsl2Hello(b: Buffer): ProbeResult {
  if (b.length < 11) return 'need-more';
  const len = u16(b, 0) & 0x7fff;
  const version = u16(b, 3);
  const specs = u16(b, 5);
  const sid = u16(b, 7);
  const challenge = u16(b, 9);
  const ok =
    b[2] === CLIENT_HELLO && (version === 0x0002 || (version >= 0x0300 && version <= 0x0303)) &&
    specs > 0 && specs % 3 === 0 && (sid === 0 || sid === 16) && challenge >= 16 && challenge <= 32 &&
    len === 9 + specs + sid + challenge;
  return ok ? 'match' : 'no';
}

/**
 * A capture that starts after the handshake still begins at a record boundary when the tap began
 * between segments: two consecutive well-formed records (RFC 8446 section 5.1: content type 20-24,
 * legacy version 3.x, length within bounds) are then evidence enough.
 */
function isContentType(type: number): boolean {
  return type >= FIRST_CONTENT_TYPE && type <= LAST_CONTENT_TYPE;
}

function probeRecords(b: Buffer): ProbeResult {
  let at = 0;
  for (let records = 0; records < 2; records++) {
    if (at + 5 > b.length) return at < b.length && !isContentType(b[at] as number) ? 'no' : 'need-more';
    const type = b[at] as number;
    const len = u16(b, at + 3);
    if (!isContentType(type) || b[at + 1] !== 3 || (b[at + 2] as number) > 4 || len === 0 || len > MAX_RECORD) return 'no';
    at += 5 + len;
  }
  return 'match';
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  const first = u8(data, 0);
  if (first < 0) return 'need-more';
  if (first & 0x80 && dir === 'c2s') return probeSsl2Hello(data);
  if (first !== HANDSHAKE) return probeRecords(data);
  const hs = handshakeBytes(data);
  if (typeof hs === 'string') return hs;
  // Either hello in either direction: the hello type names the sender, while the session table
  // only guesses roles for captures begun mid-connection.
  const hello = hs[0] === CLIENT_HELLO || hs[0] === SERVER_HELLO;
  if (hs.length < 6) return hs.length === 0 || hello ? 'need-more' : 'no';
  return hello && u24(hs, 1) >= 38 && hs[4] === 3 && (hs[5] as number) <= 4 ? 'match' : 'no';
}

/** Adds what a hello carries to the flow's metadata. */
export function addHello(hello: Hello, meta: FlowMeta): void {
  if (hello.sni !== undefined) meta.sni = hello.sni;
  if (hello.type === CLIENT_HELLO) {
    if (hello.alpn !== undefined) meta.alpn = hello.alpn;
    // Until the server answers, the best the client offers; read only once supported_versions was seen.
    if (hello.complete) meta.tlsVersion ??= versionName(hello.version);
    return;
  }
  // The server decides: its version and cipher replace the client's offer.
  meta.tlsVersion = versionName(hello.version);
  if (hello.cipher !== undefined) meta.tlsCipher = cipherName(hello.cipher);
  if (meta.alpn === undefined && hello.alpn !== undefined) meta.alpn = hello.alpn;
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const hs = handshakeBytes(data);
  if (typeof hs === 'string') return hs === 'need-more';
  const hello = parseHello(hs);
  if (hello === undefined) return false;
  addHello(hello, meta);
  return !hello.complete;
}

export const tls: ProtocolModule = {
  name: 'TLS',
  aliases: ['SSL'],
  transports: ['tcp'],
  ports: [443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 8443],
  firstBytes: { c2s: [...RECORD_FIRST, ...SSL2_FIRST], s2c: RECORD_FIRST },
  probe,
  extract,
};
