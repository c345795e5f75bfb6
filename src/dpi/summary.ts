// Per-application totals over a set of flows: the closing summary of `palisade inspect` and the
// figures the evaluation and benchmarks print.

import type { Flow } from '../model/flow.js';

export interface AppSummary {
  app: string;
  confidence: 'dpi' | 'port' | 'none';
  flows: number;
  packets: number;
  bytes: number;
}

export function summarizeByApp(flows: Iterable<Flow>): AppSummary[] {
  const rows = new Map<string, AppSummary>();
  for (const f of flows) {
    const key = `${f.app}\u0000${f.appConfidence}`;
    let r = rows.get(key);
    if (!r) {
      r = { app: f.app, confidence: f.appConfidence, flows: 0, packets: 0, bytes: 0 };
      rows.set(key, r);
    }
    r.flows++;
    r.packets += f.c2s.packets + f.s2c.packets;
    r.bytes += f.c2s.bytes + f.s2c.bytes;
  }
  return [...rows.values()].sort((a, b) => b.flows - a.flows || b.bytes - a.bytes || a.app.localeCompare(b.app));
}
