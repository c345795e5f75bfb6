// First stage of the packet path: the bytes of a pcap or pcapng stream (a file, stdin, tcpdump's
// stdout) become capture records for link decoding. The parser is push-based so files and the
// live tap share it; a record's data points into the input chunk unless it straddles two chunks.

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CaptureError } from './errors.js';

export interface CaptureRecord {
  /** LINKTYPE_* of the interface the packet was captured on. */
  linkType: number;
  /** Microseconds since the epoch. */
  ts: number;
  /** Captured bytes (may be shorter than origLen). A view into the input chunk: copy what you keep for long. */
  data: Buffer;
  origLen: number;
  /** Byte offset of the record (pcap record header or pcapng block) in the input. */
  offset: number;
  /** pcapng interface index within its section; 0 for pcap. */
  interfaceId: number;
}

/**
 * Receives records as a place in the chunk being parsed, `bytes[at, end)`, rather than a view of
 * their own: the pipeline decodes from there, and a view per record was a large share of its cost.
 */
export interface FrameSink {
  frame(linkType: number, ts: number, bytes: Buffer, at: number, end: number): void;
}

export interface CaptureStats {
  format: 'pcap' | 'pcapng' | 'unknown';
  records: number;
  /** Input bytes consumed. */
  bytes: number;
  /** A last record cut short by the end of input: skipped. */
  truncatedRecords: number;
  /** pcapng blocks with an impossible length or mismatched trailer: the reader resynchronised. */
  corruptBlocks: number;
  /** Bytes stepped over while looking for the next valid pcapng block. */
  resyncBytes: number;
  /** pcapng blocks of types that carry no packets (statistics, name resolution, custom, unknown). */
  skippedBlocks: number;
  /** pcapng packets naming an interface that was never described, or longer than their block. */
  badRecords: number;
  sections: number;
  interfaces: number;
}

export const emptyCaptureStats = (): CaptureStats => ({
  format: 'unknown',
  records: 0,
  bytes: 0,
  truncatedRecords: 0,
  corruptBlocks: 0,
  resyncBytes: 0,
  skippedBlocks: 0,
  badRecords: 0,
  sections: 0,
  interfaces: 0,
});

/** Records larger than this are treated as damage, whatever the header's snaplen claims. */
const MAX_RECORD = 16 * 1024 * 1024;
/** Interfaces one pcapng section may describe; more is an attack on the reader's memory. */
const MAX_INTERFACES = 4096;
/** How far the pcapng reader looks for the next valid block before giving up. */
const MAX_RESYNC = 4 * 1024 * 1024;

/** What a parser holds before its first chunk: shared, since a parser is made per capture. */
const NO_BYTES = Buffer.alloc(0);
const NO_VIEW = new DataView(new ArrayBuffer(0));

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
/** Block types a resync accepts as the start of a real block. */
const KNOWN_BLOCKS = new Set([PCAPNG_SHB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xbad, 0x40000bad]);

/** How an interface's 64-bit timestamps turn into microseconds. */
interface Interface {
  linkType: number;
  snapLen: number;
  /** 10^-exp (decimal) or 2^-exp (binary) seconds per unit. */
  decimal: boolean;
  exp: number;
  /** Decimal exp > 6: units per microsecond, with 2^32 split as q*div + r to stay exact. */
  div: number;
  q: number;
  r: number;
  offsetUs: number;
}

function makeInterface(linkType: number, snapLen: number, tsresol: number, offsetSec: number): Interface {
  const decimal = (tsresol & 0x80) === 0;
  const exp = tsresol & 0x7f;
  let div = 1;
  let q = 0;
  let r = 0;
  if (decimal && exp > 6) {
    div = 10 ** (exp - 6);
    q = Math.floor(4294967296 / div);
    r = 4294967296 - q * div;
  }
  return { linkType, snapLen, decimal, exp, div, q, r, offsetUs: offsetSec * 1e6 };
}

function interfaceMicros(i: Interface, high: number, low: number): number {
  let us: number;
  if (!i.decimal) us = Math.floor(((high * 4294967296 + low) / 2 ** i.exp) * 1e6);
  else if (i.exp === 6) us = high * 4294967296 + low;
  else if (i.exp < 6) us = (high * 4294967296 + low) * 10 ** (6 - i.exp);
  else us = high * i.q + Math.floor((high * i.r + low) / i.div);
  return us + i.offsetUs;
}

const enum Format {
  Unknown,
  Pcap,
  Pcapng,
}

/**
 * Streaming pcap/pcapng parser. Feed chunks with push(); records come out through the callback in
 * input order; call end() when the input is exhausted.
 */
