// Packets to Flow records: the packet pipeline's sessions, each with an Identifier, become the
// Flow shape of DESIGN.md when they end. DNS answers seen on the wire feed a name map that fqdn
// groups resolve through.

import type { Flow, IpProto } from '../model/flow.js';
import { runPipeline, PacketPipeline, type PipelineOptions, type PipelineStats, type Session, type SessionSink } from '../packet/index.js';
import type { CaptureInput } from '../packet/index.js';
import { Identifier, defaultLimits, type IdentifierLimits } from './engine.js';
import { DnsNames } from './dns-names.js';
import type { Transport } from './types.js';

export interface InspectOptions {
  packet?: PipelineOptions;
  identify?: Partial<IdentifierLimits>;
  /** Receives the name map's updates; a fresh one is made when absent. */
  dns?: DnsNames;
}

const TRANSPORTS: Partial<Record<IpProto, Transport>> = { tcp: 'tcp', udp: 'udp', sctp: 'sctp' };

/** `00.` to `59.` and `000Z` to `999Z`: the ends of an ISO time, so a Flow time is two concatenations. */
const SECONDS = Array.from({ length: 60 }, (_, s) => `${String(s).padStart(2, '0')}.`);
const MILLIS_Z = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z`);
/** Date's range, milliseconds either side of the epoch. */
const MAX_DATE_MS = 8.64e15;
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
/** Days in 400 Gregorian years, and from 0000-03-01 (the start of a 400-year era) to 1970-01-01. */
const DAYS_PER_ERA = 146_097;
const ERA_START_TO_EPOCH = 719_468;

/**
 * `YYYY-MM-DDTHH:MM:` of a minute since the epoch, as Date#toISOString writes it. The calendar is
 * worked out in 400-year eras whose years start in March, so the leap day ends a year; a Date
 * (about a microsecond, and every capture starts a new clock) is only made outside years 0 to 9999,
 * which it writes with a sign.
 */
export function minuteText(minute: number): string {
  const days = Math.floor(minute / 1440);
  const inDay = minute - days * 1440;
  const shifted = days + ERA_START_TO_EPOCH;
  const era = Math.floor(shifted / DAYS_PER_ERA);
  const dayOfEra = shifted - era * DAYS_PER_ERA;
  // Every 4th year has 366 days, except every 100th, except every 400th (the era's last day).
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  // Months from March: 31, 30, 31, 30, 31 days repeating, so five months take 153 days.
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = era * 400 + yearOfEra + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return new Date(minute * 60_000).toISOString().slice(0, -7);
  const hour = Math.floor(inDay / 60);
  return `${String(year).padStart(4, '0')}-${TWO_DIGITS[month] as string}-${TWO_DIGITS[day] as string}T${TWO_DIGITS[hour] as string}:${TWO_DIGITS[inDay - hour * 60] as string}:`;
}

/**
 * ISO 8601 text of packet times (microseconds). The sessions of a capture end close together, so
 * the date and time up to the minute is worked out once per minute and the rest comes from tables.
 */
class IsoClock {
  private minute = Number.NaN;
  /** `YYYY-MM-DDTHH:MM:` of `minute`. */
  private head = '';
  /** `YYYY-MM-DDTHH:MM:SS.` of `second` (milliseconds since the epoch, whole seconds). */
  private second = Number.NaN;
  private secondHead = '';
  /** The last time formatted and its text: a one-packet session starts and ends at the same time. */
  private lastUs = Number.NaN;
  private lastText = '';

  format(us: number): string {
    if (us === this.lastUs) return this.lastText;
    this.lastUs = us;
    this.lastText = this.text(us);
    return this.lastText;
  }

  private text(us: number): string {
    // A capture can claim any time (pcapng timestamps are 64-bit): beyond what a Date can hold,
    // the flow gets the nearest time that can be written rather than ending the whole read.
    const ms = Math.min(MAX_DATE_MS, Math.max(-MAX_DATE_MS, Math.floor(us / 1000)));
    const minute = Math.floor(ms / 60_000);
    if (minute !== this.minute) {
      this.head = minuteText(minute);
      this.minute = minute;
    }
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.secondHead = this.head + (SECONDS[second - minute * 60] as string);
      this.second = second;
    }
    return this.secondHead + (MILLIS_Z[ms - second * 1000] as string);
  }
}

/** A SessionSink that identifies each session and hands a Flow to `onFlow` when it ends. */
export class FlowBuilder implements SessionSink {
  private readonly limits: IdentifierLimits;
  private readonly clock = new IsoClock();
  readonly dns: DnsNames;

  constructor(private readonly onFlow: (flow: Flow) => void, opts: InspectOptions = {}) {
    this.limits = { ...defaultLimits, ...opts.identify };
    this.dns = opts.dns ?? new DnsNames();
  }

  private identifier(s: Session): Identifier | undefined {
    if (s.user instanceof Identifier) return s.user;
    const transport = TRANSPORTS[s.ipProto];
    if (transport === undefined) return undefined;
    const id = new Identifier(transport, s.client.port, s.server.port, undefined, this.limits);
    s.user = id;
    return id;
  }

  onPayload(s: Session, dir: 'c2s' | 's2c', data: Buffer): void {
    this.identifier(s)?.feed(dir, data);
  }

  onGap(s: Session, dir: 'c2s' | 's2c'): void {
    this.identifier(s)?.feedGap(dir);
  }

  onEnd(s: Session): void {
    const id = s.user instanceof Identifier ? s.user.result() : undefined;
    const meta = id?.meta ?? {};
    if (meta.dnsAnswers) this.dns.learn(meta.dnsAnswers);
    // The session has ended and nothing updates it any more: its endpoints and counters become the Flow's.
    const flow: Flow = {
      id: `${s.id}`,
      firstSeen: this.clock.format(s.firstTs),
      lastSeen: this.clock.format(s.lastTs),
      ipProto: s.ipProto,
      client: s.client,
      server: s.server,
      app: id?.app ?? 'unknown',
      appConfidence: id?.confidence ?? 'none',
      meta,
      c2s: s.c2s,
      s2c: s.s2c,
    };
    if (s.vlan !== undefined) flow.vlan = s.vlan;
    s.user = undefined;
    this.onFlow(flow);
  }
}

/** Reads a whole capture; each session becomes a Flow passed to `onFlow` as it ends. */
export function inspect(input: CaptureInput, onFlow: (flow: Flow) => void, opts: InspectOptions = {}): Promise<PipelineStats> {
  return runPipeline(input, new FlowBuilder(onFlow, opts), opts.packet);
}

/** The same pipeline for callers that push capture records themselves (the live tap). */
export function flowPipeline(onFlow: (flow: Flow) => void, opts: InspectOptions = {}): PacketPipeline {
  return new PacketPipeline(new FlowBuilder(onFlow, opts), opts.packet);
}

/** All flows of a capture, in the order their sessions ended. For tests and small inputs. */
export async function* inspectCapture(input: CaptureInput, opts: InspectOptions = {}): AsyncGenerator<Flow> {
  const flows: Flow[] = [];
  await inspect(input, (f) => flows.push(f), opts);
  yield* flows;
}
