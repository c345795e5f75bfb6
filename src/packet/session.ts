// Fourth stage: decoded packets become sessions (one per bidirectional 5-tuple and VLAN) with a
// client and a server, counters, and TCP streams reassembled per direction. Consumers (DPI, flow
// export) receive payload and session ends through a SessionSink. Memory is bounded by a session
// cap with least-recently-seen eviction, idle timeouts in packet time, and reassembly caps.

import { randomBytes } from 'node:crypto';
import type { Counters, IpProto } from '../model/flow.js';
import { AddressText } from './address.js';
import { be16 } from './bytes.js';
import {
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  type Packet,
} from './decode.js';
import {
  DEFAULT_REASSEMBLY_LIMITS,
  TcpStream,
  emptyReassemblyStats,
  type ReassemblyLimits,
  type ReassemblyStats,
  type StreamContext,
  type StreamReceiver,
} from './reassembly.js';

export type Direction = 'c2s' | 's2c';
export type EndReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'end-of-input';

/** How the client side was decided. */
export type RoleEvidence = 'handshake' | 'port' | 'first-packet';

export interface Endpoint {
  ip: string;
  /** TCP/UDP/SCTP port; ICMP: the server carries the message type, the client 0. */
  port: number;
}

export interface Session {
  readonly id: number;
  readonly ipProto: IpProto;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly vlan?: number;
  readonly roleEvidence: RoleEvidence;
  /** Microseconds since the epoch, packet time. */
  firstTs: number;
  lastTs: number;
  /** packets and bytes of IP packets (headers included); payloadBytes = transport payload seen. */
  readonly c2s: Counters & { payloadBytes: number };
  readonly s2c: Counters & { payloadBytes: number };
  /** ICMP errors that quoted a packet of this session (unreachable, time exceeded, ...). */
  icmpErrors: number;
  /** The consumer's own per-session state; the table never reads it. */
  user: unknown;
}

export interface SessionSink {
  /**
   * TCP: in-order stream bytes; UDP: one datagram's payload; SCTP: one DATA chunk's user data.
   * `data` is a view into capture memory that is never rewritten, but keeping it pins a whole
   * input chunk: copy what you keep beyond the call.
   */
  onPayload(s: Session, dir: Direction, data: Buffer, ts: number): void;
  /** TCP bytes the capture never delivered; the stream continues after them. */
  onGap?(s: Session, dir: Direction, bytes: number): void;
  /**
   * Every packet of the session (a reassembled datagram: once, with its last fragment's frame),
   * after the counters and before its payload is delivered: for packet-level inspectors (floods,
   * scans) and evidence. `pkt` is reused for the next packet: read it during the call.
   */
  onPacket?(s: Session, dir: Direction, pkt: Packet): void;
  onEnd(s: Session, reason: EndReason): void;
}

export interface SessionLimits extends ReassemblyLimits {
  /** Sessions tracked at once; the least recently seen is evicted to make room. */
  maxSessions: number;
  /** Packet-time microseconds without packets after which a session ends as idle. */
  idleTimeoutUs: number;
  /** After FIN from both sides or RST, the session absorbs late packets this long before it ends. */
  closeLingerUs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  ...DEFAULT_REASSEMBLY_LIMITS,
  maxSessions: 262_144,
  idleTimeoutUs: 120_000_000,
  closeLingerUs: 5_000_000,
};

export interface SessionStats extends ReassemblyStats {
  created: number;
  active: number;
  peakActive: number;
  ended: Record<EndReason, number>;
  icmpErrorsAttributed: number;
  /** UDP and SCTP payload bytes past the delivery cap. */
  datagramBytesBeyondCap: number;
}

/** Non-privileged ports that are servers nearly everywhere: evidence when the handshake was missed. */
const SERVICE_PORTS = new Set([
  1080, 1194, 1433, 1521, 1883, 2049, 2181, 2379, 3000, 3128, 3306, 3389, 4222, 5000, 5222, 5349, 5353, 5432, 5601,
  5672, 5900, 6379, 6443, 8000, 8008, 8009, 8080, 8081, 8443, 8883, 8888, 9000, 9042, 9090, 9092, 9200, 9300, 10250,
  11211, 15672, 27017,
]);

function isServicePort(p: number): boolean {
  return (p > 0 && p < 1024) || SERVICE_PORTS.has(p);
}

