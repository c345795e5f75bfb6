// Between IP and transport decoding: IPv4 and IPv6 fragments wait here until their datagram is
// whole, then continue as one packet. Every dimension is bounded (fragments per datagram,
// datagrams, bytes, age) because fragments are a classic way to exhaust a monitor's memory.

import { l4Of, walkIpv6Extensions, type Packet } from './decode.js';
import { insertFirstWins, type Segment } from './segments.js';

export interface DefragLimits {
  maxFragmentsPerDatagram: number;
  /** Datagrams waiting at once; the oldest is dropped to make room. */
  maxDatagrams: number;
  /** Fragment bytes held at once, over all datagrams. */
  maxBytes: number;
  /** Packet-time microseconds a datagram may wait for its missing fragments. */
  timeoutUs: number;
}

export const DEFAULT_DEFRAG_LIMITS: DefragLimits = {
  maxFragmentsPerDatagram: 64,
  maxDatagrams: 4096,
  maxBytes: 16 * 1024 * 1024,
  timeoutUs: 30_000_000,
};

export interface DefragStats {
  fragments: number;
  reassembled: number;
  /** Fragments that overlapped bytes already held (the first copy was kept). */
  overlapping: number;
  /** Datagrams dropped: too old, too many fragments, table full, memory cap, too large, inconsistent. */
  droppedTimeout: number;
  droppedTooManyFragments: number;
  droppedTableFull: number;
  droppedMemory: number;
  droppedOversize: number;
  droppedInconsistent: number;
  /** Datagrams still incomplete at end of input. */
  droppedIncomplete: number;
  pending: number;
  bytes: number;
}

/** IPv4 and IPv6 (without jumbograms) datagrams cannot carry more than this after the fixed header. */
const MAX_DATAGRAM = 65535;

interface Datagram {
  key: string;
  firstTs: number;
  pieces: Segment[];
  fragments: number;
  /** Length of the whole datagram's payload, known once the last fragment arrived; -1 before. */
  total: number;
  held: number;
  ipBytes: number;
  proto: number;
}

export class Defragmenter {
  readonly stats: DefragStats = {
    fragments: 0,
    reassembled: 0,
    overlapping: 0,
    droppedTimeout: 0,
    droppedTooManyFragments: 0,
    droppedTableFull: 0,
    droppedMemory: 0,
    droppedOversize: 0,
    droppedInconsistent: 0,
    droppedIncomplete: 0,
    pending: 0,
    bytes: 0,
  };
  private readonly datagrams = new Map<string, Datagram>();

  constructor(private readonly limits: DefragLimits = DEFAULT_DEFRAG_LIMITS) {}

  /**
   * Takes one fragment. Returns true when it completed its datagram: `pkt` then describes the whole
   * datagram (l4 bytes = the reassembled payload, proto, ipBytes and wirePackets over all fragments).
   */
  add(pkt: Packet): boolean {
    this.stats.fragments++;
    this.expire(pkt.ts);
    const data = l4Of(pkt);
    const end = pkt.fragOffset + data.length;
    if (end > MAX_DATAGRAM) {
      this.stats.droppedOversize++;
      return false;
    }
    const key = fragmentKey(pkt);
    let d = this.datagrams.get(key);
    if (d === undefined) {
      if (this.datagrams.size >= this.limits.maxDatagrams) this.dropOldest('droppedTableFull');
      d = { key, firstTs: pkt.ts, pieces: [], fragments: 0, total: -1, held: 0, ipBytes: 0, proto: -1 };
      this.datagrams.set(key, d);
      this.stats.pending = this.datagrams.size;
    }
    d.fragments++;
    d.ipBytes += pkt.ipBytes;
    if (d.fragments > this.limits.maxFragmentsPerDatagram) return this.drop(d, 'droppedTooManyFragments');
    if (!pkt.moreFragments) {
      if ((d.total >= 0 && d.total !== end) || end < this.heldEnd(d)) return this.drop(d, 'droppedInconsistent');
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      return this.drop(d, 'droppedInconsistent');
    }
    if (pkt.fragOffset === 0) d.proto = pkt.proto;
    while (this.stats.bytes + data.length > this.limits.maxBytes) {
      const victim = this.oldestOther(d);
      if (victim === undefined) return this.drop(d, 'droppedMemory');
      this.drop(victim, 'droppedMemory');
    }
    const added = insertFirstWins(d.pieces, pkt.fragOffset, data);
    if (added < data.length) this.stats.overlapping++;
    d.held += added;
    this.stats.bytes += added;
    if (d.total < 0 || d.held !== d.total || d.proto < 0) return false;
    return this.complete(d, pkt);
  }

  /** End of input: whatever is still waiting will never complete. */
  finish(): void {
    this.stats.droppedIncomplete += this.datagrams.size;
    this.datagrams.clear();
    this.stats.bytes = 0;
    this.stats.pending = 0;
  }

  private heldEnd(d: Datagram): number {
    const last = d.pieces[d.pieces.length - 1];
    return last === undefined ? 0 : last.off + last.data.length;
  }

  private oldestOther(d: Datagram): Datagram | undefined {
    for (const o of this.datagrams.values()) if (o !== d) return o;
    return undefined;
  }

  private complete(d: Datagram, pkt: Packet): boolean {
    this.remove(d);
    const whole = d.pieces.length === 1 ? (d.pieces[0] as Segment).data : Buffer.concat(d.pieces.map((p) => p.data), d.total);
    pkt.fragment = false;
    pkt.moreFragments = false;
    pkt.fragOffset = 0;
    pkt.ipBytes = d.ipBytes;
    pkt.wirePackets = d.fragments;
    pkt.proto = d.proto;
    pkt.l4Bytes = whole;
    pkt.l4At = 0;
    pkt.l4End = whole.length;
    if (pkt.ipVersion === 6) {
      // Headers after the fragment header (destination options, ...) are part of the payload.
      const w = walkIpv6Extensions(whole, d.proto, 0, whole.length);
      if (typeof w === 'string' || w.fragment) {
        this.stats.droppedInconsistent++;
        return false;
      }
      pkt.proto = w.proto;
      pkt.l4At = w.off;
    }
    this.stats.reassembled++;
    return true;
  }

  private expire(now: number): void {
    for (const d of this.datagrams.values()) {
      if (now - d.firstTs <= this.limits.timeoutUs) break;
      this.drop(d, 'droppedTimeout');
    }
  }

  private dropOldest(reason: 'droppedTableFull'): void {
    const oldest = this.datagrams.values().next().value;
    if (oldest !== undefined) this.drop(oldest, reason);
  }

  private drop(d: Datagram, reason: keyof DefragStats): false {
    this.remove(d);
    this.stats[reason]++;
    return false;
  }

  private remove(d: Datagram): void {
    if (this.datagrams.delete(d.key)) this.stats.bytes -= d.held;
    this.stats.pending = this.datagrams.size;
  }
}

/** Fragments of one datagram share addresses, id, VLAN and (IPv4) protocol. */
function fragmentKey(pkt: Packet): string {
  const proto = pkt.ipVersion === 4 ? pkt.proto : 0;
  return `${pkt.vlan}|${proto}|${pkt.fragId}|${pkt.src.toString('latin1')}${pkt.dst.toString('latin1')}`;
}
