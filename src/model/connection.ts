// What the decision engine is asked about: one connection attempt, with whatever DPI knows so far.

import type { IpProto } from './flow.js';

export interface Connection {
  ipProto: IpProto;
  client: { ip: string; port: number };
  /** For ICMP, port is the ICMP type. */
  server: { ip: string; port: number };
  /**
   * Application identified from payload (confidence dpi), lower-case registry name.
   * A port guess never goes here: it does not satisfy a rule that names applications.
   */
  app?: string;
  /** DPI is still looking at this session (bounded by bytes and packets). */
  appPending?: boolean;
  /** Milliseconds since the epoch; decides which workload held an address. Absent = now. */
  at?: number;
}
