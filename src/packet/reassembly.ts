// TCP reassembly for one direction of a session: segments in, the in-order byte stream out (to the
// session table, then DPI). Only the first `deliverBytes` of a stream are reassembled, because
// identification needs a prefix; out-of-order data waits under per-direction and global caps.

import { insertFirstWins, type Segment } from './segments.js';

export interface ReassemblyLimits {
  /** Stream bytes delivered per direction; later bytes are counted, never buffered. */
  deliverBytes: number;
  /** Out-of-order bytes held per direction before the stream skips its first hole. */
  maxBufferedPerDirection: number;
  maxSegmentsPerDirection: number;
  /** Out-of-order bytes held over all streams of a table. */
  maxBufferedTotal: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  deliverBytes: 64 * 1024,
  maxBufferedPerDirection: 64 * 1024,
  maxSegmentsPerDirection: 128,
  maxBufferedTotal: 64 * 1024 * 1024,
};

export interface ReassemblyStats {
  /** Bytes handed to the consumer, in order. */
  deliveredBytes: number;
  outOfOrderSegments: number;
  /** Bytes seen again (retransmissions, overlaps with delivered or held data): first copy kept. */
  retransmittedBytes: number;
  gaps: number;
  gapBytes: number;
  /** Bytes past the delivery cap: counted only. */
  bytesBeyondCap: number;
  /** Data arriving after the direction ended (FIN or RST). */
  lateBytes: number;
  bufferedBytes: number;
  peakBufferedBytes: number;
}

export const emptyReassemblyStats = (): ReassemblyStats => ({
  deliveredBytes: 0,
  outOfOrderSegments: 0,
  retransmittedBytes: 0,
  gaps: 0,
  gapBytes: 0,
  bytesBeyondCap: 0,
  lateBytes: 0,
  bufferedBytes: 0,
  peakBufferedBytes: 0,
});

/** Where a stream's bytes and holes go. */
export interface StreamReceiver<O> {
  streamData(stream: TcpStream<O>, data: Buffer, ts: number): void;
  streamGap(stream: TcpStream<O>, bytes: number): void;
}

/** What all streams of one table share: limits, counters, the receiver. */
export interface StreamContext<O> {
  limits: ReassemblyLimits;
  stats: ReassemblyStats;
  receiver: StreamReceiver<O>;
}

export class TcpStream<O> {
  /** Next expected sequence number (uint32); meaningful once synced. */
  private next = 0;
  private synced = false;
  /** Stream offset of `next`: bytes delivered or skipped so far. */
  offset = 0;
  private segs: Segment[] | null = null;
  private held = 0;
  /** No more bytes will be delivered: the cap was reached or the direction ended. */
  private capped = false;
  private ended = false;

  constructor(
    readonly owner: O,
    readonly dir: 'c2s' | 's2c',
    private readonly ctx: StreamContext<O>,
  ) {}

  /** A SYN fixes the initial sequence number; data then starts at ISN + 1. */
  syn(seq: number): void {
    if (this.synced) return;
    this.next = (seq + 1) >>> 0;
    this.synced = true;
  }

  data(seq: number, payload: Buffer, ts: number): void {
    const stats = this.ctx.stats;
    if (this.ended) {
      stats.lateBytes += payload.length;
      return;
    }
    if (this.capped) {
      stats.bytesBeyondCap += payload.length;
      return;
    }
    if (!this.synced) {
      // Midstream pickup: the first segment seen starts the stream.
      this.next = seq;
      this.synced = true;
    }
    const ahead = (seq - this.next) | 0;
    if (ahead <= 0) {
      const skip = -ahead;
      if (skip >= payload.length) {
        stats.retransmittedBytes += payload.length;
        return;
      }
      stats.retransmittedBytes += skip;
      const fresh = skip === 0 ? payload : payload.subarray(skip);
      const segs = this.segs;
      if (segs !== null && segs.length > 0 && this.offset + fresh.length > (segs[0] as Segment).off) {
        // It overlaps held bytes, which came first and win.
        this.insert(segs, this.offset, fresh);
      } else {
        this.deliver(fresh, ts);
      }
      this.drain(ts);
      return;
    }
    this.hold(this.offset + ahead, payload, ts);
  }

