// Between the producers of events (agent, inspectors) and the sinks: a scan or a flood must become a
// few events with counts, not thousands of lines. Attempts with the same key merge within a window;
// a global token bucket caps what reaches the sinks; what the bucket holds back is still reported.
//
// API: const agg = new Aggregator(options, emit); agg.push(event); agg.tick(); agg.flush().
//   - The first attempt of a key is emitted at once; later ones within `windowMs` merge into one
//     event emitted when the window ends, so a key yields at most one event per window after that.
//   - The key is (kind, action, rule, protocol, client workload or ip, server workload or ip,
//     finding name): the server port is not in it, so a port scan is one event with `serverPorts`.
//   - An aggregate due while the bucket is empty waits (counted in `deferred`); when the key table
//     is full the oldest key is flushed, into a summary event (one per kind and action) if there is
//     no token. flush() emits what tokens allow, then every summary: no attempt is ever lost, and
//     at most burst + rate × elapsed + (summary events) are emitted.

import { randomUUID } from 'node:crypto';
import { strictestMode } from '../model/policy.js';
import type { Event, EventAction, EventKind } from './event.js';

export interface AggregateOptions {
  /** Attempts of one key within this window become one event. */
  windowMs: number;
  /** Global token bucket: events per second reaching the sinks ... */
  rate: number;
  /** ... and how many may go out at once. */
  burst: number;
  /** Keys tracked at once; beyond, the oldest is flushed. */
  maxKeys: number;
  /** Distinct server ports listed in one event. */
  maxPorts: number;
  /** Milliseconds; injectable for tests. */
  clock: () => number;
}

export const DEFAULT_AGGREGATE_OPTIONS: AggregateOptions = {
  windowMs: 10_000,
  rate: 20,
  burst: 100,
  maxKeys: 10_000,
  maxPorts: 64,
  clock: Date.now,
};

export interface AggregateStats {
  /** Attempts pushed (sum of the pushed events' counts). */
  received: number;
  /** Events handed to the sinks. */
  emitted: number;
  /** Aggregates that were due but waited for a token. */
  deferred: number;
  /** Attempts reported only through summary events. */
  summarized: number;
  /** Keys flushed early because the key table was full. */
  evicted: number;
}

interface Slot {
  /** The pending aggregate; undefined while the key is quiet after an emission. */
  event: Event | undefined;
  ports: Set<number>;
  portsTruncated: boolean;
  /** When the pending aggregate goes out, or the quiet slot is forgotten. */
  dueAt: number;
  held: boolean;
}

interface Summary {
  event: Event;
  aggregates: number;
}

/** The merge key: what makes two attempts "the same" for an analyst. */
export function eventKey(e: Event): string {
  const side = (p: Event['client']): string => (p.workload !== undefined ? `w:${p.workload}` : `ip:${p.ip}`);
  return [e.kind, e.action, e.ruleId, e.ipProto, side(e.client), side(e.server), e.finding?.name ?? ''].join('\u0000');
}

const earlier = (a: string, b: string): string => (Date.parse(b) < Date.parse(a) ? b : a);
const later = (a: string, b: string): string => (Date.parse(b) > Date.parse(a) ? b : a);

export class Aggregator {
  readonly stats: AggregateStats = { received: 0, emitted: 0, deferred: 0, summarized: 0, evicted: 0 };
  private readonly options: AggregateOptions;
  /** Insertion order is dueAt order: every change of dueAt re-inserts the slot at the end. */
  private readonly slots = new Map<string, Slot>();
  private readonly summaries = new Map<string, Summary>();
  private tokens: number;
  private refilledAt: number;

  constructor(
    options: Partial<AggregateOptions>,
    private readonly emit: (e: Event) => void,
  ) {
    this.options = { ...DEFAULT_AGGREGATE_OPTIONS, ...options };
    this.tokens = this.options.burst;
    this.refilledAt = this.options.clock();
  }

  /** Keys currently tracked (quiet ones included). */
  get keys(): number {
    return this.slots.size;
  }