export class CaptureParser {
  readonly stats: CaptureStats = emptyCaptureStats();
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes that must be pending before parsing can make progress. */
  private needed = 4;
  /** Input offset of the first pending byte. */
  private base = 0;
  private format = Format.Unknown;
  private le = true;
  // pcap
  private nanos = false;
  private linkType = 0;
  private maxRecord = MAX_RECORD;
  // pcapng
  private interfaces: Interface[] = [];
  private resyncing = false;
  private resyncStart = 0;
  private resyncAt = 0;
  private lastTs = 0;
  /** The buffer being parsed, for header fields: DataView reads are cheaper than Buffer#readUInt32*. */
  private view: DataView = NO_VIEW;
  /** The one record every emit receives: most captures carry a few packets per flow, so per-record objects were a GC cost. */
  private readonly record: CaptureRecord = { linkType: 0, ts: 0, data: NO_BYTES, origLen: 0, offset: 0, interfaceId: 0 };
  /** Where the push at hand sends records: one of the two is set. */
  private emit: ((r: CaptureRecord) => void) | undefined = undefined;
  private sink: FrameSink | undefined = undefined;

  /** `emit` receives the same record object each time, rewritten for the next record: read it during the call. */
  push(chunk: Uint8Array, emit: (r: CaptureRecord) => void): void {
    this.pushTo(chunk, emit, undefined);
  }

  /** Like push(), for a sink that reads each record where it lies in the chunk. */
  pushFrames(chunk: Uint8Array, sink: FrameSink): void {
    this.pushTo(chunk, undefined, sink);
  }

  private pushTo(chunk: Uint8Array, emit: ((r: CaptureRecord) => void) | undefined, sink: FrameSink | undefined): void {
    if (chunk.length === 0) return;
    this.emit = emit;
    this.sink = sink;
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.pending.push(b);
    this.pendingLen += b.length;
    if (this.pendingLen < this.needed) return;
    const buf = this.pending.length === 1 ? b : Buffer.concat(this.pending, this.pendingLen);
    const used = this.parse(buf);
    this.base += used;
    this.stats.bytes = this.base;
    if (used === buf.length) {
      this.pending = [];
      this.pendingLen = 0;
    } else {
      // Copy a small remainder so the big chunk it came from can be collected.
      const rest = buf.length - used < 4096 ? Buffer.from(buf.subarray(used)) : buf.subarray(used);
      this.pending = [rest];
      this.pendingLen = rest.length;
    }
  }

  /** The input is over: account for what is left. */
  end(): void {
    if (this.format === Format.Unknown) {
      throw new CaptureError(
        this.pendingLen === 0 ? 'empty input: no capture header' : 'input too short for a capture header',
        0,
      );
    }
    if (this.pendingLen > 0) {
      if (this.format === Format.Pcapng && this.resyncing) this.stats.resyncBytes += this.pendingLen;
      else this.stats.truncatedRecords++;
      this.stats.bytes = this.base + this.pendingLen;
    }
  }

  private parse(buf: Buffer): number {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    let pos = 0;
    if (this.format === Format.Unknown) {
      pos = this.header(buf);
      if (pos < 0) return 0;
    }
    return this.format === Format.Pcap ? this.pcapRecords(buf, pos) : this.pcapngBlocks(buf, pos);
  }

  /** Detects the format by magic; returns bytes consumed (-1 = need more). */
  private header(buf: Buffer): number {
    if (buf.length < 4) {
      this.needed = 4;
      return -1;
    }
    const magicLe = buf.readUInt32LE(0);
    const magicBe = buf.readUInt32BE(0);
    if (magicBe === PCAPNG_SHB) {
      this.format = Format.Pcapng;
      this.stats.format = 'pcapng';
      // The section header is then read as an ordinary block.
      return 0;
    }
    let le: boolean;
    if (magicLe === PCAP_US || magicLe === PCAP_NS) le = true;
    else if (magicBe === PCAP_US || magicBe === PCAP_NS) le = false;
    else throw new CaptureError(`not a pcap or pcapng stream (magic 0x${magicBe.toString(16).padStart(8, '0')})`, 0);
    if (buf.length < 24) {
      this.needed = 24;
      return -1;
    }
    this.format = Format.Pcap;
    this.stats.format = 'pcap';
    this.le = le;
    this.nanos = (le ? magicLe : magicBe) === PCAP_NS;
    const snapLen = le ? buf.readUInt32LE(16) : buf.readUInt32BE(16);
    // The upper bits of the link-type field carry FCS information.
    this.linkType = (le ? buf.readUInt32LE(20) : buf.readUInt32BE(20)) & 0xffff;
    this.maxRecord = Math.min(MAX_RECORD, Math.max(snapLen, 262144));
    this.stats.sections = 1;
    this.stats.interfaces = 1;
    return 24;
  }

