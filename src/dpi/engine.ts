// Per-session application identification: the session table feeds each direction's new payload
// here; every candidate protocol probes it until one matches (or all are eliminated), then the
// winner's metadata extractor runs on a bounded budget. The result ends up in Flow.app/meta.

import type { AppConfidence, FlowMeta } from '../model/flow.js';
import { protocols as registry } from './registry.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule, Transport } from './types.js';

export interface Identification {
  /** Registry name, or "unknown". */
  app: string;
  confidence: AppConfidence;
  meta: FlowMeta;
  /** Nothing more will change: further input is ignored. */
  done: boolean;
}

export interface IdentifierLimits {
  /** TCP: bytes kept from the start of each direction's stream (probes see this prefix). */
  prefixBytes: number;
  /** Payload-bearing packets (both directions) after which an unidentified session gives up. */
  probePackets: number;
  /** Payload-bearing packets after identification during which refiners and the extractor still run. */
  extractPackets: number;
}

export const defaultLimits: IdentifierLimits = { prefixBytes: 4096, probePackets: 24, extractPackets: 32 };

type Phase = 'probing' | 'identified' | 'done';

const EMPTY = Buffer.alloc(0);
const NONE: readonly number[] = [];
const FIRST_PREFIX = 512;
const C2S = 0;
const S2C = 1;

/** Candidate states, one per registry entry. */
const ALIVE = 0;
const ELIMINATED = 1;
/** Not a candidate: wrong transport, or a refiner whose parent has not matched. */
const IDLE = 2;

/**
 * Identifies one session's application protocol from its payload. Holds the bounded stream
 * prefixes (TCP) or first datagrams (UDP) of both directions; everything else is counters.
 * An extractor's `false` ends its reading of that direction only: the request may be done
 * while the response is still to come.
 */
export class Identifier {
  private readonly ctx: ProbeContext;
  private readonly state: Uint8Array;
  /** See InitialStates.possible: shared by every session of this registry and transport. */
  private readonly possible: Uint8Array;
  private readonly refiners: ReadonlyMap<string, readonly number[]>;
  /** TCP stream prefixes, grown by doubling up to the cap, released when the session is done. */
  private readonly prefix: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
  private readonly used = [0, 0];
  /** The filled part of each prefix (TCP) or the first datagram (UDP), kept to avoid re-slicing. */
  private readonly seen: [Buffer, Buffer] = [EMPTY, EMPTY];
  /** TCP: a gap makes the rest of that direction's stream unusable for probing. */
  private readonly gapped = [false, false];
  private phase: Phase = 'probing';
  private packets = 0;
  private packetsSinceMatch = 0;
  private payloadSeen = false;
  private app: ProtocolModule | undefined;
  /** The parent when `app` is a refinement of it, so the parent's extractor can finish too. */
  private parent: ProtocolModule | undefined;
  private refining = false;
  /** Per direction: the extractor still wants input of that direction. */
  private extracting: [boolean, boolean] = [false, false];
  private parentExtracting: [boolean, boolean] = [false, false];
  private readonly meta: FlowMeta = {};

  constructor(
    private readonly transport: Transport,
    private readonly clientPort: number,
    private readonly serverPort: number,
    private readonly protocols: readonly ProtocolModule[] = registry,
    private readonly limits: IdentifierLimits = defaultLimits,
  ) {
    this.ctx = { transport, clientPort, serverPort, other: EMPTY };
    const initial = initialStates(protocols, transport);
    this.state = new Uint8Array(initial.state);
    this.possible = initial.possible;
    this.refiners = initial.refiners;
    if (!initial.anyAlive) this.phase = 'done';
  }

  /** New payload of one direction: in-order stream bytes (TCP) or one datagram (UDP). */
  feed(dir: Direction, data: Buffer): void {
    if (this.phase === 'done' || data.length === 0) return;
    const d = dir === 'c2s' ? C2S : S2C;
    this.payloadSeen = true;
    this.packets++;
    if (this.phase === 'identified') this.packetsSinceMatch++;
    const input = this.transport === 'tcp' ? this.appendStream(d, data) : this.datagram(d, data);
    if (input !== undefined) {
      this.ctx.other = this.seen[1 - d] as Buffer;
      if (this.phase === 'probing') this.probe(dir, input);
      else this.step(dir, d, input);
    }
    this.checkBudget();
  }

  /** Bytes of this direction were lost (TCP): its prefix stops growing. */
  feedGap(dir: Direction): void {
    if (this.transport !== 'tcp' || this.phase === 'done') return;
    this.gapped[dir === 'c2s' ? C2S : S2C] = true;
    this.checkBudget();
  }

