// Third stage: the IP header (IPv4 options, the IPv6 extension-header chain) and the transport
// header (TCP, UDP, ICMP, ICMPv6, SCTP) of one packet, filled into a reused Packet. Fragments stop
// after the IP layer and come back through the defragmenter before transport decoding.

import { be16, be32 } from './bytes.js';
import { LINKTYPE_ETHERNET, decodeLink, emptyLink, type LinkInfo } from './link.js';

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** Longer extension-header chains are an attack, not traffic. */
const MAX_EXT_HEADERS = 16;

/** Why a packet could not be decoded; counted per reason by the pipeline. */
export type DecodeDrop = 'ip-truncated' | 'ip-bad-header' | 'ip-ext-chain' | 'l4-truncated' | 'l4-bad-header';

/** The flow an ICMP error talks about, from the IP header and first 8 bytes it quotes. */
export interface InnerFlow {
  present: boolean;
  proto: number;
  /** The quoted packet's sender and receiver. */
  src: Buffer;
  dst: Buffer;
  /** 0 when the quoted bytes do not reach the ports. For a quoted ICMP echo: srcPort = id. */
  srcPort: number;
  dstPort: number;
}

export interface Packet {
  ts: number;
  /**
   * The captured frame and its link type, for consumers that keep packet evidence (pcap snippets).
   * The frame is `frameBytes[frameAt, frameEnd)`; `frame` makes a view of it on each read, since
   * most packets are never asked for theirs.
   */
  readonly frame: Buffer;
  frameBytes: Buffer;
  frameAt: number;
  frameEnd: number;
  linkType: number;
  /** Outermost VLAN id, -1 when untagged. */
  vlan: number;
  ipVersion: 4 | 6;
  /**
   * Copied out of the frame into buffers the packet keeps and rewrites for the next packet (a view
   * per address and packet was a large share of the path's garbage): read them during the call.
   */
  src: Buffer;
  dst: Buffer;
  /** The buffers `src` and `dst` are, one pair per address size: captures mix IPv4 and IPv6. */
  readonly src4: Buffer;
  readonly dst4: Buffer;
  readonly src6: Buffer;
  readonly dst6: Buffer;
  /** IP bytes on the wire, headers included (a reassembled datagram: the sum over its fragments). */
  ipBytes: number;
  /** 1, or the number of fragments a reassembled datagram came from. */
  wirePackets: number;
  /** Transport protocol number (after the IPv6 extension chain). */
  proto: number;
  fragment: boolean;
  fragId: number;
  /** Offset of this fragment's data in the datagram, bytes. */
  fragOffset: number;
  moreFragments: boolean;
  /**
   * Bytes after the IP headers (transport header and payload, or a fragment's data):
   * `l4Bytes[l4At, l4End)`, in the frame or in a reassembled datagram. Offsets rather than a view:
   * one allocation fewer per packet.
   */
  l4Bytes: Buffer;
  l4At: number;
  l4End: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  seq: number;
  ack: number;
  icmpType: number;
  icmpCode: number;
  /** Echo identifier; -1 for other ICMP messages. */
  icmpId: number;
  /**
   * Application bytes: TCP segment data, UDP datagram, ICMP body, SCTP chunks, or what follows the
   * IP headers of another protocol: `l4Bytes[payloadAt, payloadEnd)`. `payload` makes a view of
   * them on each read, since only delivered payload needs one (not an ICMP or ESP packet's).
   */
  readonly payload: Buffer;
  payloadAt: number;
  payloadEnd: number;
  /** Set for ICMP and ICMPv6 error messages that quote a packet. */
  inner: InnerFlow;
}

const EMPTY = Buffer.alloc(0);

