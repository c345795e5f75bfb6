// Sink: events POSTed as JSON to an HTTP endpoint (a SOAR, a chat bridge, a ticketing hook).
// Delivery is retried with exponential backoff and jitter on network errors, timeouts, 5xx and
// 429; any other answer is final. Events wait in a bounded queue: when it is full the oldest go.
//
// API: new WebhookSink({ url, batchSize?, ... }); write(event); await close();
//      batchSize 1 posts one event object per request, more posts a JSON array of up to that many.
//      stats: delivered, dropped (queue full), failed (given up), retries, rejected (4xx answers).

import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { Event } from './event.js';
import { emptyDeliveryStats, eventJson, type DeliveryStats, type EventSink } from './sink.js';

export interface WebhookOptions {
  url: string;
  batchSize: number;
  /** Events waiting for delivery; beyond, the oldest are dropped. */
  maxQueue: number;
  /** One attempt may take this long before it counts as failed. */
  timeoutMs: number;
  /** Attempts per batch, the first included. */
  maxAttempts: number;
  retry: BackoffOptions;
  /** Extra request headers (Authorization, ...). */
  headers: Record<string, string>;
  /** How long close() keeps trying before it gives up on what is left. */
  closeTimeoutMs: number;
  /** Jitter source; injectable for tests. */
  random: () => number;
}

export const DEFAULT_WEBHOOK_OPTIONS: Omit<WebhookOptions, 'url'> = {
  batchSize: 1,
  maxQueue: 1000,
  timeoutMs: 5_000,
  maxAttempts: 5,
  retry: { baseMs: 500, maxMs: 30_000 },
  headers: {},
  closeTimeoutMs: 30_000,
  random: Math.random,
};

export interface WebhookStats extends DeliveryStats {
  /** Attempts after the first, over all batches. */
  retries: number;
  /** Events the endpoint refused with a final 4xx (or a redirect, which is never followed). */
  rejected: number;
}

type Outcome = { kind: 'ok' } | { kind: 'final'; status: number } | { kind: 'retry'; afterMs?: number };

export class WebhookSink implements EventSink {
  readonly stats: WebhookStats = { ...emptyDeliveryStats(), retries: 0, rejected: 0 };
  private readonly options: WebhookOptions;
  private readonly queue: Event[] = [];
  private worker: Promise<void> | undefined;
  /** Aborted when close() runs out of time: cuts the current attempt and any backoff wait. */
  private readonly stop = new AbortController();
  private closing = false;

  constructor(options: Pick<WebhookOptions, 'url'> & Partial<WebhookOptions>) {
    this.options = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
  }

  write(event: Event): void {
    if (this.closing) throw new Error(`webhook ${this.options.url}: event sink is closed`);
    if (this.queue.length >= this.options.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push(event);
    // Started after the current synchronous burst of writes, so they can share a batch.
    this.worker ??= Promise.resolve().then(() => this.run());
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.worker === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.stop.abort();
        resolve();
      }, this.options.closeTimeoutMs);
    });
    await Promise.race([this.worker, timeout]);
    clearTimeout(timer);
    await this.worker;
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      if (this.stop.signal.aborted) this.stats.failed += batch.length;
      else await this.deliver(batch);
    }
    this.worker = undefined;
  }

  private async deliver(batch: Event[]): Promise<void> {
    const body = this.options.batchSize === 1 ? eventJson(batch[0]) : `[${batch.map(eventJson).join(',')}]`;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.post(body);
      if (outcome.kind === 'ok') {
        this.stats.delivered += batch.length;
        return;
      }
      if (outcome.kind === 'final') {
        this.stats.rejected += batch.length;
        this.stats.failed += batch.length;
        return;
      }
      if (attempt >= this.options.maxAttempts || this.stop.signal.aborted) {
        this.stats.failed += batch.length;
        return;
      }
      const backoff = backoffDelay(attempt, this.options.retry, this.options.random);
      await this.pause(Math.min(this.options.retry.maxMs, Math.max(backoff, outcome.afterMs ?? 0)));
      this.stats.retries++;
    }
  }

  private async post(body: string): Promise<Outcome> {
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'palisade', ...this.options.headers },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      // Read the answer to the end so the connection can be reused.
      await response.arrayBuffer();
      if (response.status >= 200 && response.status < 300) return { kind: 'ok' };
      if (response.status === 429 || response.status >= 500) return { kind: 'retry', afterMs: retryAfterMs(response.headers.get('retry-after')) };
      return { kind: 'final', status: response.status };
    } catch {
      return { kind: 'retry' };
    }
  }

  private pause(ms: number): Promise<void> {
    const signal = this.stop.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}

/** Retry-After in seconds (the HTTP-date form is rare from webhooks and is ignored). */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}
