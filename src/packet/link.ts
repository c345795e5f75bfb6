// Second stage: strips the link-layer header of a capture record (Ethernet with VLAN tags, Linux
// cooked, BSD loopback, raw IP) and says where the IP packet starts. Everything else on the wire
// (ARP, LLDP, STP, ...) is reported as not IP and counted by the caller.

import { be16, be32 } from './bytes.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_PPPOE = 0x8864;
/** Tags deeper than this are not real traffic. */
const MAX_VLAN_TAGS = 4;

/** Where the network layer starts; filled in place to keep the per-packet path allocation-free. */
export interface LinkInfo {
  /** 4 or 6; 0 when the frame carries no IP. */
  ipVersion: 0 | 4 | 6;
  /** Offset of the IP header in the buffer the frame lies in. */
  offset: number;
  /** Outermost VLAN id, -1 when untagged. */
  vlan: number;
}

export const emptyLink = (): LinkInfo => ({ ipVersion: 0, offset: 0, vlan: -1 });

/**
 * Fills `out` for a frame of the given link type, `data[at, end)` (the whole buffer unless told);
 * returns false when the frame carries no IP.
 */
export function decodeLink(linkType: number, data: Buffer, out: LinkInfo, at = 0, end = data.length): boolean {
  out.ipVersion = 0;
  out.offset = 0;
  out.vlan = -1;
  const length = end - at;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return length >= 14 && etherTypeAt(data, be16(data, at + 12), at + 14, end, out);
    case LINKTYPE_LINUX_SLL:
      return length >= 16 && etherTypeAt(data, be16(data, at + 14), at + 16, end, out);
    case LINKTYPE_LINUX_SLL2:
      return length >= 20 && etherTypeAt(data, be16(data, at), at + 20, end, out);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      return length >= 4 && loopback(data, at, linkType === LINKTYPE_LOOP, out);
    case LINKTYPE_RAW:
      return rawIp(data, at, end, out);
    case LINKTYPE_IPV4:
      return setIp(out, 4, at);
    case LINKTYPE_IPV6:
      return setIp(out, 6, at);
    default:
      return false;
  }
}

function setIp(out: LinkInfo, version: 4 | 6, offset: number): boolean {
  out.ipVersion = version;
  out.offset = offset;
  return true;
}

function rawIp(data: Buffer, offset: number, end: number, out: LinkInfo): boolean {
  if (end <= offset) return false;
  const v = (data[offset] ?? 0) >> 4;
  if (v === 4) return setIp(out, 4, offset);
  if (v === 6) return setIp(out, 6, offset);
  return false;
}

/** The frame's first EtherType is `firstType`, its payload at `payloadAt`; VLAN tags may come first there. */
function etherTypeAt(data: Buffer, firstType: number, payloadAt: number, end: number, out: LinkInfo): boolean {
  let type = firstType;
  let at = payloadAt;
  for (let tags = 0; type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD; tags++) {
    if (tags === MAX_VLAN_TAGS || end < at + 4) return false;
    if (out.vlan < 0) out.vlan = be16(data, at) & 0x0fff;
    type = be16(data, at + 2);
    at += 4;
  }
  if (type === ETH_IPV4) return setIp(out, 4, at);
  if (type === ETH_IPV6) return setIp(out, 6, at);
  if (type === ETH_PPPOE && end >= at + 8) {
    const ppp = be16(data, at + 6);
    if (ppp === 0x0021) return setIp(out, 4, at + 8);
    if (ppp === 0x0057) return setIp(out, 6, at + 8);
  }
  return false;
}

/**
 * BSD loopback: a 4-byte address family in the writer's byte order (LINKTYPE_LOOP: network
 * order). AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (Darwin)
 * and 10 (Linux).
 */
function loopback(data: Buffer, at: number, bigEndian: boolean, out: LinkInfo): boolean {
  let af = bigEndian ? be32(data, at) : data.readUInt32LE(at);
  if (af > 0xffff) af = be32(data, at);
  if (af === 2) return setIp(out, 4, at + 4);
  if (af === 24 || af === 28 || af === 30 || af === 10) return setIp(out, 6, at + 4);
  return false;
}