const PROTO_NAMES: Record<number, IpProto> = {
  [IPPROTO_TCP]: 'tcp',
  [IPPROTO_UDP]: 'udp',
  [IPPROTO_ICMP]: 'icmp',
  [IPPROTO_ICMPV6]: 'icmpv6',
  [IPPROTO_SCTP]: 'sctp',
};

/** Session state the table keeps beside the public fields. */
class TrackedSession implements Session {
  user: unknown = undefined;
  icmpErrors = 0;
  readonly c2s = { packets: 0, bytes: 0, payloadBytes: 0 };
  readonly s2c = { packets: 0, bytes: 0, payloadBytes: 0 };
  readonly vlan?: number;
  // Least-recently-seen list.
  older: TrackedSession | null = null;
  newer: TrackedSession | null = null;
  /** Streams exist once a direction carries data; until then only its SYN's sequence number (-1: none). */
  c2sStream: TcpStream<TrackedSession> | null = null;
  s2cStream: TcpStream<TrackedSession> | null = null;
  isnC2s = -1;
  isnS2c = -1;
  finC2s = false;
  finS2c = false;
  closing: EndReason | null = null;
  closeTs = 0;
  /** Datagram payload bytes delivered per direction (UDP, SCTP). */
  sentC2s = 0;
  sentS2c = 0;
  /** The next IPv4 session whose key has the same hash. */
  sameHash: TrackedSession | null = null;
  /** The session's FlowKey, its fields held here rather than in an object of their own. */
  readonly keyLow: number;
  readonly keyHigh: number;
  readonly keyProtoVlan: number;
  readonly keyHash: number;
  readonly keyText: string;

  constructor(
    readonly id: number,
    key: FlowKey,
    readonly ipProto: IpProto,
    readonly client: Endpoint,
    readonly server: Endpoint,
    vlan: number,
    readonly roleEvidence: RoleEvidence,
    /** The client's (address, port) sorts first in the key: tells a packet's direction. */
    readonly clientIsLow: boolean,
    public firstTs: number,
    public lastTs: number,
  ) {
    this.keyLow = key.low;
    this.keyHigh = key.high;
    this.keyProtoVlan = key.protoVlan;
    this.keyHash = key.hash;
    this.keyText = key.text;
    if (vlan >= 0) this.vlan = vlan;
  }
}

/** Keys ICMP by echo identifier (request: id as the source "port") or by message type. */
function icmpPorts(pkt: Packet, out: { sport: number; dport: number }): void {
  const t = pkt.icmpType;
  const v6 = pkt.proto === IPPROTO_ICMPV6;
  if (pkt.icmpId >= 0) {
    const request = v6 ? t === 128 : t === 8;
    out.sport = request ? pkt.icmpId : 0;
    out.dport = request ? 0 : pkt.icmpId;
  } else {
    out.sport = 0;
    out.dport = t;
  }
}

/**
 * Seeds the IPv4 key hash: the table indexes its chains by the hash's low bits, which a sender who
 * knew the function could make collide at will (one long chain, a scan of it per packet).
 */
const HASH_SEED = randomBytes(4).readInt32LE(0);

/**
 * The bidirectional key: protocol, VLAN, then the endpoint that sorts first. IPv4 keys are three
 * exact numbers and a hash of them, so the per-packet lookup builds no string; IPv6 keys (rarer,
 * 288 bits) are one flat string.
 */
class FlowKey {
  /** IPv4: the low endpoint's address and port (48 bits), the high one's, then protocol and VLAN. */
  low = 0;
  high = 0;
  protoVlan = 0;
  /** IPv4: a 30-bit mix of the numbers above. */
  hash = 0;
  /** IPv6: the whole key; empty for IPv4. */
  text = '';

  set(proto: number, vlan: number, src: Buffer, sport: number, dst: Buffer, dport: number, srcIsLow: boolean): this {
    if (src.length !== 4) {
      this.text = flowKeyText(proto, vlan, src, sport, dst, dport, srcIsLow);
      return this;
    }
    const a = srcIsLow ? src : dst;
    const b = srcIsLow ? dst : src;
    const pa = srcIsLow ? sport : dport;
    const pb = srcIsLow ? dport : sport;
    const addrA = be16(a, 0) * 0x10000 + be16(a, 2);
    const addrB = be16(b, 0) * 0x10000 + be16(b, 2);
    this.text = '';
    this.low = addrA * 0x10000 + pa;
    this.high = addrB * 0x10000 + pb;
    // VLAN -1 (none) to 4095 fits in 13 bits once shifted by one.
    this.protoVlan = proto * 0x2000 + vlan + 1;
    let h = Math.imul(addrA ^ HASH_SEED, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15) ^ addrB, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 13) ^ ((pa << 16) | pb), 0x85ebca6b);
    this.hash = (h ^ (h >>> 16) ^ this.protoVlan) & 0x3fffffff;
    return this;
  }

  setFrom(k: FlowKey): this {
    this.low = k.low;
    this.high = k.high;
    this.protoVlan = k.protoVlan;
    this.hash = k.hash;
    this.text = k.text;
    return this;
  }
}

