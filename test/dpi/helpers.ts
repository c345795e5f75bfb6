// Shared test fixtures for probes: hex with comments, probe contexts, running an extractor.

import type { FlowMeta } from '../../src/model/flow.js';
import type { Direction, ProbeContext, ProtocolModule, Transport } from '../../src/dpi/types.js';

/** Hex bytes; whitespace and "#" comments to the end of a line are ignored. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
}

export function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export function ctx(transport: Transport = 'tcp', other: Buffer = Buffer.alloc(0), serverPort = 0, clientPort = 40000): ProbeContext {
  return { transport, clientPort, serverPort, other };
}

/** Runs a module's extractor over one input and returns the metadata it wrote. */
export function extracted(p: ProtocolModule, data: Buffer, dir: Direction, c: ProbeContext = ctx(), meta: FlowMeta = {}): FlowMeta {
  p.extract?.(data, dir, c, meta);
  return meta;
}