  private pcapRecords(buf: Buffer, start: number): number {
    let pos = start;
    const le = this.le;
    const end = buf.length;
    while (true) {
      if (end - pos < 16) {
        this.needed = 16;
        return pos;
      }
      const view = this.view;
      const sec = view.getUint32(pos, le);
      const frac = view.getUint32(pos + 4, le);
      const incl = view.getUint32(pos + 8, le);
      const orig = view.getUint32(pos + 12, le);
      if (incl > this.maxRecord) {
        throw new CaptureError(`pcap record claims ${incl} captured bytes (limit ${this.maxRecord})`, this.base + pos);
      }
      if (end - pos < 16 + incl) {
        this.needed = 16 + incl;
        return pos;
      }
      const ts = sec * 1e6 + (this.nanos ? Math.floor(frac / 1000) : frac);
      this.stats.records++;
      this.out(this.linkType, ts, buf, pos + 16, pos + 16 + incl, orig, this.base + pos, 0);
      pos += 16 + incl;
    }
  }

  private out(linkType: number, ts: number, buf: Buffer, at: number, end: number, origLen: number, offset: number, interfaceId: number): void {
    if (this.sink !== undefined) {
      this.sink.frame(linkType, ts, buf, at, end);
      return;
    }
    const r = this.record;
    r.linkType = linkType;
    r.ts = ts;
    r.data = buf.subarray(at, end);
    r.origLen = origLen;
    r.offset = offset;
    r.interfaceId = interfaceId;
    (this.emit as (r: CaptureRecord) => void)(r);
  }

  private u32(at: number): number {
    return this.view.getUint32(at, this.le);
  }

  private u16(at: number): number {
    return this.view.getUint16(at, this.le);
  }

  private pcapngBlocks(buf: Buffer, start: number): number {
    let pos = start;
    const end = buf.length;
    while (true) {
      if (this.resyncing) {
        pos = this.resync(buf, pos);
        if (this.resyncing) return pos;
      }
      if (end - pos < 12) {
        this.needed = 12;
        return pos;
      }
      const type = this.u32(pos);
      if (type === PCAPNG_SHB) {
        const bom = buf.readUInt32LE(pos + 8);
        if (bom === PCAPNG_BOM) this.le = true;
        else if (buf.readUInt32BE(pos + 8) === PCAPNG_BOM) this.le = false;
        else if (this.stats.sections === 0) throw new CaptureError('pcapng section header has no byte-order magic', this.base + pos);
        else {
          this.startResync(pos);
          continue;
        }
      } else if (this.stats.sections === 0) {
        throw new CaptureError('pcapng stream does not start with a section header', this.base + pos);
      }
      const len = this.u32(pos + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
        if (this.stats.sections === 0) throw new CaptureError(`pcapng section header length ${len} is invalid`, this.base + pos);
        this.startResync(pos);
        continue;
      }
      if (end - pos < len) {
        this.needed = len;
        return pos;
      }
      if (this.u32(pos + len - 4) !== len) {
        if (this.stats.sections === 0) throw new CaptureError('pcapng section header trailer does not match', this.base + pos);
        this.startResync(pos);
        continue;
      }
      this.block(buf, pos, type, len);
      pos += len;
    }
  }

  private startResync(pos: number): void {
    this.stats.corruptBlocks++;
    this.resyncing = true;
    this.resyncStart = this.base + pos;
    this.resyncAt = this.base + pos + 4;
  }

  /**
   * Looks for the next plausible block (known type, sane length, matching trailer) after a damaged
   * one. Returns the position up to which bytes are garbage; while still resyncing, that is where
   * a candidate waits for the rest of its bytes.
   */
  private resync(buf: Buffer, pos: number): number {
    const end = buf.length;
    let q = Math.max(pos, this.resyncAt - this.base);
    for (; end - q >= 12; q += 4) {
      if (this.base + q - this.resyncStart > MAX_RESYNC) {
        throw new CaptureError('pcapng stream damaged beyond recovery', this.resyncStart);
      }
      const type = this.u32(q);
      if (!KNOWN_BLOCKS.has(type)) continue;
      let le = this.le;
      if (type === PCAPNG_SHB) {
        if (buf.readUInt32LE(q + 8) === PCAPNG_BOM) le = true;
        else if (buf.readUInt32BE(q + 8) === PCAPNG_BOM) le = false;
        else continue;
      }
      const len = le ? buf.readUInt32LE(q + 4) : buf.readUInt32BE(q + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) continue;
      if (end - q < len) {
        this.resyncAt = this.base + q;
        this.needed = len;
        this.stats.resyncBytes += q - pos;
        return q;
      }
      const trailer = le ? buf.readUInt32LE(q + len - 4) : buf.readUInt32BE(q + len - 4);
      if (trailer !== len) continue;
      this.resyncing = false;
      this.stats.resyncBytes += q - pos;
      return q;
    }
    this.resyncAt = this.base + q;
    this.needed = 12;
    this.stats.resyncBytes += q - pos;
    return q;
  }

