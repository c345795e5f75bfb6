// Addresses leave the packet path as text (the Flow model carries strings). The canonical forms
// (dotted IPv4, RFC 5952 IPv6) come from model/address; this adapts the wire bytes to it. Called
// once per session, never per packet.

import { formatIpv4, formatIpv6 } from '../model/address.js';
import { be16, be32 } from './bytes.js';

/** Formats 4 or 16 address bytes as they appear in a header; anything else yields an empty string. */
export function formatIp(bytes: Uint8Array): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b.length === 4) return formatIpv4(be32(b, 0));
  if (b.length === 16) return formatIpv6((b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8));
  return '';
}

/** Address texts one session table keeps per family: bounded, because an adversary chooses the addresses. */
const MAX_CACHED = 4096;

/**
 * Address text for new sessions. A capture's sessions share few addresses (a scan: one scanner,
 * thousands of sessions), so each address is formatted once and its text shared. IPv6 is keyed
 * by its eight 16-bit units as a string: much cheaper than formatting through a BigInt.
 */
export class AddressText {
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();
  /** The IPv4 address asked for last and its text: a session's two addresses are asked for in turn. */
  private lastV4 = -1;
  private lastV4Text = '';
  private beforeV4 = -1;
  private beforeV4Text = '';

  of(bytes: Buffer): string {
    if (bytes.length === 16) return this.ofV6(bytes);
    if (bytes.length !== 4) return formatIp(bytes);
    const value = be32(bytes, 0);
    if (value === this.beforeV4) {
      this.beforeV4 = this.lastV4;
      this.lastV4 = value;
      const hit = this.beforeV4Text;
      this.beforeV4Text = this.lastV4Text;
      this.lastV4Text = hit;
      return hit;
    }
    if (value === this.lastV4) return this.lastV4Text;
    const text = this.v4Text(value);
    this.beforeV4 = this.lastV4;
    this.beforeV4Text = this.lastV4Text;
    this.lastV4 = value;
    this.lastV4Text = text;
    return text;
  }

  private v4Text(value: number): string {
    let text = this.v4.get(value);
    if (text === undefined) {
      if (this.v4.size >= MAX_CACHED) this.v4.clear();
      text = formatIpv4(value);
      this.v4.set(value, text);
    }
    return text;
  }

  private ofV6(b: Buffer): string {
    const key = String.fromCharCode(be16(b, 0), be16(b, 2), be16(b, 4), be16(b, 6), be16(b, 8), be16(b, 10), be16(b, 12), be16(b, 14));
    let text = this.v6.get(key);
    if (text === undefined) {
      if (this.v6.size >= MAX_CACHED) this.v6.clear();
      text = formatIp(b);
      this.v6.set(key, text);
    }
    return text;
  }
}
