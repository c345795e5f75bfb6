// IBM DB2 / Derby DRDA: DSS envelopes of a 6-byte header (length, magic 0xD0, format, correlation
// id) carrying DDM objects (length, code point). Sessions open with EXCSAT then ACCSEC; the server
// answers EXCSATRD. The extractor reads the server/client external name and the database name.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MAGIC = 0xd0;
/** DSS types: request, reply, object, communication (encrypted) object. */
const DSS_TYPES = new Set([1, 2, 3, 4, 5]);
/** Commands and replies that open a DRDA conversation. */
const OPENING_REQUESTS = new Set([0x1041 /* EXCSAT */, 0x106d /* ACCSEC */, 0x106e /* SECCHK */, 0x2001 /* ACCRDB */]);
const OPENING_REPLIES = new Set([0x1443 /* EXCSATRD */, 0x14ac /* ACCSECRD */, 0x1219 /* SECCHKRM */, 0x2201 /* ACCRDBRM */, 0x124c /* SYNTAXRM */, 0x1245 /* PRCCNVRM */]);
const EXTNAM = 0x115e;
const SRVNAM = 0x116d;
const SRVRLSLV = 0x115a;
const RDBNAM = 0x2110;

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (data.length < 10) {
    if (data.length >= 3 && data[2] !== MAGIC) return 'no';
    return 'need-more';
  }
  const length = data.readUInt16BE(0);
  const format = data[3] as number;
  const ddmLength = data.readUInt16BE(6);
  const codePoint = data.readUInt16BE(8);
  if (data[2] !== MAGIC || length < 10 || !DSS_TYPES.has(format & 0x0f) || (format & 0x80) !== 0) return 'no';
  // The DDM object fills the DSS exactly (DSS length minus the 6-byte DSS header).
  if (ddmLength !== length - 6) return 'no';
  return (dir === 'c2s' ? OPENING_REQUESTS : OPENING_REPLIES).has(codePoint) ? 'match' : 'no';
}

/** EBCDIC (CCSID 37/500) letters, digits and the punctuation names use, up to the first other byte. */
function fromEbcdic(b: Buffer): string {
  let out = '';
  for (const c of b) {
    const before = out.length;
    if (c >= 0x81 && c <= 0x89) out += String.fromCharCode(0x61 + c - 0x81);
    else if (c >= 0x91 && c <= 0x99) out += String.fromCharCode(0x6a + c - 0x91);
    else if (c >= 0xa2 && c <= 0xa9) out += String.fromCharCode(0x73 + c - 0xa2);
    else if (c >= 0xc1 && c <= 0xc9) out += String.fromCharCode(0x41 + c - 0xc1);
    else if (c >= 0xd1 && c <= 0xd9) out += String.fromCharCode(0x4a + c - 0xd1);
    else if (c >= 0xe2 && c <= 0xe9) out += String.fromCharCode(0x53 + c - 0xe2);
    else if (c >= 0xf0 && c <= 0xf9) out += String.fromCharCode(0x30 + c - 0xf0);
    else out += ({ 0x40: ' ', 0x4b: '.', 0x6d: '_', 0x60: '-', 0x61: '/', 0x7a: ':' } as Record<number, string>)[c] ?? '';
    // Names may be followed by binary fields (EXTNAM carries a process id): stop there.
    if (out.length === before) break;
  }
  return out.trimEnd();
}

/** Character parameters are EBCDIC until UNICODEMGR is agreed; Derby and newer clients may use ASCII. */
function decode(b: Buffer): string {
  return b.every((c) => c >= 0x20 && c < 0x7f) ? b.toString('latin1').trimEnd() : fromEbcdic(b);
}

/** Walks the DSS chain (bounded) and reads the parameters of each DDM object. */
function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  let at = 0;
  for (let n = 0; n < 8; n++) {
    if (at + 10 > data.length) return data.length < 8192;
    const length = data.readUInt16BE(at);
    if (data[at + 2] !== MAGIC || length < 10) return false;
    const end = Math.min(at + length, data.length);
    let p = at + 10;
    for (let k = 0; k < 32 && p + 4 <= end; k++) {
      const plength = data.readUInt16BE(p);
      const code = data.readUInt16BE(p + 2);
      if (plength < 4 || p + plength > end) break;
      const value = data.subarray(p + 4, p + plength);
      if (code === EXTNAM) meta[dir === 'c2s' ? 'drdaClientName' : 'drdaServerName'] = decode(value);
      if (code === SRVNAM && dir === 's2c') meta.drdaServerName = decode(value);
      if (code === SRVRLSLV) meta[dir === 'c2s' ? 'drdaClientRelease' : 'dbServerVersion'] = decode(value);
      if (code === RDBNAM) meta.dbName = decode(value);
      p += plength;
    }
    if (length > data.length - at) return true;
    at += length;
  }
  return false;
}

export const drda: ProtocolModule = {
  name: 'DRDA',
  aliases: ['DB2'],
  transports: ['tcp'],
  ports: [50000, 446, 1527],
  probe,
  extract,
};
