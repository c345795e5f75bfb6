// The protocol registry: a list, not a switch. Order matters only as a tie-breaker when two
// probes match the same bytes; refining protocols (gRPC in HTTP/2) are listed after their parent.

import type { ProtocolModule } from './types.js';

export const protocols: readonly ProtocolModule[] = [];

const byName = new Map<string, ProtocolModule>();
for (const p of protocols) {
  for (const n of [p.name, ...(p.aliases ?? [])]) byName.set(n.toLowerCase(), p);
}

/** Looks a protocol up by name or alias, case-insensitively. */
export function findProtocol(name: string): ProtocolModule | undefined {
  return byName.get(name.toLowerCase());
}

/** Every name and alias users may write, in registry order. */
export function applicationNames(): string[] {
  return protocols.flatMap((p) => [p.name, ...(p.aliases ?? [])]);
}
