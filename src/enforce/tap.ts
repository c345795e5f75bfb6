// The agent's passive tap (DESIGN.md: monitor and discover need no inline path): live capture on
// the node's interface (the pod bridge), every session identified from its payload and decided
// with the whole policy, application included. It never blocks. It reports what the kernel and
// the L7 proxy do not: violations of sessions where no side is in protect (monitor alerts, denies
// outside protect), with the application and the packet that settled the decision; and, for
// discover, every flow as a Flow JSON line that `palisade learn` takes as input.
//
// A session is decided once: at its first packet when no rule naming applications could change
// the verdict, else once DPI has identified the application (or given up), at the latest when the
// session ends. Sessions with a protect side are left to the kernel and the proxy, which block.

import { CaptureParser, type Packet } from '../packet/index.js';
import { PacketPipeline } from '../packet/pipeline.js';
import type { Direction, EndReason, Session, SessionSink } from '../packet/session.js';
import { startLiveCapture, type LiveCapture } from '../packet/live.js';
import { FlowBuilder } from '../dpi/flows.js';
import { Identifier } from '../dpi/engine.js';
import type { Flow } from '../model/flow.js';
import type { Verdict } from '../model/verdict.js';
import { SAMPLE_LIMITS } from '../events/index.js';
import type { Violation, ViolationEndpoint } from './violations.js';
import type { ProxyPolicy } from './proxy/proxy.js';
import { connectionOf } from './proxy/decision.js';

/** Frames kept for undecided sessions at once (one each): beyond it a decision has no sample. */
const MAX_HELD_FRAMES = 10_000;
/** How often sessions idle past their timeout are ended while traffic is quiet. */
const EXPIRE_EVERY_MS = 1000;
/** How often violations waiting for an application are checked. */
const TICK_MS = 100;

/** How long a decided violation waits for DPI to name the application before it is reported. */
const REPORT_WAIT_MS = 1000;

interface HeldFrame {
  linkType: number;
  tsUs: number;
  origLen: number;
  data: Buffer;
}

interface TapState {
  decided: boolean;
  /** A violation decided, waiting (briefly) for the application before it is reported. */
  waiting?: { verdict: Verdict; due: number };
  /** Evidence, copied: the session's first frame, then its first frame with payload. */
  frames?: HeldFrame[];
}

export interface TapOptions {
  interface: string;
  netns?: string;
  /** The policy in force (asked per decision, so a reload takes effect at once). */
  policy: () => ProxyPolicy;
  onViolation: (v: Violation) => void;
  /** Every flow as it ends (for discover's learned candidates). */
  onFlow?: (f: Flow) => void;
}

export interface TapStats {
  sessions: number;
  decided: number;
  violations: number;
  /** Sessions with a protect side, left to the kernel and the proxy. */
  leftToEnforcement: number;
}

export interface Tap {
  stop(): Promise<void>;
  stats(): TapStats;
  /** Settles when the capture ends, whoever ended it. */
  readonly ended: Promise<void>;
}

/** Decides sessions as the capture delivers them (exported for tests that feed recorded traffic). */
export class TapSink implements SessionSink {
  private readonly flows: FlowBuilder;
  private readonly states = new WeakMap<Session, TapState>();
  private held = 0;
  /** Violations decided and waiting (at most REPORT_WAIT_MS) for DPI to name the application. */
  private readonly waiting = new Map<Session, TapState>();
  readonly counts: TapStats = { sessions: 0, decided: 0, violations: 0, leftToEnforcement: 0 };

  constructor(private readonly opts: Pick<TapOptions, 'policy' | 'onViolation' | 'onFlow'>) {
    this.flows = new FlowBuilder((f) => opts.onFlow?.(f));
  }

  onPacket(s: Session, _dir: Direction, pkt: Packet): void {
    let st = this.states.get(s);
    if (st === undefined) {
      st = { decided: false };
      this.states.set(s, st);
      this.counts.sessions++;
    }
    if (st.decided && st.waiting === undefined) return;
    const frames = st.frames;
    const wanted = frames === undefined ? this.held < MAX_HELD_FRAMES : frames.length === 1 && pkt.payloadEnd > pkt.payloadAt;
    if (wanted) {
      const bytes = pkt.frame;
      const frame = { linkType: pkt.linkType, tsUs: pkt.ts, origLen: bytes.length, data: Buffer.from(bytes.subarray(0, SAMPLE_LIMITS.snapLen)) };
      if (frames === undefined) {
        this.held++;
        st.frames = [frame];
      } else frames.push(frame);
    }
    if (st.decided) return;
    // Only rules naming applications wait for the payload; anything else is decided now.
    const first = this.verdict(s, undefined, true);
    if (first.pending !== true) this.settle(s, st, first);
  }

  onPayload(s: Session, dir: Direction, data: Buffer): void {
    this.flows.onPayload(s, dir, data);
    const st = this.states.get(s);
    if (st === undefined || !(s.user instanceof Identifier)) return;
    const r = s.user.result();
    if (r.confidence !== 'dpi' && !r.done) return;
    if (!st.decided) this.settle(s, st, this.verdict(s, r.confidence === 'dpi' ? r.app.toLowerCase() : undefined, false));
    else if (st.waiting !== undefined) this.report(s, st);
  }

