// The packet path end to end: capture reader → link → IP → defragmentation → transport → session
// table → the consumer's SessionSink. runPipeline drives it from any capture input; PacketPipeline
// takes records one by one for callers that own the reading loop (the live tap).

import { CaptureParser, captureChunks, type CaptureInput, type CaptureRecord, type CaptureStats, type FrameSink } from './capture.js';
import { decodeIp, decodeTransport, emptyPacket, type DecodeDrop, type Packet } from './decode.js';
import { DEFAULT_DEFRAG_LIMITS, Defragmenter, type DefragLimits, type DefragStats } from './defrag.js';
import { decodeLink, emptyLink, type LinkInfo } from './link.js';
import { SessionTable, type SessionLimits, type SessionSink, type SessionStats } from './session.js';

export interface PipelineOptions {
  sessions?: Partial<SessionLimits>;
  defrag?: Partial<DefragLimits>;
}

export interface DecodeStats {
  frames: number;
  /** Frames of link types or EtherTypes that carry no IP (ARP, LLDP, ...), or unknown link types. */
  notIp: number;
  ipv4: number;
  ipv6: number;
  /** Packets that reached the session table. */
  packets: number;
  dropped: Record<DecodeDrop, number>;
}

export interface PipelineStats {
  capture: CaptureStats;
  decode: DecodeStats;
  defrag: DefragStats;
  sessions: SessionStats;
}

export class PacketPipeline implements FrameSink {
  readonly table: SessionTable;
  private readonly defrag: Defragmenter;
  private readonly link: LinkInfo = emptyLink();
  private readonly pkt: Packet = emptyPacket();
  private readonly decode: DecodeStats = {
    frames: 0,
    notIp: 0,
    ipv4: 0,
    ipv6: 0,
    packets: 0,
    dropped: { 'ip-truncated': 0, 'ip-bad-header': 0, 'ip-ext-chain': 0, 'l4-truncated': 0, 'l4-bad-header': 0 },
  };

  constructor(sink: SessionSink, opts: PipelineOptions = {}) {
    this.table = new SessionTable(sink, opts.sessions);
    this.defrag = new Defragmenter({ ...DEFAULT_DEFRAG_LIMITS, ...opts.defrag });
  }

  /** Bound so it can be handed to a reader as its callback. */
  readonly record = (r: CaptureRecord): void => {
    this.frame(r.linkType, r.ts, r.data, 0, r.data.length);
  };

  /** One captured frame, `bytes[at, end)`. */
  frame(linkType: number, ts: number, bytes: Buffer, at: number, end: number): void {
    const d = this.decode;
    d.frames++;
    const link = this.link;
    if (!decodeLink(linkType, bytes, link, at, end) || link.ipVersion === 0) {
      d.notIp++;
      return;
    }
    const pkt = this.pkt;
    pkt.ts = ts;
    pkt.frameBytes = bytes;
    pkt.frameAt = at;
    pkt.frameEnd = end;
    pkt.linkType = linkType;
    pkt.vlan = link.vlan;
    const ipDrop = decodeIp(bytes, link.ipVersion, link.offset, pkt, end);
    if (ipDrop !== null) {
      d.dropped[ipDrop]++;
      return;
    }
    if (link.ipVersion === 4) d.ipv4++;
    else d.ipv6++;
    if (pkt.fragment && !this.defrag.add(pkt)) return;
    const l4Drop = decodeTransport(pkt);
    if (l4Drop !== null) {
      d.dropped[l4Drop]++;
      return;
    }
    d.packets++;
    this.table.packet(pkt);
  }

  /**
   * Ends idle sessions at `nowUs` (microseconds since the epoch). Timeouts otherwise run on packet
   * time, so a live tap calls this on a timer to close sessions when traffic stops.
   */
  expire(nowUs: number): void {
    this.table.expire(nowUs);
  }

  /** End of input: ends every session and gives up on incomplete datagrams. */
  finish(): void {
    this.defrag.finish();
    this.table.flush('end-of-input');
  }

  stats(capture: CaptureStats): PipelineStats {
    return {
      capture: { ...capture },
      decode: { ...this.decode, dropped: { ...this.decode.dropped } },
      defrag: { ...this.defrag.stats },
      sessions: this.table.stats(),
    };
  }
}

/**
 * Reads a whole capture through the pipeline into `sink`, ending every session at the end.
 * A CaptureError (unreadable input) still ends the sessions seen so far before it propagates.
 */
export async function runPipeline(input: CaptureInput, sink: SessionSink, opts: PipelineOptions = {}): Promise<PipelineStats> {
  const parser = new CaptureParser();
  const pipeline = new PacketPipeline(sink, opts);
  try {
    for await (const chunk of captureChunks(input)) parser.pushFrames(chunk, pipeline);
    parser.end();
  } finally {
    pipeline.finish();
  }
  return pipeline.stats(parser.stats);
}