/** The IPv6 key, built from 16-bit units in one call: one flat string and no intermediate ones. */
function flowKeyText(proto: number, vlan: number, src: Buffer, sport: number, dst: Buffer, dport: number, srcIsLow: boolean): string {
  const a = srcIsLow ? src : dst;
  const b = srcIsLow ? dst : src;
  const pa = srcIsLow ? sport : dport;
  const pb = srcIsLow ? dport : sport;
  return String.fromCharCode(
    proto,
    vlan + 1,
    be16(a, 0),
    be16(a, 2),
    be16(a, 4),
    be16(a, 6),
    be16(a, 8),
    be16(a, 10),
    be16(a, 12),
    be16(a, 14),
    pa,
    be16(b, 0),
    be16(b, 2),
    be16(b, 4),
    be16(b, 6),
    be16(b, 8),
    be16(b, 10),
    be16(b, 12),
    be16(b, 14),
    pb,
  );
}

/** Whether (src, sport) sorts before (dst, dport): bytes of the address, then the port. */
function sortsFirst(src: Buffer, sport: number, dst: Buffer, dport: number): boolean {
  for (let i = 0; i < src.length; i++) {
    const x = src[i] as number;
    const y = dst[i] as number;
    if (x !== y) return x < y;
  }
  return sport <= dport;
}

/** How often (packet time) idle sessions are looked for. */
const SWEEP_US = 1_000_000;
/** Hash chains a new table starts with (a power of two); they double when sessions reach twice as many. */
const INITIAL_CHAINS = 256;

export class SessionTable {
  private readonly limits: SessionLimits;
  /**
   * IPv4 sessions: chain heads indexed by the low bits of the key hash, each chain linked through
   * `sameHash` (an array index is much cheaper than a Map lookup per packet). IPv6 sessions by key text.
   */
  private chains: Array<TrackedSession | null> = new Array<TrackedSession | null>(INITIAL_CHAINS).fill(null);
  private chained = 0;
  private readonly byText = new Map<string, TrackedSession>();
  private active = 0;
  /** The key of the packet at hand, rewritten for each lookup. */
  private readonly lookup = new FlowKey();
  private oldest: TrackedSession | null = null;
  private newest: TrackedSession | null = null;
  /** Sessions that saw FIN both ways or RST, in closing order. */
  private readonly closing = new Set<TrackedSession>();
  private nextId = 1;
  private nextSweep = -Infinity;
  private readonly counters: SessionStats;
  private readonly streams: StreamContext<TrackedSession>;
  private readonly ports = { sport: 0, dport: 0 };
  private readonly addresses = new AddressText();

