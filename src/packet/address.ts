// Addresses leave the packet path as text (the Flow model carries strings). The canonical forms
// (dotted IPv4, RFC 5952 IPv6) come from model/address; this adapts the wire bytes to it. Called
// once per session, never per packet.

import { formatIpv4, formatIpv6 } from '../model/address.js';
import { be32 } from './bytes.js';

/** Formats 4 or 16 address bytes as they appear in a header; anything else yields an empty string. */
export function formatIp(bytes: Uint8Array): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b.length === 4) return formatIpv4(be32(b, 0));
  if (b.length === 16) return formatIpv6((b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8));
  return '';
}
