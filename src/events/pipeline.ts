// The front door of src/events: producers push events, the aggregator merges and rate-limits them,
// and every sink receives what comes out. The agent and `palisade demo` hold one pipeline.
//
// API: const events = new EventPipeline(aggregateOptions, sinks); events.push(event);
//      await events.close();   // flushes the aggregates, then closes every sink
// A sink that throws or rejects is counted in stats.sinkErrors (and reported to onError); it never
// stops the others or the producer.

import { Aggregator, DEFAULT_AGGREGATE_OPTIONS, type AggregateOptions, type AggregateStats } from './aggregate.js';
import type { Event } from './event.js';
import type { EventSink } from './sink.js';

export interface PipelineOptions extends AggregateOptions {
  /** How often due aggregates are emitted without waiting for the next push; 0 = never. */
  tickMs: number;
  onError: (error: unknown, sink: EventSink) => void;
}

export interface PipelineStats extends AggregateStats {
  sinkErrors: number;
  /** Events a sink did not get because it already had too many writes in flight. */
  sinkOverflow: number;
}

/** Writes one sink may have unsettled; beyond, events for it are dropped and counted. */
const MAX_IN_FLIGHT = 1024;

export class EventPipeline {
  private readonly aggregator: Aggregator;
  private readonly inFlight = new Map<EventSink, Set<Promise<void>>>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onError: (error: unknown, sink: EventSink) => void;
  private sinkErrors = 0;
  private sinkOverflow = 0;
  private closed = false;

  constructor(
    options: Partial<PipelineOptions>,
    private readonly sinks: readonly EventSink[],
  ) {
    this.aggregator = new Aggregator(options, (e) => this.deliver(e));
    this.onError = options.onError ?? (() => undefined);
    for (const sink of sinks) this.inFlight.set(sink, new Set());
    // Held-back aggregates need a tick to leave even when nothing is pushed, whatever the window.
    const tickMs = options.tickMs ?? Math.max(10, Math.min(1000, options.windowMs ?? DEFAULT_AGGREGATE_OPTIONS.windowMs));
    if (tickMs > 0) {
      this.timer = setInterval(() => this.aggregator.tick(), tickMs);
      this.timer.unref();
    }
  }

  get stats(): PipelineStats {
    return { ...this.aggregator.stats, sinkErrors: this.sinkErrors, sinkOverflow: this.sinkOverflow };
  }

  push(event: Event): void {
    if (this.closed) return;
    this.aggregator.push(event);
  }

  /** Emits everything pending, waits for the sinks' writes, then closes the sinks. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.aggregator.flush();
    for (const pending of this.inFlight.values()) await Promise.allSettled([...pending]);
    await Promise.all(
      this.sinks.map((sink) =>
        sink.close().catch((error: unknown) => {
          this.failed(error, sink);
        }),
      ),
    );
  }

  private deliver(event: Event): void {
    for (const sink of this.sinks) {
      const pending = this.inFlight.get(sink);
      if (pending === undefined) continue;
      if (pending.size >= MAX_IN_FLIGHT) {
        this.sinkOverflow++;
        continue;
      }
      try {
        const result = sink.write(event);
        if (result === undefined) continue;
        const tracked: Promise<void> = result.then(
          () => {
            pending.delete(tracked);
          },
          (error: unknown) => {
            pending.delete(tracked);
            this.failed(error, sink);
          },
        );
        pending.add(tracked);
      } catch (error) {
        this.failed(error, sink);
      }
    }
  }

  private failed(error: unknown, sink: EventSink): void {
    this.sinkErrors++;
    this.onError(error, sink);
  }
}
