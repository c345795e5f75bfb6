// HPACK header decoding (RFC 7541) for the HTTP/2 and gRPC probes: integers, string literals
// with the static Huffman code, the static table and a bounded dynamic table. Decoding stops
// at the first malformed byte instead of throwing: header blocks come from the wire.

/** Appendix B code lengths for symbols 0..256 (256 = EOS). The code is canonical, so lengths suffice. */
const LENGTHS = (
  '13 23 28 28 28 28 28 28 28 24 30 28 28 30 28 28 28 28 28 28 28 28 30 28 28 28 28 28 28 28 28 28 ' +
  '6 10 10 12 13 6 8 11 10 10 8 11 8 6 6 6 5 5 5 6 6 6 6 6 6 6 7 8 15 6 12 10 ' +
  '13 6 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 8 7 8 13 19 13 14 6 ' +
  '15 5 6 5 6 5 6 6 6 5 7 7 6 6 6 5 6 7 6 5 5 6 7 7 7 7 7 15 11 14 13 28 ' +
  '20 22 20 20 22 22 22 23 22 23 23 23 23 23 24 23 24 24 22 23 24 23 23 23 23 21 22 23 22 23 23 24 ' +
  '22 21 20 22 22 23 23 21 23 22 22 24 21 22 23 23 21 21 22 21 23 22 23 23 20 22 22 22 23 22 22 23 ' +
  '26 26 20 19 22 23 22 25 26 26 26 27 27 26 24 25 19 21 26 27 27 26 27 24 21 21 26 26 28 27 27 27 ' +
  '20 24 20 21 22 21 21 23 22 22 25 25 24 24 26 23 26 27 26 26 27 27 27 27 27 28 27 27 27 27 27 26 30'
)
  .split(' ')
  .map(Number);

/** Canonical decoding tables: per code length, the first code, how many codes, where its symbols start. */
const MAX_LEN = 30;
const firstCode = new Int32Array(MAX_LEN + 1);
const count = new Int32Array(MAX_LEN + 1);
const offset = new Int32Array(MAX_LEN + 1);
const symbols: number[] = [];
{
  for (const l of LENGTHS) count[l] = (count[l] ?? 0) + 1;
  let code = 0;
  for (let l = 1; l <= MAX_LEN; l++) {
    firstCode[l] = code;
    offset[l] = symbols.length;
    for (let s = 0; s < LENGTHS.length; s++) if (LENGTHS[s] === l) symbols.push(s);
    code = (code + (count[l] as number)) << 1;
  }
}

/** Decodes a Huffman-coded string; undefined on EOS inside the data or padding that is not all ones. */
export function huffmanDecode(b: Buffer): string | undefined {
  let out = '';
  let code = 0;
  let len = 0;
  for (let i = 0; i < b.length; i++) {
    const byte = b[i] as number;
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const k = code - (firstCode[len] as number);
      if (k >= 0 && k < (count[len] as number)) {
        const sym = symbols[(offset[len] as number) + k] as number;
        if (sym === 256) return undefined;
        out += String.fromCharCode(sym);
        code = 0;
        len = 0;
      } else if (len >= MAX_LEN) {
        return undefined;
      }
    }
  }
  // Padding is a prefix of EOS (all ones) and shorter than a byte (section 5.2).
  return len < 8 && code === (1 << len) - 1 ? out : undefined;
}

/** Appendix A. */
const STATIC: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

/** Largest dynamic table kept, whatever a size update on the wire asks for. */
const MAX_TABLE = 65536;

/** The per-connection decoder state of one direction. */
export class HpackDecoder {
  private readonly table: Array<readonly [string, string]> = [];
  private size = 0;

  /** Starts at the default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 section 6.5.2). */
  constructor(private maxSize = 4096) {}

  /** Decodes one complete header block; undefined when it is malformed. */
  decode(b: Buffer): Array<[string, string]> | undefined {
    const out: Array<[string, string]> = [];
    let at = 0;
    while (at < b.length && out.length < 256) {
      const c = b[at] as number;
      if (c & 0x80) {
        const idx = integer(b, at, 7);
        if (idx === undefined) return undefined;
        const e = this.entry(idx.value);
        if (e === undefined) return undefined;
        out.push([e[0], e[1]]);
        at = idx.next;
      } else if ((c & 0xe0) === 0x20) {
        const n = integer(b, at, 5);
        if (n === undefined) return undefined;
        // A peer may allow more than the default via SETTINGS; memory stays bounded by the cap.
        this.maxSize = Math.min(n.value, MAX_TABLE);
        this.evict(0);
        at = n.next;
      } else {
        // Literal: with incremental indexing (01), without (0000) or never indexed (0001).
        const indexed = (c & 0xc0) === 0x40;
        const idx = integer(b, at, indexed ? 6 : 4);
        if (idx === undefined) return undefined;
        let name: string | undefined;
        at = idx.next;
        if (idx.value === 0) {
          const s = stringLiteral(b, at);
          if (s === undefined) return undefined;
          name = s.value;
          at = s.next;
        } else {
          name = this.entry(idx.value)?.[0];
        }
        const v = stringLiteral(b, at);
        if (name === undefined || v === undefined) return undefined;
        at = v.next;
        out.push([name, v.value]);
        if (indexed) this.add(name, v.value);
      }
    }
    return out;
  }

  private entry(i: number): readonly [string, string] | undefined {
    if (i >= 1 && i <= STATIC.length) return STATIC[i - 1];
    return this.table[i - STATIC.length - 1];
  }

  private add(name: string, value: string): void {
    const s = 32 + name.length + value.length;
    this.evict(s);
    if (s <= this.maxSize) {
      this.table.unshift([name, value]);
      this.size += s;
    }
  }

  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.table.length > 0) {
      const [n, v] = this.table.pop() as readonly [string, string];
      this.size -= 32 + n.length + v.length;
    }
  }
}

/** Section 5.1 prefix integer, capped at 2^21 so a hostile encoding cannot run on. */
function integer(b: Buffer, at: number, prefix: number): { value: number; next: number } | undefined {
  const max = (1 << prefix) - 1;
  let value = (b[at] ?? 0) & max;
  let i = at + 1;
  if (value < max) return { value, next: i };
  for (let shift = 0; shift <= 14; shift += 7) {
    const c = b[i++];
    if (c === undefined) return undefined;
    value += (c & 0x7f) << shift;
    if ((c & 0x80) === 0) return { value, next: i };
  }
  return undefined;
}

function stringLiteral(b: Buffer, at: number): { value: string; next: number } | undefined {
  const len = integer(b, at, 7);
  if (len === undefined || len.next + len.value > b.length) return undefined;
  const raw = b.subarray(len.next, len.next + len.value);
  const value = (b[at] as number) & 0x80 ? huffmanDecode(raw) : raw.toString('latin1');
  return value === undefined ? undefined : { value, next: len.next + len.value };
}
