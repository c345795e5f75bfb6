// IP addresses as numbers: parsing, canonical formatting, CIDRs and ranges, containment. Pure and
// shared by everything that meets an address: packet decoding, inventory attribution, `address`
// selectors, Kubernetes ipBlocks and nftables sets. Bad input yields undefined, never a throw.

/** IPv4 as an unsigned 32-bit number; IPv6 as a 128-bit bigint. */
export type IpAddr = { version: 4; value: number } | { version: 6; value: bigint };

/** An inclusive range of addresses of one version. A CIDR and a single address are ranges too. */
export type IpRange = { version: 4; first: number; last: number } | { version: 6; first: bigint; last: bigint };

const V4_MAPPED_PREFIX = 0xffffn << 32n;
const V4_MAPPED_MASK = ~0xffffffffn & ((1n << 128n) - 1n);
const V6_MAX = (1n << 128n) - 1n;

/** Dotted-quad IPv4 to a number. Leading zeros are refused: some parsers read them as octal. */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  let leadingZero = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a virtual '.' closes the last part
    if (c === 46) {
      if (digits === 0 || (leadingZero && digits > 1) || part > 255) return undefined;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || digits === 3) return undefined;
    if (digits === 0) leadingZero = c === 48;
    part = part * 10 + (c - 48);
    digits++;
  }
  return parts === 4 ? value : undefined;
}

function parseHexGroup(text: string): number | undefined {
  if (text.length === 0 || text.length > 4) return undefined;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return undefined;
    v = v * 16 + d;
  }
  return v;
}

/** Groups of one side of `::`, the last of which may be a dotted IPv4 (two groups). */
function parseGroups(text: string, mayEndInV4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (i === parts.length - 1 && mayEndInV4 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else {
      const g = parseHexGroup(p);
      if (g === undefined) return undefined;
      groups.push(g);
    }
  }
  return groups;
}

/** RFC 4291 text (compressed, full, with a trailing dotted IPv4) to a bigint. Zone ids are refused. */
export function parseIpv6(text: string): bigint | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const gap = text.indexOf('::');
  let groups: number[];
  if (gap < 0) {
    const all = parseGroups(text, true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else {
    if (text.indexOf('::', gap + 1) >= 0) return undefined;
    const head = parseGroups(text.slice(0, gap), false);
    const tail = parseGroups(text.slice(gap + 2), true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = head.concat(new Array<number>(8 - head.length - tail.length).fill(0), tail);
  }
  let value = 0n;
  for (let i = 0; i < 8; i += 2) value = (value << 32n) | BigInt(((groups[i] as number) * 0x10000 + (groups[i + 1] as number)));
  return value;
}

export function parseIp(text: string): IpAddr | undefined {
  if (text.includes(':')) {
    const v6 = parseIpv6(text);
    return v6 === undefined ? undefined : { version: 6, value: v6 };
  }
  const v4 = parseIpv4(text);
  return v4 === undefined ? undefined : { version: 4, value: v4 };
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(value: bigint): string {
  if ((value & V4_MAPPED_MASK) === V4_MAPPED_PREFIX) return `::ffff:${formatIpv4(Number(value & 0xffffffffn))}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function formatIp(addr: IpAddr): string {
  return addr.version === 4 ? formatIpv4(addr.value) : formatIpv6(addr.value);
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it carries; others are unchanged. */
export function unmapV4(addr: IpAddr): IpAddr {
  if (addr.version === 6 && (addr.value & V4_MAPPED_MASK) === V4_MAPPED_PREFIX) {
    return { version: 4, value: Number(addr.value & 0xffffffffn) };
  }
  return addr;
}

/**
 * The one spelling of an endpoint address: parsed, IPv4-mapped IPv6 reduced to IPv4 (dual-stack
 * sockets report those), formatted canonically. Undefined for text that is no address.
 */
export function canonicalIp(text: string): string | undefined {
  const addr = parseIp(text);
  return addr === undefined ? undefined : formatIp(unmapV4(addr));
}

/** `10.0.0.0/8`, `fd00::/64`. Host bits below the prefix are ignored (`10.1.2.3/8` = `10.0.0.0/8`). */
export function parseCidr(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (addr === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (addr.version === 4) {
    if (len > 32) return undefined;
    const size = 2 ** (32 - len);
    const first = addr.value - (addr.value % size);
    return { version: 4, first, last: first + size - 1 };
  }
  if (len > 128) return undefined;
  const hostBits = (1n << BigInt(128 - len)) - 1n;
  const first = addr.value & ~hostBits & V6_MAX;
  return { version: 6, first, last: first | hostBits };
}

/**
 * What an `address` criterion or an ipBlock may say: one address, a CIDR, or an inclusive range
 * `first-last` of one version with first <= last.
 */
export function parseAddressSpec(text: string): IpRange | undefined {
  const spec = text.trim();
  if (spec.includes('/')) return parseCidr(spec);
  const dash = spec.indexOf('-');
  if (dash < 0) {
    const addr = parseIp(spec);
    if (addr === undefined) return undefined;
    return addr.version === 4
      ? { version: 4, first: addr.value, last: addr.value }
      : { version: 6, first: addr.value, last: addr.value };
  }
  const a = parseIp(spec.slice(0, dash).trim());
  const b = parseIp(spec.slice(dash + 1).trim());
  if (a === undefined || b === undefined) return undefined;
  if (a.version === 4 && b.version === 4) return a.value <= b.value ? { version: 4, first: a.value, last: b.value } : undefined;
  if (a.version === 6 && b.version === 6) return a.value <= b.value ? { version: 6, first: a.value, last: b.value } : undefined;
  return undefined;
}

/**
 * Whether the range holds the address. IPv4 and its IPv4-mapped IPv6 form are the same address
 * here, so `10.0.0.0/8` holds `::ffff:10.1.2.3` and `::ffff:0:0/96` holds `10.1.2.3`.
 */
export function rangeContains(range: IpRange, addr: IpAddr): boolean {
  if (range.version === 4) {
    const a = addr.version === 4 ? addr : unmapV4(addr);
    return a.version === 4 && a.value >= range.first && a.value <= range.last;
  }
  const v = addr.version === 6 ? addr.value : V4_MAPPED_PREFIX | BigInt(addr.value);
  return v >= range.first && v <= range.last;
}

/** The fewest CIDRs that cover exactly the range, in address order (what ipBlocks and nft sets take). */
export function rangeToCidrs(range: IpRange): string[] {
  const bits = range.version === 4 ? 32n : 128n;
  let first = BigInt(range.first);
  const last = BigInt(range.last);
  const out: string[] = [];
  while (first <= last) {
    // The largest aligned block starting at `first` that does not pass `last`.
    let size = first === 0n ? 1n << bits : first & -first;
    while (first + size - 1n > last) size >>= 1n;
    let prefix = bits;
    for (let s = size; s > 1n; s >>= 1n) prefix--;
    const text = range.version === 4 ? formatIpv4(Number(first)) : formatIpv6(first);
    out.push(`${text}/${prefix}`);
    first += size;
  }
  return out;
}