  private block(buf: Buffer, pos: number, type: number, len: number): void {
    const offset = this.base + pos;
    if (type === PCAPNG_SHB) {
      this.interfaces = [];
      this.stats.sections++;
      return;
    }
    if (type === BLOCK_IDB) {
      if (len < 20 || this.interfaces.length >= MAX_INTERFACES) {
        this.stats.badRecords++;
        return;
      }
      const linkType = this.u16(pos + 8);
      const snapLen = this.u32(pos + 12);
      let tsresol = 6;
      let offsetSec = 0;
      let o = pos + 16;
      const optEnd = pos + len - 4;
      while (optEnd - o >= 4) {
        const code = this.u16(o);
        const olen = this.u16(o + 2);
        if (code === 0 || o + 4 + olen > optEnd) break;
        if (code === 9 && olen >= 1) tsresol = buf[o + 4] ?? 6;
        else if (code === 14 && olen >= 8) {
          const hi = this.le ? buf.readInt32LE(o + 8) : buf.readInt32BE(o + 4);
          const lo = this.le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 8);
          offsetSec = hi * 4294967296 + lo;
        }
        o += 4 + ((olen + 3) & ~3);
      }
      this.interfaces.push(makeInterface(linkType, snapLen, tsresol, offsetSec));
      this.stats.interfaces++;
      return;
    }
    if (type === BLOCK_EPB || type === BLOCK_PB) {
      if (len < 32) {
        this.stats.badRecords++;
        return;
      }
      const ifId = type === BLOCK_EPB ? this.u32(pos + 8) : this.u16(pos + 8);
      const iface = this.interfaces[ifId];
      const capLen = this.u32(pos + 20);
      if (iface === undefined || capLen > len - 32) {
        this.stats.badRecords++;
        return;
      }
      const ts = interfaceMicros(iface, this.u32(pos + 12), this.u32(pos + 16));
      this.lastTs = ts;
      this.stats.records++;
      this.out(iface.linkType, ts, buf, pos + 28, pos + 28 + capLen, this.u32(pos + 24), offset, ifId);
      return;
    }
    if (type === BLOCK_SPB) {
      const iface = this.interfaces[0];
      if (iface === undefined || len < 16) {
        this.stats.badRecords++;
        return;
      }
      const origLen = this.u32(pos + 8);
      let capLen = Math.min(origLen, len - 16);
      if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
      this.stats.records++;
      // A simple packet block has no timestamp: it inherits the previous packet's.
      this.out(iface.linkType, this.lastTs, buf, pos + 12, pos + 12 + capLen, origLen, offset, 0);
      return;
    }
    this.stats.skippedBlocks++;
  }
}

/** Anything bytes can be read from: a path ("-" is stdin), a Node stream, or an async iterable of chunks. */
export type CaptureInput = string | Readable | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

export function captureChunks(input: CaptureInput): AsyncIterable<Uint8Array> {
  if (typeof input === 'string') {
    if (input === '-') return process.stdin;
    return createReadStream(input, { highWaterMark: 256 * 1024 });
  }
  return input as AsyncIterable<Uint8Array>;
}

/**
 * Streams the records of a pcap or pcapng input. The generator's return value is the reader's
 * statistics. Throws CaptureError when the input cannot be read further.
 */
export async function* readCapture(input: CaptureInput): AsyncGenerator<CaptureRecord, CaptureStats, undefined> {
  const parser = new CaptureParser();
  const batch: CaptureRecord[] = [];
  // The parser reuses its record; the caller of this generator may keep each one.
  const collect = (r: CaptureRecord): void => {
    batch.push({ ...r });
  };
  for await (const chunk of captureChunks(input)) {
    parser.push(chunk, collect);
    for (const r of batch) yield r;
    batch.length = 0;
  }
  parser.end();
  return parser.stats;
}