  push(input: Event): void {
    const now = this.options.clock();
    this.tick(now);
    this.stats.received += input.count;
    const key = eventKey(input);
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.merge(slot, input);
      return;
    }
    if (this.slots.size >= this.options.maxKeys) this.evictOldest();
    const fresh: Slot = { event: undefined, ports: new Set(), portsTruncated: false, dueAt: now + this.options.windowMs, held: false };
    this.slots.set(key, fresh);
    this.merge(fresh, input);
    if (this.takeToken()) this.send(fresh);
  }

  /** Emits what is due at the clock's time; the pipeline calls it on a timer. */
  tick(now = this.options.clock()): void {
    this.refill(now);
    for (const [key, slot] of this.slots) {
      if (slot.dueAt > now) break;
      if (slot.event === undefined) {
        this.slots.delete(key);
        continue;
      }
      if (!this.takeToken()) {
        if (!slot.held) this.stats.deferred++;
        slot.held = true;
        break;
      }
      this.send(slot);
      this.slots.delete(key);
      slot.dueAt = now + this.options.windowMs;
      this.slots.set(key, slot);
    }
    for (const [key, summary] of this.summaries) {
      if (!this.takeToken()) break;
      this.summaries.delete(key);
      this.sendSummary(summary);
    }
  }

  /** Emits everything pending: aggregates while tokens last, the rest through summary events. */
  flush(): void {
    this.tick();
    for (const slot of this.slots.values()) {
      if (slot.event === undefined) continue;
      if (this.takeToken()) this.send(slot);
      else this.summarize(slot);
    }
    this.slots.clear();
    for (const summary of this.summaries.values()) this.sendSummary(summary);
    this.summaries.clear();
  }

  private refill(now: number): void {
    if (now <= this.refilledAt) return;
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.refilledAt) * this.options.rate) / 1000);
    this.refilledAt = now;
  }

  private takeToken(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private merge(slot: Slot, input: Event): void {
    this.addPorts(slot, input);
    const current = slot.event;
    if (current === undefined) {
      slot.event = { ...input };
      return;
    }
    current.count += input.count;
    current.firstSeen = earlier(current.firstSeen, input.firstSeen);
    current.lastSeen = later(current.lastSeen, input.lastSeen);
    if (current.sample === undefined && input.sample !== undefined) current.sample = input.sample;
  }

  private addPorts(slot: Slot, input: Event): void {
    const ports = input.serverPorts ? [input.server.port, ...input.serverPorts.ports] : [input.server.port];
    if (input.serverPorts?.truncated) slot.portsTruncated = true;
    for (const port of ports) {
      if (slot.ports.has(port)) continue;
      if (slot.ports.size < this.options.maxPorts) slot.ports.add(port);
      else slot.portsTruncated = true;
    }
  }

  /** Hands the slot's aggregate to the sinks and leaves the slot quiet. */
  private send(slot: Slot): void {
    const event = slot.event;
    if (event === undefined) return;
    if (slot.ports.size > 1 || slot.portsTruncated) {
      event.serverPorts = { ports: [...slot.ports].sort((a, b) => a - b), truncated: slot.portsTruncated };
    }
    slot.event = undefined;
    slot.ports = new Set();
    slot.portsTruncated = false;
    slot.held = false;
    this.stats.emitted++;
    this.emit(event);
  }

  private evictOldest(): void {
    const oldest = this.slots.entries().next();
    if (oldest.done) return;
    const [key, slot] = oldest.value;
    this.slots.delete(key);
    this.stats.evicted++;
    if (slot.event === undefined) return;
    if (this.takeToken()) this.send(slot);
    else this.summarize(slot);
  }

  /** Folds an aggregate the limits held back into the summary of its kind and action. */
  private summarize(slot: Slot): void {
    const e = slot.event;
    if (e === undefined) return;
    slot.event = undefined;
    this.stats.summarized += e.count;
    const key = `${e.kind}/${e.action}`;
    const summary = this.summaries.get(key);
    if (summary === undefined) {
      this.summaries.set(key, { event: summaryEvent(e.kind, e.action, e), aggregates: 1 });
      return;
    }
    const s = summary.event;
    summary.aggregates++;
    s.count += e.count;
    s.firstSeen = earlier(s.firstSeen, e.firstSeen);
    s.lastSeen = later(s.lastSeen, e.lastSeen);
    if (s.ipProto !== e.ipProto) s.ipProto = 'other';
    s.mode = strictestMode([s.mode, e.mode]) ?? s.mode;
  }

  private sendSummary(summary: Summary): void {
    const event = summary.event;
    event.summary = { aggregates: summary.aggregates };
    event.reason = `rate limit: ${event.count} attempts in ${summary.aggregates} aggregates reported only as this summary`;
    this.stats.emitted++;
    this.emit(event);
  }
}

function summaryEvent(kind: EventKind, action: EventAction, first: Event): Event {
  return {
    id: randomUUID(),
    kind,
    firstSeen: first.firstSeen,
    lastSeen: first.lastSeen,
    client: { ip: '*', port: 0 },
    server: { ip: '*', port: 0 },
    ipProto: first.ipProto,
    app: 'unknown',
    appConfidence: 'none',
    ruleId: '*',
    mode: first.mode,
    action,
    reason: '',
    count: first.count,
  };
}