  result(): Identification {
    const done = this.phase === 'done';
    if (this.app !== undefined) return { app: this.app.name, confidence: 'dpi', meta: this.meta, done };
    // A port is a guess, never evidence, and a session that carried nothing is not even a guess.
    const guess = this.payloadSeen ? this.portGuess() : undefined;
    return { app: guess?.name ?? 'unknown', confidence: guess ? 'port' : 'none', meta: this.meta, done };
  }

  /** Appends to the direction's prefix; undefined when nothing new can be added. */
  private appendStream(d: number, data: Buffer): Buffer | undefined {
    const used = this.used[d] as number;
    const cap = this.limits.prefixBytes;
    if (this.gapped[d] || used >= cap) return undefined;
    const n = Math.min(data.length, cap - used);
    let buf = this.prefix[d];
    if (buf === undefined || buf.length < used + n) {
      // Most sessions are identified from their first segment: start small, double as needed.
      let size = buf?.length ?? FIRST_PREFIX;
      while (size < used + n) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(size, cap));
      buf?.copy(grown, 0, 0, used);
      this.prefix[d] = buf = grown;
    }
    data.copy(buf, used, 0, n);
    this.used[d] = used + n;
    this.seen[d] = buf.subarray(0, used + n);
    return this.seen[d];
  }

  /** UDP: the datagram itself is the input; its first one per direction is kept for the other side. */
  private datagram(d: number, data: Buffer): Buffer {
    if (this.seen[d] === EMPTY) this.seen[d] = Buffer.from(data.subarray(0, this.limits.prefixBytes));
    return data;
  }

  private probe(dir: Direction, input: Buffer): void {
    let winner: ProtocolModule | undefined;
    let alive = 0;
    const n = this.protocols.length;
    const row = (((dir === 'c2s' ? C2S : S2C) << 8) | (input[0] as number)) * n;
    for (let i = 0; i < n; i++) {
      if (this.state[i] !== ALIVE) continue;
      if (this.possible[row + i] === 0) {
        // The module's declared first bytes rule this input out: its probe would answer 'no'.
        this.state[i] = ELIMINATED;
        continue;
      }
      const p = this.protocols[i] as ProtocolModule;
      // Once a protocol matched, the other candidates' states no longer matter: only one on its own
      // well-known port could still take its place, and nothing can take the place of one on its port.
      if (winner !== undefined && !this.onPort(p)) continue;
      const r = safeProbe(p, input, dir, this.ctx);
      if (r === 'no') {
        this.state[i] = ELIMINATED;
        continue;
      }
      alive++;
      if (r !== 'match') continue;
      // Registry order breaks ties, except that a protocol on its own well-known port wins: past the
      // first match, only such a one is probed, and it ends the search.
      const first = winner === undefined;
      winner = p;
      if (!first || this.onPort(p)) break;
    }
    if (winner !== undefined) this.identify(winner, dir, input);
    else if (alive === 0) this.finish();
  }

  private identify(p: ProtocolModule, dir: Direction, input: Buffer): void {
    this.app = p;
    this.phase = 'identified';
    this.extracting = [p.extract !== undefined, p.extract !== undefined];
    for (const i of this.refiners.get(p.name) ?? NONE) {
      this.state[i] = ALIVE;
      this.refining = true;
    }
    const d = dir === 'c2s' ? C2S : S2C;
    // The other direction may already hold what the extractor (or a refiner) needs.
    const other = this.seen[1 - d] as Buffer;
    if (other.length > 0) {
      this.ctx.other = input;
      this.step(dir === 'c2s' ? 's2c' : 'c2s', 1 - d, other);
      this.ctx.other = other;
    }
    this.step(dir, d, input);
  }

  /** One input after identification: refiners probe, then the extractors read. */
  private step(dir: Direction, d: number, input: Buffer): void {
    if (this.phase !== 'identified') return;
    if (this.refining) this.refine(dir, input);
    const app = this.app as ProtocolModule;
    if (this.extracting[d]) this.extracting[d] = safeExtract(app, input, dir, this.ctx, this.meta);
    if (this.parent !== undefined && this.parentExtracting[d]) {
      this.parentExtracting[d] = safeExtract(this.parent, input, dir, this.ctx, this.meta);
    }
    const wanting = this.extracting[C2S] || this.extracting[S2C] || this.parentExtracting[C2S] || this.parentExtracting[S2C];
    if (!this.refining && !wanting) this.finish();
  }

  private refine(dir: Direction, input: Buffer): void {
    const parent = this.app as ProtocolModule;
    let undecided = false;
    for (let i = 0; i < this.protocols.length; i++) {
      const q = this.protocols[i] as ProtocolModule;
      if (this.state[i] !== ALIVE || q.refines !== parent.name) continue;
      const r = safeProbe(q, input, dir, this.ctx);
      if (r === 'match') {
        // The parent's extractor keeps its budget: an upgraded HTTP session still has its request line.
        this.parent = parent;
        this.parentExtracting = this.extracting;
        this.app = q;
        const has = q.extract !== undefined;
        this.extracting = [has, has];
        this.refining = false;
        return;
      }
      if (r === 'no') this.state[i] = ELIMINATED;
      else undecided = true;
    }
    this.refining = undecided;
  }

  private checkBudget(): void {
    if (this.phase === 'probing' && (this.packets >= this.limits.probePackets || this.streamsFull())) this.finish();
    else if (this.phase === 'identified' && (this.packetsSinceMatch >= this.limits.extractPackets || this.streamsFull())) {
      this.finish();
    }
  }

  private onPort(p: ProtocolModule): boolean {
    return p.ports !== undefined && (p.ports.includes(this.serverPort) || p.ports.includes(this.clientPort));
  }

  /** A protocol whose well-known server port this session uses and whose probe did not rule it out. */
  private portGuess(): ProtocolModule | undefined {
    for (let i = 0; i < this.protocols.length; i++) {
      const p = this.protocols[i] as ProtocolModule;
      if (this.state[i] === ALIVE && p.ports?.includes(this.serverPort)) return p;
    }
    return undefined;
  }

  private streamsFull(): boolean {
    if (this.transport !== 'tcp') return false;
    const cap = this.limits.prefixBytes;
    return (this.gapped[C2S] || this.used[C2S] === cap) && (this.gapped[S2C] || this.used[S2C] === cap);
  }

  private finish(): void {
    this.phase = 'done';
    this.refining = false;
    // Nothing reads the prefixes any more: a long-lived session keeps only its result.
    this.prefix[C2S] = this.prefix[S2C] = undefined;
    this.seen[C2S] = this.seen[S2C] = EMPTY;
    this.ctx.other = EMPTY;
  }
}

