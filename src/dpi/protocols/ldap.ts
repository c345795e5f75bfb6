// LDAP (RFC 4511 section 4.1.1, BER per X.690): LDAPMessage ::= SEQUENCE { messageID INTEGER,
// protocolOp CHOICE of [APPLICATION n] }, over TCP and as CLDAP over UDP. The extractor records
// the first operation and a BindRequest's name.

import { ber, berInt, type Tlv } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** protocolOp identifiers: [APPLICATION n], constructed (0x60|n) or primitive (0x40|n). */
const OPERATIONS = new Map<number, string>([
  [0x60, 'bindRequest'], [0x61, 'bindResponse'], [0x42, 'unbindRequest'], [0x63, 'searchRequest'],
  [0x64, 'searchResEntry'], [0x65, 'searchResDone'], [0x73, 'searchResRef'], [0x66, 'modifyRequest'],
  [0x67, 'modifyResponse'], [0x68, 'addRequest'], [0x69, 'addResponse'], [0x4a, 'delRequest'],
  [0x6b, 'delResponse'], [0x6c, 'modDNRequest'], [0x6d, 'modDNResponse'], [0x6e, 'compareRequest'],
  [0x6f, 'compareResponse'], [0x50, 'abandonRequest'], [0x77, 'extendedReq'], [0x78, 'extendedResp'],
  [0x79, 'intermediateResponse'],
]);

interface Parsed {
  op: string;
  body: Tlv;
}

function parse(b: Buffer): Parsed | 'need-more' | undefined {
  const msg = ber(b, 0);
  if (msg === 'need-more' || msg === undefined) return msg;
  if (msg.tag !== 0x30) return undefined;
  const id = ber(b, msg.start);
  if (id === 'need-more') return id;
  if (id === undefined || id.tag !== 0x02 || id.end - id.start > 4 || id.end > msg.end) return undefined;
  if (id.end > b.length) return 'need-more';
  const value = berInt(b, id);
  if (value === undefined || value < 0) return undefined;
  const op = ber(b, id.end);
  if (op === 'need-more') return op;
  const name = op === undefined ? undefined : OPERATIONS.get(op.tag);
  // The operation lies inside the message; controls [0] may follow it.
  if (op === undefined || name === undefined || op.end > msg.end) return undefined;
  return { op: name, body: op };
}

/** Every LDAPMessage is a SEQUENCE. */
const SEQUENCE = 0x30;

function probe(data: Buffer): ProbeResult {
  // Ruled out on its first byte however short it is, so the engine can skip the probe.
  if (data.length > 0 && data[0] !== SEQUENCE) return 'no';
  const p = parse(data);
  if (p === undefined) return 'no';
  if (p === 'need-more') return p;
  if (p.op !== 'bindRequest') return 'match';
  // BindRequest ::= [APPLICATION 0] SEQUENCE { version INTEGER (1 .. 127), name LDAPDN, ... }
  const version = ber(data, p.body.start);
  if (version === 'need-more') return version;
  const v = version === undefined ? undefined : berInt(data, version);
  if (v === undefined) return version !== undefined && version.end > data.length ? 'need-more' : 'no';
  return v >= 1 && v <= 3 ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const p = parse(data);
  if (p === undefined || p === 'need-more') return p === 'need-more';
  if (dir === 'c2s') meta.ldapOperation ??= p.op;
  if (p.op === 'bindRequest') {
    const version = ber(data, p.body.start);
    const name = typeof version === 'object' ? ber(data, version.end) : undefined;
    if (typeof name === 'object' && name.tag === 0x04 && name.end <= data.length && name.end - name.start <= 512) {
      meta.ldapBindName = data.toString('utf8', name.start, name.end);
    }
  }
  return false;
}

export const ldap: ProtocolModule = {
  name: 'LDAP',
  aliases: ['CLDAP'],
  transports: ['tcp', 'udp'],
  ports: [389, 3268],
  firstBytes: { c2s: [SEQUENCE], s2c: [SEQUENCE] },
  probe,
  extract,
};