  /**
   * The peer acknowledged up to `ack`: a hole below it will never be filled (the capture missed
   * those bytes), so stop waiting for it.
   */
  peerAcked(ack: number, ts: number): void {
    const segs = this.segs;
    if (segs === null || segs.length === 0 || this.capped || this.ended) return;
    const acked = (ack - this.next) | 0;
    if (acked <= 0) return;
    const ackOff = this.offset + acked;
    while (segs.length > 0 && (segs[0] as Segment).off <= ackOff && !this.capped) this.skipHole(ts);
  }

  /** FIN, RST, timeout or end of input: deliver what is held, skipping holes; nothing more comes. */
  end(ts: number): void {
    if (this.ended) return;
    this.flush(ts);
    this.release();
    this.ended = true;
  }

  private hold(off: number, payload: Buffer, ts: number): void {
    const { limits, stats } = this.ctx;
    stats.outOfOrderSegments++;
    const room = limits.deliverBytes - off;
    if (room <= 0) {
      stats.bytesBeyondCap += payload.length;
      return;
    }
    let data = payload;
    if (data.length > room) {
      stats.bytesBeyondCap += data.length - room;
      data = data.subarray(0, room);
    }
    const segs = this.segs ?? (this.segs = []);
    const full =
      this.held + data.length > limits.maxBufferedPerDirection ||
      segs.length >= limits.maxSegmentsPerDirection ||
      stats.bufferedBytes + data.length > limits.maxBufferedTotal;
    if (full) {
      // A bound is reached: stop waiting for the holes before this segment.
      this.flush(ts);
      if (this.capped) {
        stats.bytesBeyondCap += data.length;
        return;
      }
      const ahead = off - this.offset;
      if (ahead > 0) this.gap(ahead);
      else if (ahead < 0) {
        stats.retransmittedBytes += Math.min(-ahead, data.length);
        data = data.subarray(Math.min(-ahead, data.length));
      }
      if (data.length > 0) this.deliver(data, ts);
      return;
    }
    this.insert(segs, off, data);
  }

  private insert(segs: Segment[], off: number, data: Buffer): void {
    const stats = this.ctx.stats;
    const added = insertFirstWins(segs, off, data);
    stats.retransmittedBytes += data.length - added;
    this.held += added;
    stats.bufferedBytes += added;
    if (stats.bufferedBytes > stats.peakBufferedBytes) stats.peakBufferedBytes = stats.bufferedBytes;
  }

  private deliver(data: Buffer, ts: number): void {
    const { limits, stats } = this.ctx;
    let out = data;
    const room = limits.deliverBytes - this.offset;
    if (out.length >= room) {
      stats.bytesBeyondCap += out.length - room;
      out = out.subarray(0, room);
      this.capped = true;
    }
    this.advance(out.length);
    stats.deliveredBytes += out.length;
    if (this.capped) this.release();
    if (out.length > 0) this.ctx.receiver.streamData(this, out, ts);
  }

  /** Delivers held segments that have become contiguous. */
  private drain(ts: number): void {
    const segs = this.segs;
    if (segs === null) return;
    while (segs.length > 0 && !this.capped) {
      const g = segs[0] as Segment;
      if (g.off > this.offset) return;
      segs.shift();
      this.held -= g.data.length;
      this.ctx.stats.bufferedBytes -= g.data.length;
      const skip = this.offset - g.off;
      if (skip < g.data.length) this.deliver(skip === 0 ? g.data : g.data.subarray(skip), ts);
    }
  }

  private skipHole(ts: number): void {
    const first = (this.segs as Segment[])[0] as Segment;
    if (first.off > this.offset) this.gap(first.off - this.offset);
    this.drain(ts);
  }

  private flush(ts: number): void {
    while (this.segs !== null && this.segs.length > 0 && !this.capped) this.skipHole(ts);
  }

  private gap(bytes: number): void {
    const stats = this.ctx.stats;
    stats.gaps++;
    stats.gapBytes += bytes;
    this.advance(bytes);
    if (this.offset >= this.ctx.limits.deliverBytes) {
      this.capped = true;
      this.release();
    }
    this.ctx.receiver.streamGap(this, bytes);
  }

  private advance(n: number): void {
    this.next = (this.next + n) >>> 0;
    this.offset += n;
  }

  private release(): void {
    if (this.segs === null) return;
    this.ctx.stats.bufferedBytes -= this.held;
    this.held = 0;
    this.segs = null;
  }
}