interface InitialStates {
  state: Uint8Array;
  anyAlive: boolean;
  /**
   * Indexed by ((direction << 8 | first payload byte) * registry length + candidate): 0 where the
   * candidate's declared first bytes exclude that byte. Most probes are never called on a
   * session's first payload, which is most of the payload there is.
   */
  possible: Uint8Array;
  /** Parent name to the registry indices of the protocols refining it over this transport. */
  refiners: Map<string, number[]>;
}

/** Per registry and transport, the candidate states every session starts from: worked out once, copied per session. */
const initialByRegistry = new WeakMap<readonly ProtocolModule[], Map<Transport, InitialStates>>();

function initialStates(protocols: readonly ProtocolModule[], transport: Transport): InitialStates {
  let byTransport = initialByRegistry.get(protocols);
  if (byTransport === undefined) {
    byTransport = new Map();
    initialByRegistry.set(protocols, byTransport);
  }
  let initial = byTransport.get(transport);
  if (initial === undefined) {
    const state = Uint8Array.from(protocols, (p) => (p.refines === undefined && p.transports.includes(transport) ? ALIVE : IDLE));
    const refiners = new Map<string, number[]>();
    protocols.forEach((p, i) => {
      if (p.refines === undefined || !p.transports.includes(transport)) return;
      refiners.set(p.refines, [...(refiners.get(p.refines) ?? []), i]);
    });
    initial = { state, anyAlive: state.includes(ALIVE), possible: possibleFor(protocols), refiners };
    byTransport.set(transport, initial);
  }
  return initial;
}

/** The first-byte table does not depend on the transport: one per registry. */
const possibleByRegistry = new WeakMap<readonly ProtocolModule[], Uint8Array>();

function possibleFor(protocols: readonly ProtocolModule[]): Uint8Array {
  let possible = possibleByRegistry.get(protocols);
  if (possible === undefined) {
    possible = firstBytePossibilities(protocols);
    possibleByRegistry.set(protocols, possible);
  }
  return possible;
}

function firstBytePossibilities(protocols: readonly ProtocolModule[]): Uint8Array {
  const n = protocols.length;
  const possible = new Uint8Array(2 * 256 * n).fill(1);
  const declaredHere = new Uint8Array(256);
  protocols.forEach((p, i) => {
    const declared = [p.firstBytes?.c2s, p.firstBytes?.s2c];
    declared.forEach((bytes, d) => {
      if (bytes === undefined) return;
      declaredHere.fill(0);
      for (const b of bytes) declaredHere[b] = 1;
      for (let b = 0; b < 256; b++) if (declaredHere[b] === 0) possible[((d << 8) | b) * n + i] = 0;
    });
  });
  return possible;
}

// A module that throws is a bug in that module, but one bad probe must not take the session table
// down with it: a throw counts as 'no' (or "wants nothing more" for an extractor).
function safeProbe(p: ProtocolModule, data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  try {
    return p.probe(data, dir, ctx);
  } catch {
    return 'no';
  }
}

function safeExtract(p: ProtocolModule, data: Buffer, dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean {
  try {
    return (p.extract as NonNullable<ProtocolModule['extract']>)(data, dir, ctx, meta);
  } catch {
    return false;
  }
}