/** A class rather than a literal: V8 keeps an object literal with a getter in slow (dictionary) mode. */
class PacketFields implements Packet {
  ts = 0;
  frameBytes = EMPTY;
  frameAt = 0;
  frameEnd = 0;
  linkType = 0;
  vlan = -1;
  ipVersion: 4 | 6 = 4;
  src = EMPTY;
  dst = EMPTY;
  readonly src4 = Buffer.alloc(4);
  readonly dst4 = Buffer.alloc(4);
  readonly src6 = Buffer.alloc(16);
  readonly dst6 = Buffer.alloc(16);
  ipBytes = 0;
  wirePackets = 1;
  proto = 0;
  fragment = false;
  fragId = 0;
  fragOffset = 0;
  moreFragments = false;
  l4Bytes = EMPTY;
  l4At = 0;
  l4End = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  icmpType = 0;
  icmpCode = 0;
  icmpId = -1;
  payloadAt = 0;
  payloadEnd = 0;
  inner: InnerFlow = { present: false, proto: 0, src: EMPTY, dst: EMPTY, srcPort: 0, dstPort: 0 };

  get frame(): Buffer {
    return this.frameBytes.subarray(this.frameAt, this.frameEnd);
  }

  get payload(): Buffer {
    return this.payloadEnd === this.payloadAt ? EMPTY : this.l4Bytes.subarray(this.payloadAt, this.payloadEnd);
  }
}

export function emptyPacket(): Packet {
  return new PacketFields();
}

/** Result of walking an IPv6 extension chain; module scratch because decoding is synchronous. */
interface ExtWalk {
  proto: number;
  off: number;
  fragment: boolean;
  fragOffset: number;
  more: boolean;
  id: number;
}
const walk: ExtWalk = { proto: 0, off: 0, fragment: false, fragOffset: 0, more: false, id: 0 };

/**
 * Walks IPv6 extension headers starting with `next` at `off`. Stops at a transport header, ESP,
 * no-next-header, or a fragment header (what follows a fragment header is fragment data).
 */
export function walkIpv6Extensions(buf: Buffer, next: number, off: number, end: number): ExtWalk | DecodeDrop {
  walk.fragment = false;
  walk.more = false;
  walk.fragOffset = 0;
  walk.id = 0;
  let proto = next;
  let at = off;
  for (let n = 0; ; n++) {
    if (n > MAX_EXT_HEADERS) return 'ip-ext-chain';
    let len: number;
    switch (proto) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS:
      case 135: // mobility
      case 139: // HIP
      case 140: // shim6
        if (end - at < 8) return 'ip-truncated';
        len = ((buf[at + 1] ?? 0) + 1) * 8;
        break;
      case IPPROTO_AH:
        if (end - at < 8) return 'ip-truncated';
        len = ((buf[at + 1] ?? 0) + 2) * 4;
        break;
      case IPPROTO_FRAGMENT: {
        if (end - at < 8) return 'ip-truncated';
        const field = be16(buf, at + 2);
        const fragOffset = field & 0xfff8;
        const more = (field & 1) === 1;
        const nextProto = buf[at] ?? IPPROTO_NONE;
        at += 8;
        // An atomic fragment (offset 0, no more) is a whole datagram: keep walking.
        if (fragOffset === 0 && !more) {
          proto = nextProto;
          continue;
        }
        walk.fragment = true;
        walk.fragOffset = fragOffset;
        walk.more = more;
        walk.id = be32(buf, at - 4);
        walk.proto = nextProto;
        walk.off = at;
        return walk;
      }
      default:
        walk.proto = proto;
        walk.off = at;
        return walk;
    }
    if (end - at < len) return 'ip-truncated';
    proto = buf[at] ?? IPPROTO_NONE;
    at += len;
  }
}

/** Copies the address at `at` into `into` (of the address's size). */
function address(data: Buffer, at: number, into: Buffer): Buffer {
  for (let i = 0; i < into.length; i++) into[i] = data[at + i] as number;
  return into;
}

/** The IPv4 case of address(), unrolled: it runs twice for nearly every packet. */
function address4(data: Buffer, at: number, into: Buffer): Buffer {
  into[0] = data[at] as number;
  into[1] = data[at + 1] as number;
  into[2] = data[at + 2] as number;
  into[3] = data[at + 3] as number;
  return into;
}

function setL4(pkt: Packet, bytes: Buffer, at: number, end: number): void {
  pkt.l4Bytes = bytes;
  pkt.l4At = at;
  pkt.l4End = end;
}

/** The packet's l4 bytes as a view of their own. */
export function l4Of(pkt: Packet): Buffer {
  return pkt.l4Bytes.subarray(pkt.l4At, pkt.l4End);
}

