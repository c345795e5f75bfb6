// DNS (RFC 1035, RFC 6891 EDNS, RFC 6762 mDNS): a message whose header counts and question
// section parse exactly, over UDP or over TCP with its 2-byte length prefix. The extractor reads
// the first question and the A/AAAA/CNAME answers with their TTLs (used for fqdn groups).

import { ipv6, u16, u32 } from '../bytes.js';
import type { DnsAnswer, FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MAX_RECORDS = 64;
/** Opcodes in use: QUERY, IQUERY (obsolete but seen), STATUS, NOTIFY, UPDATE. */
const OPCODES = new Set([0, 1, 2, 4, 5]);
const TYPES: Record<number, string> = { 1: 'A', 5: 'CNAME', 28: 'AAAA' };

/**
 * Reads a domain name at `at`; compression pointers must point backwards (so they cannot loop)
 * and at most 16 are followed. Returns the name (empty unless `text`) and the offset after it.
 */
export function readName(m: Buffer, at: number, text = true): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let next = -1;
  let length = 0;
  for (let jumps = 0; jumps <= 16; ) {
    const len = m[at];
    if (len === undefined) return undefined;
    if (len === 0) return { name: labels.join('.'), next: next < 0 ? at + 1 : next };
    if ((len & 0xc0) === 0xc0) {
      const target = u16(m, at) & 0x3fff;
      if (target >= at || target < 12) return undefined;
      if (next < 0) next = at + 2;
      at = target;
      jumps++;
      continue;
    }
    if (len > 63 || at + 1 + len > m.length) return undefined;
    length += len + 1;
    if (length > 255) return undefined;
    if (text) labels.push(m.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  return undefined;
}

interface Message {
  response: boolean;
  question?: string;
  answers: DnsAnswer[];
}

/**
 * Parses header, questions and as many resource records as fit; undefined when it is not DNS.
 * With `full` false (a probe), names are checked but not read and records past the first skipped:
 * whether the message is DNS is settled by then.
 */
function parse(m: Buffer, full: boolean): Message | undefined {
  if (m.length < 12) return undefined;
  const flags = u16(m, 2);
  const qd = u16(m, 4);
  const an = u16(m, 6);
  const ns = u16(m, 8);
  const ar = u16(m, 10);
  const response = (flags & 0x8000) !== 0;
  const opcode = (flags >> 11) & 0xf;
  // Z (0x0040) must be zero; a query carries no answer or authority records (UPDATE and NOTIFY aside).
  if (!OPCODES.has(opcode) || flags & 0x0040 || (flags & 0x000f) > 10) return undefined;
  if (qd > 16 || an + ns + ar > MAX_RECORDS * 4) return undefined;
  if (!response && opcode === 0 && (qd === 0 || an > 0 || ns > 0 || ar > 2)) return undefined;
  if (qd === 0 && an === 0) return undefined;
  const msg: Message = { response, answers: [] };
  let at = 12;
  for (let i = 0; i < qd; i++) {
    const q = readName(m, at, full);
    if (q === undefined || q.next + 4 > m.length) return undefined;
    const qtype = u16(m, q.next);
    const qclass = u16(m, q.next + 2) & 0x7fff;
    if (qclass !== 1 && qclass !== 3 && qclass !== 254 && qclass !== 255) return undefined;
    // The NetBIOS name service (RFC 1002 4.2.1) reuses this format with its own types NB and NBSTAT.
    if (qtype === 0x20 || qtype === 0x21) return undefined;
    if (i === 0) msg.question = q.name;
    at = q.next + 4;
  }
  for (let i = 0; i < Math.min(an + ns + ar, MAX_RECORDS); i++) {
    const r = readName(m, at, full);
    if (r === undefined || r.next + 10 > m.length) return i === 0 && an > 0 ? undefined : msg;
    if (!full) return msg;
    const type = u16(m, r.next);
    const ttl = u32(m, r.next + 4);
    const rdlen = u16(m, r.next + 8);
    const rdata = r.next + 10;
    if (rdata + rdlen > m.length) return msg;
    at = rdata + rdlen;
    const name = TYPES[type];
    if (i >= an || name === undefined) continue;
    let value: string | undefined;
    if (type === 1 && rdlen === 4) value = `${m[rdata] as number}.${m[rdata + 1] as number}.${m[rdata + 2] as number}.${m[rdata + 3] as number}`;
    else if (type === 28 && rdlen === 16) value = ipv6(m.subarray(rdata, rdata + 16));
    else if (type === 5) value = readName(m, rdata)?.name;
    if (value !== undefined) msg.answers.push({ name: r.name, type: name, value, ttl });
  }
  return msg;
}

/** The DNS message inside the input: the datagram itself, or the first TCP length-prefixed message. */
function message(data: Buffer, ctx: ProbeContext): Buffer | 'need-more' | undefined {
  if (ctx.transport !== 'tcp') return data;
  const len = u16(data, 0);
  if (len < 0 || data.length < Math.min(2 + len, 14)) return 'need-more';
  if (len < 12) return undefined;
  return data.length >= 2 + len ? data.subarray(2, 2 + len) : 'need-more';
}

function probe(data: Buffer, _dir: Direction, ctx: ProbeContext): ProbeResult {
  const m = message(data, ctx);
  if (m === 'need-more') return m;
  // Queries and responses alike, in either direction: mDNS announces with unsolicited responses.
  return m === undefined || parse(m, false) === undefined ? 'no' : 'match';
}

function extract(data: Buffer, _dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean {
  const m = message(data, ctx);
  if (m === 'need-more') return true;
  const msg = m === undefined ? undefined : parse(m, true);
  if (msg === undefined) return false;
  if (msg.question !== undefined) meta.dnsQuery ??= msg.question;
  const known = meta.dnsAnswers ?? [];
  if (msg.answers.length > 0) meta.dnsAnswers = [...known, ...msg.answers].slice(0, MAX_RECORDS);
  // Resolvers ask A and AAAA over one socket: later responses on the session still count.
  return known.length + msg.answers.length < MAX_RECORDS;
}

export const dns: ProtocolModule = {
  name: 'DNS',
  aliases: ['mDNS', 'LLMNR'],
  transports: ['udp', 'tcp'],
  ports: [53, 5353, 5355],
  probe,
  extract,
};
