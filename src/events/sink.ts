// The seam between the event pipeline and where events end up (a file, syslog, a webhook, the
// store). One implementation per file; config.ts opens them from the sinks section.
//
// A sink bounds its own memory: write() never blocks the agent, so a sink that cannot keep up
// drops its oldest pending events and counts them.

import type { Event } from './event.js';

export interface EventSink {
  /** Accepts one event; a returned promise settles when the sink is done with it. */
  write(event: Event): void | Promise<void>;
  /** Delivers or gives up on what is pending, then releases files and sockets. */
  close(): Promise<void>;
}

/** Counters every network sink keeps, for the agent's health report. */
export interface DeliveryStats {
  /** Events handed to the other side. */
  delivered: number;
  /** Events dropped because the sink's queue was full (the oldest go first). */
  dropped: number;
  /** Events given up on after errors. */
  failed: number;
}

export const emptyDeliveryStats = (): DeliveryStats => ({ delivered: 0, dropped: 0, failed: 0 });

/**
 * The event as one line of JSON in pure ASCII: non-ASCII characters are escaped, so the line
 * survives transports and files that are not UTF-8 clean (syslog without a BOM, for one).
 */
export function eventJson(event: unknown): string {
  return JSON.stringify(event).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
