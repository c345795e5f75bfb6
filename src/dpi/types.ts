// The contract between the identification engine and the protocol modules. A protocol module is
// one small object per file under dpi/protocols/: a pure probe over the first bytes of a
// direction, plus an optional metadata extractor. The engine owns all per-session state.

import type { FlowMeta } from '../model/flow.js';

export type Direction = 'c2s' | 's2c';
export type Transport = 'tcp' | 'udp' | 'sctp';

/** mine / not mine / cannot tell yet. */
export type ProbeResult = 'match' | 'no' | 'need-more';

export interface ProbeContext {
  transport: Transport;
  clientPort: number;
  serverPort: number;
  /**
   * The first bytes seen so far in the other direction (TCP: reassembled stream prefix;
   * UDP: the first datagram), empty when nothing was seen there yet.
   */
  other: Buffer;
}

export interface ProtocolModule {
  /** Registry name as users write it in rules (matched case-insensitively), e.g. "PostgreSQL". */
  readonly name: string;
  /** Other names users may write for it ("MariaDB" for MySQL, "RESP" for Redis). */
  readonly aliases?: readonly string[];
  readonly transports: readonly Transport[];
  /** Well-known server ports: only ever a `port`-confidence guess, and a tie-breaker between matches. */
  readonly ports?: readonly number[];
  /**
   * A protocol carried inside another (gRPC in HTTP/2, WebSocket in HTTP): its probe runs only once
   * the parent matched, and a match replaces the parent as the session's application.
   */
  readonly refines?: string;
  /**
   * Per direction, the only values the first payload byte can take: the probe answers 'no' to any
   * data of that direction starting with another byte, however short, so the engine may skip it.
   * Leave a direction out unless the probe's own first check makes this certain.
   */
  readonly firstBytes?: { readonly c2s?: readonly number[]; readonly s2c?: readonly number[] };
  /**
   * TCP: `data` is the reassembled stream of one direction from its start (bounded prefix).
   * UDP: `data` is one datagram payload. Pure: no state, no I/O, never throws on any bytes.
   */
  probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult;
  /**
   * Called after identification with the same kind of input as the probe; adds what the protocol
   * carries to `meta`. Returns true while it wants more data. Must never throw on any bytes.
   */
  extract?(data: Buffer, dir: Direction, ctx: ProbeContext, meta: FlowMeta): boolean;
}
