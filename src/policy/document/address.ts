// Address criteria (`10.0.0.5`, `10.0.0.0/8`, `fd00::/64`, `10.0.0.5-10.0.0.9`) and FQDN
// patterns (`api.example.com`, `*.example.com`) checked where the document is read, so compile
// and the matchers downstream can take them as valid. The address arithmetic is model/address.ts.

import { parseAddressSpec, parseIp } from '../../model/address.js';

export type AddressCheck = { ok: true; warning?: string } | { ok: false; message: string };

/**
 * Checks an IP, a CIDR or an inclusive `a-b` range with the same parser compile uses, so what
 * loads here always compiles. A CIDR with host bits set is a warning; failures say what is wrong.
 */
export function checkAddress(spec: string): AddressCheck {
  const text = spec.trim();
  const slash = text.indexOf('/');
  const range = parseAddressSpec(text);
  if (range !== undefined) {
    const base = slash < 0 ? undefined : parseIp(text.slice(0, slash));
    if (base !== undefined && BigInt(base.value) !== BigInt(range.first)) {
      return { ok: true, warning: `"${spec}" has host bits set; it covers the whole ${text.slice(slash)} network` };
    }
    return { ok: true };
  }
  if (slash >= 0) {
    const ip = parseIp(text.slice(0, slash));
    if (ip === undefined) return { ok: false, message: `"${text.slice(0, slash)}" in "${spec}" is not an IP address` };
    return { ok: false, message: `prefix length "${text.slice(slash)}" in "${spec}" is outside 0-${ip.version === 4 ? 32 : 128}` };
  }
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const first = parseIp(text.slice(0, dash).trim());
    const last = parseIp(text.slice(dash + 1).trim());
    if (first === undefined || last === undefined) return { ok: false, message: `"${spec}" is not an address range (a-b)` };
    if (first.version !== last.version) return { ok: false, message: `range "${spec}" mixes IPv4 and IPv6` };
    return { ok: false, message: `range "${spec}" runs backwards` };
  }
  return { ok: false, message: `"${spec}" is not an IP address, CIDR or range` };
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