/** Decodes the IP header at `off` (version from the link layer; the frame ends at `frameEnd`) into `pkt`. */
export function decodeIp(data: Buffer, version: 4 | 6, off: number, pkt: Packet, frameEnd = data.length): DecodeDrop | null {
  pkt.fragment = false;
  pkt.moreFragments = false;
  pkt.fragOffset = 0;
  pkt.fragId = 0;
  pkt.wirePackets = 1;
  const avail = frameEnd - off;
  if (version === 4) {
    if (avail < 20) return 'ip-truncated';
    const b0 = data[off] ?? 0;
    if (b0 >> 4 !== 4) return 'ip-bad-header';
    const ihl = (b0 & 15) * 4;
    if (ihl < 20) return 'ip-bad-header';
    if (avail < ihl) return 'ip-truncated';
    const total = be16(data, off + 2);
    // A total length of 0 comes from segmentation offload on the capturing host.
    const wire = total === 0 ? avail : total;
    if (wire < ihl) return 'ip-bad-header';
    const end = off + Math.min(wire, avail);
    const ff = be16(data, off + 6);
    pkt.ipVersion = 4;
    pkt.src = address4(data, off + 12, pkt.src4);
    pkt.dst = address4(data, off + 16, pkt.dst4);
    pkt.proto = data[off + 9] ?? 0;
    pkt.ipBytes = wire;
    setL4(pkt, data, off + ihl, end);
    if ((ff & 0x3fff) !== 0) {
      pkt.fragment = true;
      pkt.moreFragments = (ff & 0x2000) !== 0;
      pkt.fragOffset = (ff & 0x1fff) * 8;
      pkt.fragId = be16(data, off + 4);
    }
    return null;
  }
  if (avail < 40) return 'ip-truncated';
  if ((data[off] ?? 0) >> 4 !== 6) return 'ip-bad-header';
  const plen = be16(data, off + 4);
  const wire = plen === 0 ? avail : 40 + plen;
  const end = off + Math.min(wire, avail);
  const w = walkIpv6Extensions(data, data[off + 6] ?? IPPROTO_NONE, off + 40, end);
  if (typeof w === 'string') return w;
  pkt.ipVersion = 6;
  pkt.src = address(data, off + 8, pkt.src6);
  pkt.dst = address(data, off + 24, pkt.dst6);
  pkt.proto = w.proto;
  pkt.ipBytes = wire;
  setL4(pkt, data, w.off, end);
  if (w.fragment) {
    pkt.fragment = true;
    pkt.moreFragments = w.more;
    pkt.fragOffset = w.fragOffset;
    pkt.fragId = w.id;
  }
  return null;
}

function isIcmpError(version: 4 | 6, type: number): boolean {
  if (version === 4) return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
  return type >= 1 && type <= 4;
}

/** Decodes the transport header of the packet's l4 bytes (a whole datagram, never a fragment). */
export function decodeTransport(pkt: Packet): DecodeDrop | null {
  const b = pkt.l4Bytes;
  const at = pkt.l4At;
  const end = pkt.l4End;
  const length = end - at;
  pkt.srcPort = 0;
  pkt.dstPort = 0;
  pkt.tcpFlags = 0;
  pkt.icmpId = -1;
  pkt.inner.present = false;
  pkt.payloadAt = at;
  pkt.payloadEnd = at;
  switch (pkt.proto) {
    case IPPROTO_TCP: {
      if (length < 20) return 'l4-truncated';
      const doff = ((b[at + 12] ?? 0) >> 4) * 4;
      if (doff < 20) return 'l4-bad-header';
      if (doff > length) return 'l4-truncated';
      pkt.srcPort = be16(b, at);
      pkt.dstPort = be16(b, at + 2);
      pkt.seq = be32(b, at + 4);
      pkt.ack = be32(b, at + 8);
      pkt.tcpFlags = b[at + 13] ?? 0;
      pkt.payloadAt = at + doff;
      pkt.payloadEnd = end;
      return null;
    }
    case IPPROTO_UDP: {
      if (length < 8) return 'l4-truncated';
      pkt.srcPort = be16(b, at);
      pkt.dstPort = be16(b, at + 2);
      const ulen = be16(b, at + 4);
      // Trailing bytes beyond the UDP length are link padding; a length of 0 means a jumbogram.
      pkt.payloadAt = at + 8;
      pkt.payloadEnd = ulen >= 8 && ulen <= length ? at + ulen : end;
      return null;
    }
    case IPPROTO_SCTP:
      if (length < 12) return 'l4-truncated';
      pkt.srcPort = be16(b, at);
      pkt.dstPort = be16(b, at + 2);
      pkt.payloadAt = at + 12;
      pkt.payloadEnd = end;
      return null;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      if (length < 4) return 'l4-truncated';
      const v6 = pkt.proto === IPPROTO_ICMPV6;
      const type = b[at] ?? 0;
      pkt.icmpType = type;
      pkt.icmpCode = b[at + 1] ?? 0;
      if (length > 8) {
        pkt.payloadAt = at + 8;
        pkt.payloadEnd = end;
      }
      const echo = v6 ? type === 128 || type === 129 : type === 0 || type === 8;
      if (echo && length >= 8) pkt.icmpId = be16(b, at + 4);
      else if (isIcmpError(pkt.ipVersion, type) && length > 8) decodeInner(pkt.payload, v6 ? 6 : 4, pkt.inner);
      return null;
    }
    default:
      pkt.payloadEnd = end;
      return null;
  }
}

