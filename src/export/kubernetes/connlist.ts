// Last step of the NetworkPolicy reachability analysis: the answer as text. `connlist` is one
// line per pair, `src => dst : connections`; `json` is the same triples as a JSON array.

import { formatConnections } from './connections.js';
import type { Reach } from './reach.js';

export const CONNLIST_FORMATS = ['connlist', 'json'] as const;
export type ConnlistFormat = (typeof CONNLIST_FORMATS)[number];

/** One line per pair, each ending in a newline; nothing at all when nothing is allowed. */
export function formatConnlist(reach: readonly Reach[]): string {
  return reach.map((r) => `${r.src} => ${r.dst} : ${formatConnections(r.connections)}\n`).join('');
}

/** `[{"src": ..., "dst": ..., "conn": ...}]`, 2-space indented, no newline at the end. */
export function formatConnlistJson(reach: readonly Reach[]): string {
  return JSON.stringify(
    reach.map((r) => ({ src: r.src, dst: r.dst, conn: formatConnections(r.connections) })),
    null,
    2,
  );
}

export function formatReach(reach: readonly Reach[], format: ConnlistFormat): string {
  return format === 'json' ? formatConnlistJson(reach) : formatConnlist(reach);
}
