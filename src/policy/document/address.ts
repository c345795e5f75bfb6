// Address criteria (`10.0.0.5`, `10.0.0.0/8`, `fd00::/64`, `10.0.0.5-10.0.0.9`) and FQDN
// patterns (`api.example.com`, `*.example.com`) checked where the document is read, so compile
// and the matchers downstream can take them as valid.

import { isIPv4, isIPv6 } from 'node:net';

export type AddressCheck = { ok: true; warning?: string } | { ok: false; message: string };

interface Ip {
  family: 4 | 6;
  value: bigint;
}

function parseIp(text: string): Ip | undefined {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  // A zone (`fe80::1%eth0`) names an interface of one host; it has no meaning in a policy.
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let text6 = text;
  const lastColon = text6.lastIndexOf(':');
  const tail = text6.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIp(tail);
    if (v4 === undefined) return undefined;
    const hi = (v4.value >> 16n).toString(16);
    const lo = (v4.value & 0xffffn).toString(16);
    text6 = `${text6.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head = '', rest] = text6.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const restParts = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headParts.length - restParts.length;
  const groups = rest === undefined ? headParts : [...headParts, ...new Array<string>(missing).fill('0'), ...restParts];
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  return { family: 6, value };
}

function bitsOf(ip: Ip): number {
  return ip.family === 4 ? 32 : 128;
}

/** Checks an IP, a CIDR or an inclusive `a-b` range. A CIDR with host bits set is a warning. */
export function checkAddress(spec: string): AddressCheck {
  const text = spec.trim();
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const first = parseIp(text.slice(0, dash).trim());
    const last = parseIp(text.slice(dash + 1).trim());
    if (first === undefined || last === undefined) return { ok: false, message: `"${spec}" is not an address range (a-b)` };
    if (first.family !== last.family) return { ok: false, message: `range "${spec}" mixes IPv4 and IPv6` };
    if (first.value > last.value) return { ok: false, message: `range "${spec}" runs backwards` };
    return { ok: true };
  }
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const ip = parseIp(text.slice(0, slash));
    const lenText = text.slice(slash + 1);
    if (ip === undefined) return { ok: false, message: `"${text.slice(0, slash)}" in "${spec}" is not an IP address` };
    const bits = bitsOf(ip);
    if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) > bits) {
      return { ok: false, message: `prefix length "/${lenText}" in "${spec}" is outside 0-${bits}` };
    }
    const hostBits = BigInt(bits - Number(lenText));
    if ((ip.value & ((1n << hostBits) - 1n)) !== 0n) {
      return { ok: true, warning: `"${spec}" has host bits set; it covers the whole /${lenText} network` };
    }
    return { ok: true };
  }
  if (parseIp(text) === undefined) return { ok: false, message: `"${spec}" is not an IP address, CIDR or range` };
  return { ok: true };
}

const DNS_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Checks an FQDN pattern and gives its normal form (lower case, no trailing dot), or the reason
 * it is not one. A wildcard is only allowed as the whole first label.
 */
export function normalizeFqdn(pattern: string): { ok: true; pattern: string } | { ok: false; message: string } {
  const text = pattern.trim().toLowerCase().replace(/\.$/, '');
  const labels = text.split('.');
  const wildcard = labels[0] === '*';
  const named = wildcard ? labels.slice(1) : labels;
  if (named.length === 0) {
    return { ok: false, message: `"${pattern}" is not a DNS name or *.suffix` };
  }
  if (text.length > 253 || !named.every((l) => DNS_LABEL.test(l))) {
    const hint = text.includes('*') ? ' (a wildcard is only allowed as "*." at the start)' : '';
    return { ok: false, message: `"${pattern}" is not a DNS name or *.suffix${hint}` };
  }
  return { ok: true, pattern: text };
}