/** Reads the quoted IP header and its first 8 transport bytes; leaves `present` false if unreadable. */
function decodeInner(buf: Buffer, version: 4 | 6, inner: InnerFlow): void {
  let l4At: number;
  if (version === 4) {
    if (buf.length < 20 || (buf[0] ?? 0) >> 4 !== 4) return;
    const ihl = ((buf[0] ?? 0) & 15) * 4;
    if (ihl < 20 || buf.length < ihl) return;
    inner.proto = buf[9] ?? 0;
    inner.src = buf.subarray(12, 16);
    inner.dst = buf.subarray(16, 20);
    // A non-first fragment quotes no transport header.
    l4At = (be16(buf, 6) & 0x1fff) === 0 ? ihl : -1;
  } else {
    if (buf.length < 40 || (buf[0] ?? 0) >> 4 !== 6) return;
    const w = walkIpv6Extensions(buf, buf[6] ?? IPPROTO_NONE, 40, buf.length);
    if (typeof w === 'string') return;
    inner.proto = w.proto;
    inner.src = buf.subarray(8, 24);
    inner.dst = buf.subarray(24, 40);
    l4At = w.fragment && w.fragOffset !== 0 ? -1 : w.off;
  }
  inner.srcPort = 0;
  inner.dstPort = 0;
  if (l4At >= 0 && buf.length >= l4At + 8) {
    const p = inner.proto;
    if (p === IPPROTO_TCP || p === IPPROTO_UDP || p === IPPROTO_SCTP) {
      inner.srcPort = be16(buf, l4At);
      inner.dstPort = be16(buf, l4At + 2);
    } else if (p === IPPROTO_ICMP || p === IPPROTO_ICMPV6) {
      inner.srcPort = be16(buf, l4At + 4);
      inner.dstPort = buf[l4At] ?? 0;
    }
  }
  inner.present = true;
}

/**
 * Decodes one whole frame without defragmentation: link, IP and transport. A convenience for
 * tools and tests; the pipeline runs the stages itself so fragments can be reassembled between them.
 */
export function decodeFrame(data: Buffer, linkType = LINKTYPE_ETHERNET, ts = 0): Packet | DecodeDrop | 'not-ip' {
  const link: LinkInfo = emptyLink();
  if (!decodeLink(linkType, data, link) || link.ipVersion === 0) return 'not-ip';
  const pkt = emptyPacket();
  pkt.ts = ts;
  pkt.frameBytes = data;
  pkt.frameAt = 0;
  pkt.frameEnd = data.length;
  pkt.linkType = linkType;
  pkt.vlan = link.vlan;
  const ip = decodeIp(data, link.ipVersion, link.offset, pkt);
  if (ip !== null) return ip;
  if (pkt.fragment) return pkt;
  const t = decodeTransport(pkt);
  return t ?? pkt;
}
