// The flow: one session between a client and a server. It is the record that crosses every
// boundary of the data flow (capture → dpi → attribution → learn/replay → events), so it stays
// plain JSON: ISO timestamps, string addresses, no classes.

export type IpProto = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | 'other';

/** How the application was identified: from payload, guessed from a well-known port, or not at all. */
export type AppConfidence = 'dpi' | 'port' | 'none';

export interface FlowEndpoint {
  ip: string;
  /** TCP/UDP/SCTP port; for ICMP the server side carries the type, the client side 0. */
  port: number;
  /** Workload id, when the inventory attributes the address at that time. */
  workload?: string;
}

export interface Counters {
  packets: number;
  /** Bytes of IP packets (headers included). */
  bytes: number;
  /** Bytes of transport payload (TCP stream bytes, UDP datagram payloads). */
  payloadBytes?: number;
}

export interface DnsAnswer {
  name: string;
  type: string;
  value: string;
  ttl: number;
}

/** Protocol metadata. Known keys are typed; protocol modules may add their own (`kafkaApi`, ...). */
export interface FlowMeta {
  sni?: string;
  alpn?: string[];
  tlsVersion?: string;
  tlsCipher?: string;
  httpHost?: string;
  httpMethod?: string;
  httpPath?: string;
  httpStatus?: number;
  httpUserAgent?: string;
  dnsQuery?: string;
  dnsAnswers?: DnsAnswer[];
  [key: string]: unknown;
}

export interface Flow {
  id: string;
  /** ISO 8601 time of the first packet. */
  firstSeen: string;
  /** ISO 8601 time of the last packet. */
  lastSeen: string;
  ipProto: IpProto;
  client: FlowEndpoint;
  server: FlowEndpoint;
  /** Registry name of the application protocol, or "unknown". */
  app: string;
  appConfidence: AppConfidence;
  meta: FlowMeta;
  c2s: Counters;
  s2c: Counters;
  vlan?: number;
  verdict?: import('./verdict.js').Verdict;
  threats?: Threat[];
}

export interface Threat {
  kind: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  action: 'alert' | 'block';
  detail: string;
}