  /** Reports the violations that waited long enough for an application (the tap's ticker). */
  flushDue(nowMs: number): void {
    for (const [s, st] of this.waiting) {
      if (st.waiting !== undefined && st.waiting.due <= nowMs) this.report(s, st);
    }
  }


  onGap(s: Session, dir: Direction): void {
    this.flows.onGap(s, dir);
  }

  onEnd(s: Session, _reason: EndReason): void {
    const st = this.states.get(s);
    if (st !== undefined && !st.decided) {
      const r = s.user instanceof Identifier ? s.user.result() : undefined;
      this.settle(s, st, this.verdict(s, r?.confidence === 'dpi' ? r.app.toLowerCase() : undefined, false));
    }
    if (st?.waiting !== undefined) this.report(s, st);
    this.flows.onEnd(s);
  }

  private verdict(s: Session, app: string | undefined, pending: boolean): Verdict {
    return this.opts.policy().decide(connectionOf(s.ipProto, s.client, s.server, Math.floor(s.firstTs / 1000), app, pending));
  }

  private settle(s: Session, st: TapState, verdict: Verdict): void {
    st.decided = true;
    this.counts.decided++;
    if (verdict.perimeters.some((p) => p.mode === 'protect')) {
      this.counts.leftToEnforcement++;
      this.drop(st);
      return;
    }
    if (!verdict.violation) {
      this.drop(st);
      return;
    }
    st.waiting = { verdict, due: Date.now() + REPORT_WAIT_MS };
    this.waiting.set(s, st);
    const r = s.user instanceof Identifier ? s.user.result() : undefined;
    if (r !== undefined && (r.confidence === 'dpi' || r.done)) this.report(s, st);
  }

  private drop(st: TapState): void {
    if (st.frames !== undefined) this.held--;
    st.frames = undefined;
  }

  /** The violation as known now: the application if DPI named it, the frame that was kept. */
  private report(s: Session, st: TapState): void {
    const waiting = st.waiting;
    if (waiting === undefined) return;
    st.waiting = undefined;
    this.waiting.delete(s);
    const frames = st.frames ?? [];
    this.drop(st);
    const verdict = waiting.verdict;
    this.counts.violations++;
    const at = Math.floor(s.firstTs / 1000);
    const policy = this.opts.policy();
    const end = (e: Session['client']): ViolationEndpoint => {
      const w = policy.workloadAt(e.ip, at);
      return w === undefined ? { ip: e.ip, port: e.port } : { ip: e.ip, port: e.port, workload: w };
    };
    const id = s.user instanceof Identifier ? s.user.result() : undefined;
    const identified = id?.confidence === 'dpi';
    const v: Violation = {
      time: new Date(at).toISOString(),
      protocol: s.ipProto,
      client: end(s.client),
      server: end(s.server),
      ruleId: verdict.ruleId,
      action: 'alert',
      app: identified ? (id?.app ?? 'unknown').toLowerCase() : 'unknown',
      appConfidence: identified ? 'dpi' : 'none',
      mode: verdict.mode,
      reason: verdict.reason,
    };
    const first = frames[0];
    if (first !== undefined) {
      v.sample = { linkType: first.linkType, frames: frames.filter((f) => f.linkType === first.linkType).map((f) => ({ tsUs: f.tsUs, origLen: f.origLen, data: f.data.toString('base64') })) };
    }
    this.opts.onViolation(v);
  }
}

/** Starts tcpdump on the interface and decides every session it sees until stop(). */
export async function startTap(opts: TapOptions): Promise<Tap> {
  const capture: LiveCapture = await startLiveCapture({ interface: opts.interface, ...(opts.netns !== undefined ? { netns: opts.netns } : {}) });
  const sink = new TapSink(opts);
  const pipeline = new PacketPipeline(sink);
  const parser = new CaptureParser();
  let lastUs = 0;
  let ticks = 0;
  const ticker = setInterval(() => {
    sink.flushDue(Date.now());
    if (++ticks % (EXPIRE_EVERY_MS / TICK_MS) === 0 && lastUs > 0) pipeline.expire(Math.max(lastUs, Date.now() * 1000));
  }, TICK_MS);
  // Never rejects: a broken capture ends the tap, not the agent (which says so).
  const ended = (async () => {
    for await (const chunk of capture.pcap as AsyncIterable<Buffer>) {
      parser.push(chunk, (r) => {
        lastUs = r.ts;
        pipeline.record(r);
      });
    }
    parser.end();
    await capture.ended;
  })()
    .catch(() => undefined)
    .finally(() => {
      clearInterval(ticker);
      pipeline.finish();
    });
  return {
    ended,
    stats: () => ({ ...sink.counts }),
    async stop() {
      await capture.stop().catch(() => undefined);
      await ended;
    },
  };
}