  constructor(
    private readonly sink: SessionSink,
    limits: Partial<SessionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...limits };
    // Not a spread with added fields: V8 (Node 20) builds that shape slowly, microseconds per table.
    this.counters = Object.assign(emptyReassemblyStats(), {
      created: 0,
      active: 0,
      peakActive: 0,
      ended: { fin: 0, rst: 0, idle: 0, evicted: 0, 'end-of-input': 0 },
      icmpErrorsAttributed: 0,
      datagramBytesBeyondCap: 0,
    });
    const receiver: StreamReceiver<TrackedSession> = {
      streamData: (stream, data, ts) => sink.onPayload(stream.owner, stream.dir, data, ts),
      streamGap: (stream, bytes) => sink.onGap?.(stream.owner, stream.dir, bytes),
    };
    this.streams = { limits: this.limits, stats: this.counters, receiver };
  }

  get size(): number {
    return this.active;
  }

  /** Sessions from least to most recently seen. */
  *sessions(): IterableIterator<Session> {
    for (let s = this.oldest; s !== null; s = s.newer) yield s;
  }

  stats(): SessionStats {
    return { ...this.counters, active: this.active, ended: { ...this.counters.ended } };
  }

  /** Takes one decoded, whole (defragmented) packet. */
  packet(pkt: Packet): void {
    const ts = pkt.ts;
    if (ts >= this.nextSweep) {
      this.expire(ts);
      this.nextSweep = ts + SWEEP_US;
    }
    const proto = pkt.proto;
    const ports = this.ports;
    if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
      if (pkt.inner.present && this.attributeIcmpError(pkt)) return;
      icmpPorts(pkt, ports);
    } else if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
      ports.sport = pkt.srcPort;
      ports.dport = pkt.dstPort;
    } else {
      ports.sport = 0;
      ports.dport = 0;
    }
    const { sport, dport } = ports;
    const srcIsLow = sortsFirst(pkt.src, sport, pkt.dst, dport);
    const key = this.lookup.set(proto, pkt.vlan, pkt.src, sport, pkt.dst, dport, srcIsLow);
    let s = this.find(key);
    if (s !== undefined && s.closing !== null && proto === IPPROTO_TCP && (pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      // A new connection reusing the tuple of one that has closed.
      this.end(s, s.closing);
      s = undefined;
    }
    if (s === undefined) s = this.create(pkt, key, srcIsLow, sport, dport);
    else this.touch(s);
    if (ts > s.lastTs) s.lastTs = ts;
    const dir: Direction = srcIsLow === s.clientIsLow ? 'c2s' : 's2c';
    const c = dir === 'c2s' ? s.c2s : s.s2c;
    c.packets += pkt.wirePackets;
    c.bytes += pkt.ipBytes;
    const payloadLength = pkt.payloadEnd - pkt.payloadAt;
    c.payloadBytes += payloadLength;
    this.sink.onPacket?.(s, dir, pkt);
    if (proto === IPPROTO_TCP) this.tcp(s, dir, pkt);
    else if (payloadLength === 0) return;
    else if (proto === IPPROTO_UDP) this.datagram(s, dir, pkt.payload, ts);
    else if (proto === IPPROTO_SCTP) this.sctp(s, dir, pkt.payload, ts);
  }

  /** Ends every session (end of input, or shutdown). */
  flush(reason: EndReason = 'end-of-input'): void {
    // Every session ends, so the lookup maps are emptied at once rather than entry by entry. A sink
    // that feeds packets while sessions end starts new sessions: the next turn ends those.
    while (this.oldest !== null) {
      let s: TrackedSession | null = this.oldest;
      this.oldest = null;
      this.newest = null;
      this.chains.fill(null);
      this.chained = 0;
      this.byText.clear();
      this.closing.clear();
      while (s !== null) {
        const next: TrackedSession | null = s.newer;
        s.older = null;
        s.newer = null;
        s.sameHash = null;
        this.active--;
        this.ended(s, s.closing ?? reason);
        s = next;
      }
    }
  }

  /** Ends sessions idle for longer than the timeout, and closed ones past their linger, at packet time `now`. */
  expire(now: number): void {
    for (const s of this.closing) {
      if (now - s.closeTs <= this.limits.closeLingerUs) break;
      this.end(s, s.closing ?? 'fin');
    }
    while (this.oldest !== null && now - this.oldest.lastTs > this.limits.idleTimeoutUs) {
      this.end(this.oldest, this.oldest.closing ?? 'idle');
    }
  }

  private attributeIcmpError(pkt: Packet): boolean {
    const inner = pkt.inner;
    let sport = inner.srcPort;
    let dport = inner.dstPort;
    if (inner.proto === IPPROTO_ICMP || inner.proto === IPPROTO_ICMPV6) {
      // The quoted packet is an echo: srcPort holds its id, dstPort its type.
      const request = dport === 8 || dport === 128;
      const reply = dport === 0 || dport === 129;
      if (!request && !reply) return false;
      const id = sport;
      sport = request ? id : 0;
      dport = request ? 0 : id;
    }
    const srcIsLow = sortsFirst(inner.src, sport, inner.dst, dport);
    const s = this.find(this.lookup.set(inner.proto, pkt.vlan, inner.src, sport, inner.dst, dport, srcIsLow));
    if (s === undefined) return false;
    s.icmpErrors++;
    this.counters.icmpErrorsAttributed++;
    return true;
  }

  private find(k: FlowKey): TrackedSession | undefined {
    if (k.text !== '') return this.byText.get(k.text);
    let s = this.chains[k.hash & (this.chains.length - 1)] as TrackedSession | null;
    while (s !== null && (s.keyLow !== k.low || s.keyHigh !== k.high || s.keyProtoVlan !== k.protoVlan)) s = s.sameHash;
    return s ?? undefined;
  }

  private insert(s: TrackedSession): void {
    this.active++;
    if (s.keyText !== '') {
      this.byText.set(s.keyText, s);
      return;
    }
    const at = s.keyHash & (this.chains.length - 1);
    s.sameHash = this.chains[at] as TrackedSession | null;
    this.chains[at] = s;
    if (++this.chained > 2 * this.chains.length) this.rechain();
  }

  /** Twice as many chains, every IPv4 session moved to its new one. */
  private rechain(): void {
    const old = this.chains;
    this.chains = new Array<TrackedSession | null>(old.length * 2).fill(null);
    const mask = this.chains.length - 1;
    for (let head of old) {
      while (head !== null) {
        const next: TrackedSession | null = head.sameHash;
        const at = head.keyHash & mask;
        head.sameHash = this.chains[at] as TrackedSession | null;
        this.chains[at] = head;
        head = next;
      }
    }
  }

  private remove(s: TrackedSession): void {
    this.active--;
    if (s.keyText !== '') {
      this.byText.delete(s.keyText);
      return;
    }
    this.chained--;
    const at = s.keyHash & (this.chains.length - 1);
    let before = this.chains[at] as TrackedSession | null;
    if (before === s) this.chains[at] = s.sameHash;
    else {
      while (before !== null && before.sameHash !== s) before = before.sameHash;
      if (before !== null) before.sameHash = s.sameHash;
    }
    s.sameHash = null;
  }

  private create(pkt: Packet, key: FlowKey, srcIsLow: boolean, sport: number, dport: number): TrackedSession {
    if (this.active >= this.limits.maxSessions) {
      // A closed session only waits for stragglers: it makes room before any live one. Ending it
      // calls the sink, which may look up other packets and so rewrite `key`: a copy is kept.
      const kept = new FlowKey().setFrom(key);
      const closed = this.closing.values().next().value;
      if (closed !== undefined) this.end(closed, closed.closing ?? 'fin');
      else if (this.oldest !== null) this.end(this.oldest, 'evicted');
      key.setFrom(kept);
    }
    const proto = pkt.proto;
    let srcIsClient = true;
    let evidence: RoleEvidence = 'first-packet';
    if (proto === IPPROTO_TCP && (pkt.tcpFlags & TCP_SYN) !== 0) {
      srcIsClient = (pkt.tcpFlags & TCP_ACK) === 0;
      evidence = 'handshake';
    } else if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
      const srcService = isServicePort(sport);
      const dstService = isServicePort(dport);
      if (srcService !== dstService) {
        srcIsClient = dstService;
        evidence = 'port';
      } else if (srcService && sport !== dport) {
        srcIsClient = sport > dport;
        evidence = 'port';
      }
    } else if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && pkt.icmpId >= 0) {
      // An echo reply seen first: its receiver asked.
      srcIsClient = pkt.icmpType === (proto === IPPROTO_ICMP ? 8 : 128);
    }
    const icmp = proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
    const srcIp = this.addresses.of(pkt.src);
    const dstIp = this.addresses.of(pkt.dst);
    let client: Endpoint;
    let server: Endpoint;
    if (icmp) {
      const type = pkt.icmpId >= 0 ? (proto === IPPROTO_ICMP ? 8 : 128) : pkt.icmpType;
      client = { ip: srcIsClient ? srcIp : dstIp, port: 0 };
      server = { ip: srcIsClient ? dstIp : srcIp, port: type };
    } else {
      client = srcIsClient ? { ip: srcIp, port: sport } : { ip: dstIp, port: dport };
      server = srcIsClient ? { ip: dstIp, port: dport } : { ip: srcIp, port: sport };
    }
    const s = new TrackedSession(
      this.nextId++,
      key,
      PROTO_NAMES[proto] ?? 'other',
      client,
      server,
      pkt.vlan,
      evidence,
      srcIsClient === srcIsLow,
      pkt.ts,
      pkt.ts,
    );
    this.insert(s);
    this.append(s);
    this.counters.created++;
    if (this.active > this.counters.peakActive) this.counters.peakActive = this.active;
    return s;
  }

  private tcp(s: TrackedSession, dir: Direction, pkt: Packet): void {
    const flags = pkt.tcpFlags;
    const ts = pkt.ts;
    if ((flags & TCP_SYN) !== 0) {
      const stream = dir === 'c2s' ? s.c2sStream : s.s2cStream;
      if (stream !== null) stream.syn(pkt.seq);
      else if (dir === 'c2s') {
        if (s.isnC2s < 0) s.isnC2s = pkt.seq;
      } else if (s.isnS2c < 0) s.isnS2c = pkt.seq;
    }
    // Data on a SYN (TCP Fast Open) starts after the sequence number the SYN itself takes.
    if (pkt.payloadEnd > pkt.payloadAt) this.stream(s, dir).data((flags & TCP_SYN) !== 0 ? (pkt.seq + 1) >>> 0 : pkt.seq, pkt.payload, ts);
    if ((flags & TCP_ACK) !== 0) (dir === 'c2s' ? s.s2cStream : s.c2sStream)?.peerAcked(pkt.ack, ts);
    if ((flags & TCP_RST) !== 0) {
      this.close(s, 'rst', ts);
      return;
    }
    if ((flags & TCP_FIN) !== 0) {
      (dir === 'c2s' ? s.c2sStream : s.s2cStream)?.end(ts);
      if (dir === 'c2s') s.finC2s = true;
      else s.finS2c = true;
      if (s.finC2s && s.finS2c) this.close(s, 'fin', ts);
    }
  }

  private stream(s: TrackedSession, dir: Direction): TcpStream<TrackedSession> {
    const existing = dir === 'c2s' ? s.c2sStream : s.s2cStream;
    if (existing !== null) return existing;
    const stream = new TcpStream(s, dir, this.streams);
    const isn = dir === 'c2s' ? s.isnC2s : s.isnS2c;
    if (isn >= 0) stream.syn(isn);
    if (dir === 'c2s') s.c2sStream = stream;
    else s.s2cStream = stream;
    return stream;
  }

  private datagram(s: TrackedSession, dir: Direction, payload: Buffer, ts: number): void {
    if (payload.length === 0) return;
    const sent = dir === 'c2s' ? s.sentC2s : s.sentS2c;
    const room = this.limits.deliverBytes - sent;
    if (room <= 0) {
      this.counters.datagramBytesBeyondCap += payload.length;
      return;
    }
    const out = payload.length > room ? payload.subarray(0, room) : payload;
    this.counters.datagramBytesBeyondCap += payload.length - out.length;
    if (dir === 'c2s') s.sentC2s += out.length;
    else s.sentS2c += out.length;
    this.counters.deliveredBytes += out.length;
    this.sink.onPayload(s, dir, out, ts);
  }

  /** SCTP: each DATA chunk's user data is delivered like a datagram. */
  private sctp(s: TrackedSession, dir: Direction, chunks: Buffer, ts: number): void {
    let at = 0;
    while (chunks.length - at >= 4) {
      const len = be16(chunks, at + 2);
      if (len < 4 || at + len > chunks.length) return;
      if (chunks[at] === 0 && len > 16) this.datagram(s, dir, chunks.subarray(at + 16, at + len), ts);
      at += (len + 3) & ~3;
    }
  }

  private close(s: TrackedSession, reason: EndReason, ts: number): void {
    if (s.closing !== null) return;
    s.closing = reason;
    s.closeTs = ts;
    s.c2sStream?.end(ts);
    s.s2cStream?.end(ts);
    this.closing.add(s);
  }

  private end(s: TrackedSession, reason: EndReason): void {
    this.remove(s);
    if (s.closing !== null) this.closing.delete(s);
    this.unlink(s);
    this.ended(s, reason);
  }

  /** The session is out of the table: its streams deliver what they hold, then the sink hears of its end. */
  private ended(s: TrackedSession, reason: EndReason): void {
    s.c2sStream?.end(s.lastTs);
    s.s2cStream?.end(s.lastTs);
    this.counters.ended[reason]++;
    this.sink.onEnd(s, reason);
  }

  private append(s: TrackedSession): void {
    s.older = this.newest;
    s.newer = null;
    if (this.newest !== null) this.newest.newer = s;
    else this.oldest = s;
    this.newest = s;
  }

  private unlink(s: TrackedSession): void {
    if (s.older !== null) s.older.newer = s.newer;
    else this.oldest = s.newer;
    if (s.newer !== null) s.newer.older = s.older;
    else this.newest = s.older;
    s.older = null;
    s.newer = null;
  }

  private touch(s: TrackedSession): void {
    if (this.newest === s) return;
    this.unlink(s);
    this.append(s);
  }
}
