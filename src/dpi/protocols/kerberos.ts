// Kerberos V5 (RFC 4120 section 5): KDC-REQ/KDC-REP/KRB-ERROR as ASN.1 [APPLICATION n] messages
// carrying pvno 5 and a msg-type equal to n; over TCP each message has a 4-byte length prefix
// (section 7.2.2). The extractor reads the message type, realm and client name.

import { ber, berInt, parsed, u32, type Tlv } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MESSAGES = new Map<number, string>([
  [10, 'AS-REQ'], [11, 'AS-REP'], [12, 'TGS-REQ'], [13, 'TGS-REP'], [14, 'AP-REQ'], [15, 'AP-REP'], [30, 'KRB-ERROR'],
]);
/** A UDP message starts with its [APPLICATION n] tag; a TCP one with the top byte of a length under 1 MiB. */
const UDP_FIRST = [...MESSAGES.keys()].map((type) => 0x60 | type);
const TCP_FIRST = 0;

/** The children of a constructed element, as far as they lie inside `b` (at most 16). */
function children(b: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < Math.min(parent.end, b.length) && out.length < 16; ) {
    const t = ber(b, at);
    if (typeof t !== 'object' || t.end > parent.end) break;
    out.push(t);
    at = t.end;
  }
  return out;
}

/** The INTEGER inside an explicit context tag [n]. */
function tagged(b: Buffer, list: Tlv[], n: number): number | undefined {
  const t = list.find((c) => c.tag === (0xa0 | n));
  const inner = t === undefined ? undefined : ber(b, t.start);
  return typeof inner === 'object' ? berInt(b, inner) : undefined;
}

/** The message without the TCP record mark. */
function message(data: Buffer, ctx: ProbeContext): Buffer | 'need-more' | undefined {
  if (ctx.transport !== 'tcp') return data;
  const len = u32(data, 0);
  if (len < 0) return 'need-more';
  // The high bit is reserved (section 7.2.2); tickets with large PACs stay well under 1 MiB.
  return len < 16 || len > 0x100000 ? undefined : data.subarray(4);
}

function parse(m: Buffer): { type: number; body: Tlv[] } | 'need-more' | undefined {
  const app = ber(m, 0);
  if (typeof app !== 'object') return app;
  const type = app.tag & 0x1f;
  if ((app.tag & 0xe0) !== 0x60 || !MESSAGES.has(type)) return undefined;
  const seq = ber(m, app.start);
  if (typeof seq !== 'object') return seq;
  if (seq.tag !== 0x30 || seq.end > app.end) return undefined;
  if (m.length < Math.min(seq.start + 16, app.end)) return 'need-more';
  const body = children(m, seq);
  // KDC-REQ and AP-REQ number pvno [1] and msg-type [2]; replies and KRB-ERROR use [0] and [1].
  const request = type === 10 || type === 12;
  const pvno = tagged(m, body, request ? 1 : 0);
  const msgType = tagged(m, body, request ? 2 : 1);
  return pvno === 5 && msgType === type ? { type, body } : undefined;
}

function probe(data: Buffer, _dir: Direction, ctx: ProbeContext): ProbeResult {
  // The first byte alone rules most inputs out, however short they are.
  const first = data[0];
  if (first !== undefined && (ctx.transport === 'tcp' ? first !== TCP_FIRST : !UDP_FIRST.includes(first))) return 'no';
  const m = message(data, ctx);
  return m === undefined || m === 'need-more' ? parsed(m) : parsed(parse(m));
}

function principal(m: Buffer, t: Tlv | undefined): string | undefined {
  // PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }
  const seq = t === undefined ? undefined : ber(m, t.start);
  if (typeof seq !== 'object') return undefined;
  const names = children(m, seq).find((c) => c.tag === 0xa1);
  const list = names === undefined ? undefined : ber(m, names.start);
  if (typeof list !== 'object') return undefined;
  return children(m, list).map((s) => m.toString('latin1', s.start, Math.min(s.end, m.length))).join('/');
}

function extract(data: Buffer, _dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean {
  const m = message(data, ctx);
  if (m === undefined || m === 'need-more') return m === 'need-more';
  const p = parse(m);
  if (p === undefined || p === 'need-more') return p === 'need-more';
  meta.kerberosMessage ??= MESSAGES.get(p.type);
  if (p.type === 10 || p.type === 12) {
    // req-body [4] KDC-REQ-BODY ::= SEQUENCE { kdc-options [0], cname [1], realm [2], ... }
    const reqBody = p.body.find((c) => c.tag === 0xa4);
    const seq = reqBody === undefined ? undefined : ber(m, reqBody.start);
    if (typeof seq === 'object') {
      const fields = children(m, seq);
      const realm = fields.find((c) => c.tag === 0xa2);
      const str = realm === undefined ? undefined : ber(m, realm.start);
      if (typeof str === 'object' && str.end <= m.length) meta.kerberosRealm = m.toString('latin1', str.start, str.end);
      const cname = principal(m, fields.find((c) => c.tag === 0xa1));
      if (cname !== undefined) meta.kerberosClient = cname;
    }
  }
  return false;
}

export const kerberos: ProtocolModule = {
  name: 'Kerberos',
  transports: ['udp', 'tcp'],
  ports: [88],
  firstBytes: { c2s: [TCP_FIRST, ...UDP_FIRST], s2c: [TCP_FIRST, ...UDP_FIRST] },
  probe,
  extract,
};
