// How long a network sink waits before its next attempt (syslog reconnects, webhook retries):
// exponential, capped, with jitter so many agents that lost the same collector do not return in step.

export interface BackoffOptions {
  /** Delay before the second attempt, milliseconds. */
  baseMs: number;
  /** No delay exceeds this. */
  maxMs: number;
}

/**
 * Delay after `failures` consecutive failures (1 = the first): base × 2^(failures−1), capped at
 * max, then scaled into [½, 1] of that by `random` (equal jitter: never zero, never above the cap).
 */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(exp / 2 + (exp / 2) * random());
}
