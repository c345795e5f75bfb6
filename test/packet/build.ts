// Builds frames and capture files byte by byte from the documented header layouts (RFC 791,
// RFC 8200, RFC 9293, RFC 768, RFC 792, the pcap and pcapng specifications), so each test states
// exactly what is on the wire. Checksums are left zero: the decoder does not verify them.

export function ip4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

export function ip6(a: string): Buffer {
  const [head = '', tail] = a.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

export interface Ipv4Opts {
  id?: number;
  /** More-fragments flag. */
  mf?: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  /** IP options, a multiple of 4 bytes. */
  options?: Buffer;
  /** Override the total-length field. */
  totalLength?: number;
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: Ipv4Opts = {}): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const ihl = 20 + opts.length;
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl / 4);
  h.writeUInt16BE(o.totalLength ?? ihl + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE((o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) / 8), 6);
  h[8] = 64;
  h[9] = proto;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  opts.copy(h, 20);
  return Buffer.concat([h, payload]);
}

/** An IPv6 extension header: next-header is filled in by ipv6(). */
export interface Ext {
  type: number;
  body: Buffer;
}

/** Generic extension header (hop-by-hop, routing, destination options) of 8*(n+1) bytes. */
export function optsExt(type: number, len8 = 1): Ext {
  return { type, body: Buffer.alloc(len8 * 8) };
}

export function fragExt(offset: number, more: boolean, id: number): Ext {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(offset | (more ? 1 : 0), 2);
  b.writeUInt32BE(id, 4);
  return { type: 44, body: b };
}

export function ahExt(): Ext {
  // Payload length 4 → (4 + 2) * 4 = 24 bytes.
  const b = Buffer.alloc(24);
  b[1] = 4;
  return { type: 51, body: b };
}

export function ipv6(src: string, dst: string, proto: number, payload: Buffer, exts: Ext[] = []): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i] as Ext;
    const b = Buffer.from(e.body);
    b[0] = i + 1 < exts.length ? (exts[i + 1] as Ext).type : proto;
    if (e.type !== 44 && e.type !== 51) b[1] = b.length / 8 - 1;
    parts.push(b);
  }
  const rest = Buffer.concat([...parts, payload]);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(rest.length, 4);
  h[6] = exts.length > 0 ? (exts[0] as Ext).type : proto;
  h[7] = 64;
  ip6(src).copy(h, 8);
  ip6(dst).copy(h, 24);
  return Buffer.concat([h, rest]);
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer | string = ''): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, Buffer.from(payload)]);
}

export function udp(sport: number, dport: number, payload: Buffer | string = ''): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + p.length, 4);
  return Buffer.concat([h, p]);
}

/** ICMP/ICMPv6: type, code, checksum, then 4 bytes (id + sequence for echo, unused for errors). */
export function icmp(type: number, code: number, word: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  h.writeUInt32BE(word >>> 0, 4);
  return Buffer.concat([h, body]);
}

export function sctp(sport: number, dport: number, chunks: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  return Buffer.concat([h, chunks]);
}

export function sctpData(data: string): Buffer {
  const d = Buffer.from(data);
  const len = 16 + d.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b[0] = 0;
  b.writeUInt16BE(len, 2);
  d.copy(b, 16);
  return b;
}

const MAC_A = Buffer.from('020000000001', 'hex');
const MAC_B = Buffer.from('020000000002', 'hex');

/** Ethernet II; `tags` are [TPID, VLAN id] pairs from the outside in. */
export function ether(ip: Buffer, tags: [number, number][] = []): Buffer {
  const version = (ip[0] ?? 0) >> 4;
  const parts: Buffer[] = [MAC_A, MAC_B];
  for (const [tpid, vid] of tags) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpid, 0);
    t.writeUInt16BE(vid, 2);
    parts.push(t);
  }
  const type = Buffer.alloc(2);
  type.writeUInt16BE(version === 6 ? 0x86dd : 0x0800, 0);
  parts.push(type, ip);
  return Buffer.concat(parts);
}

export interface Rec {
  ts: number;
  data: Buffer;
  origLen?: number;
}

/** Classic pcap: 24-byte header then 16-byte record headers. */
export function pcap(records: Rec[], o: { le?: boolean; nanos?: boolean; linkType?: number } = {}): Buffer {
  const le = o.le ?? true;
  const w32 = (b: Buffer, v: number, at: number): void => {
    if (le) b.writeUInt32LE(v >>> 0, at);
    else b.writeUInt32BE(v >>> 0, at);
  };
  const w16 = (b: Buffer, v: number, at: number): void => {
    if (le) b.writeUInt16LE(v, at);
    else b.writeUInt16BE(v, at);
  };
  const h = Buffer.alloc(24);
  w32(h, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, 262144, 16);
  w32(h, o.linkType ?? 1, 20);
  const parts: Buffer[] = [h];
  for (const r of records) {
    const rh = Buffer.alloc(16);
    const sec = Math.floor(r.ts / 1e6);
    const us = r.ts - sec * 1e6;
    w32(rh, sec, 0);
    w32(rh, o.nanos ? us * 1000 : us, 4);
    w32(rh, r.data.length, 8);
    w32(rh, r.origLen ?? r.data.length, 12);
    parts.push(rh, r.data);
  }
  return Buffer.concat(parts);
}

/** pcapng block writer for one section's byte order. */
export class Pcapng {
  private readonly parts: Buffer[] = [];
  constructor(private le = true) {}

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0, 0);
    else b.writeUInt32BE(v >>> 0, 0);
    return b;
  }

  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v, 0);
    else b.writeUInt16BE(v, 0);
    return b;
  }

  block(type: number, body: Buffer): this {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const len = 12 + padded.length;
    this.parts.push(this.u32(type), this.u32(len), padded, this.u32(len));
    return this;
  }

  section(le = this.le): this {
    this.le = le;
    const body = Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff)]);
    return this.block(0x0a0d0d0a, body);
  }

  /** tsresol as the if_tsresol option byte (6 = microseconds, 9 = nanoseconds, 0x8a = 2^-10). */
  iface(linkType: number, tsresol?: number): this {
    const parts = [this.u16(linkType), this.u16(0), this.u32(0)];
    if (tsresol !== undefined) parts.push(this.u16(9), this.u16(1), Buffer.from([tsresol, 0, 0, 0]));
    parts.push(this.u16(0), this.u16(0));
    return this.block(1, Buffer.concat(parts));
  }

  /** Enhanced packet block; ts in interface units as a bigint. */
  epb(ifId: number, ts: bigint, data: Buffer): this {
    const hi = Number(ts >> 32n);
    const lo = Number(ts & 0xffffffffn);
    return this.block(6, Buffer.concat([this.u32(ifId), this.u32(hi), this.u32(lo), this.u32(data.length), this.u32(data.length), data]));
  }

  spb(data: Buffer): this {
    return this.block(3, Buffer.concat([this.u32(data.length), data]));
  }

  /** Obsolete packet block (type 2): 16-bit interface id and drop count. */
  pb(ifId: number, ts: bigint, data: Buffer): this {
    const hi = Number(ts >> 32n);
    const lo = Number(ts & 0xffffffffn);
    return this.block(2, Buffer.concat([this.u16(ifId), this.u16(0), this.u32(hi), this.u32(lo), this.u32(data.length), this.u32(data.length), data]));
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Splits a buffer into chunks of `size` bytes, as a stream of any chunking would deliver it. */
export async function* chunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}
