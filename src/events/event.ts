// The event: what security operations sees when a connection crosses a perimeter (violation) or an
// inspector finds an attack or a data leak inside an allowed one (threat, dlp). The agent and the
// inspectors build events with makeEvent(); the aggregator merges them; sinks write them as JSON.
//
// API: makeEvent(fields) fills id, count and bounds the free text; addPacketSample(sample, packet)
// keeps the first frames of a connection as evidence (written as pcap by pcap.ts).

import { randomUUID } from 'node:crypto';
import type { AppConfidence, IpProto } from '../model/flow.js';
import type { Mode } from '../model/policy.js';
import type { Packet } from '../packet/index.js';

export type EventKind = 'violation' | 'threat' | 'dlp';
export const EVENT_KINDS: readonly EventKind[] = ['violation', 'threat', 'dlp'];

/** What was done: `drop` is a silent kernel drop, `block` an inline refusal (proxy, inspector). */
export type EventAction = 'allow' | 'alert' | 'block' | 'drop';
export const EVENT_ACTIONS: readonly EventAction[] = ['allow', 'alert', 'block', 'drop'];

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface EventEndpoint {
  ip: string;
  port: number;
  /** Workload id, when the inventory attributes the address at the event's time. */
  workload?: string;
  name?: string;
  service?: string;
  namespace?: string;
}

/** What an inspector found (threat and dlp events). */
export interface Finding {
  /** Inspector or sensor name: "sql-injection", "credit-card", ... */
  name: string;
  severity: Severity;
  /** Human-readable detail; bounded by makeEvent because it may quote attacker payload. */
  detail: string;
}

export interface SampleFrame {
  /** Capture time, microseconds since the epoch. */
  tsUs: number;
  /** Length of the frame on the wire; `data` may be shorter. */
  origLen: number;
  /** Captured bytes, base64, so an event stays plain JSON. */
  data: string;
}

/** The first frames of the connection, all of one link type, as captured. */
export interface PacketSample {
  linkType: number;
  frames: SampleFrame[];
}

/** Distinct server ports merged into one event (a port scan), ascending. */
export interface PortSet {
  ports: number[];
  /** More distinct ports were seen than the aggregator keeps. */
  truncated: boolean;
}

export interface Event {
  id: string;
  kind: EventKind;
  /** ISO 8601 time of the first attempt this event stands for. */
  firstSeen: string;
  /** ISO 8601 time of the last attempt. */
  lastSeen: string;
  client: EventEndpoint;
  server: EventEndpoint;
  ipProto: IpProto;
  /** Registry name of the application protocol, or "unknown". */
  app: string;
  appConfidence: AppConfidence;
  /** Id of the rule that decided, "default" when no rule matched, "*" in a summary event. */
  ruleId: string;
  mode: Mode;
  action: EventAction;
  reason: string;
  /** Attempts this event stands for (1 unless aggregated). */
  count: number;
  /** Set when attempts to several server ports were merged. */
  serverPorts?: PortSet;
  finding?: Finding;
  sample?: PacketSample;
  /**
   * Set on a summary event: aggregates the rate limits held back, merged so their counts are
   * still reported. Its endpoints are "*" and its rule is "*".
   */
  summary?: { aggregates: number };
}

/** Free text longer than this is cut: details may quote payload an attacker chose. */
export const MAX_TEXT = 1024;
export const SAMPLE_LIMITS = {
  /** Frames kept per event. */
  frames: 4,
  /** Bytes kept per frame (a full Ethernet frame). */
  snapLen: 1518,
} as const;

export type EventFields = Omit<Event, 'id' | 'count' | 'lastSeen'> & Partial<Pick<Event, 'id' | 'count' | 'lastSeen'>>;

function bound(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}…`;
}

function boundEndpoint(e: EventEndpoint): EventEndpoint {
  const out: EventEndpoint = { ip: bound(e.ip), port: e.port };
  if (e.workload !== undefined) out.workload = bound(e.workload);
  if (e.name !== undefined) out.name = bound(e.name);
  if (e.service !== undefined) out.service = bound(e.service);
  if (e.namespace !== undefined) out.namespace = bound(e.namespace);
  return out;
}

/** An event with an id, a count of 1 and lastSeen = firstSeen unless given; free text bounded. */
export function makeEvent(fields: EventFields): Event {
  const e: Event = {
    ...fields,
    id: fields.id ?? randomUUID(),
    lastSeen: fields.lastSeen ?? fields.firstSeen,
    count: fields.count ?? 1,
    client: boundEndpoint(fields.client),
    server: boundEndpoint(fields.server),
    reason: bound(fields.reason),
  };
  if (fields.finding) e.finding = { ...fields.finding, name: bound(fields.finding.name), detail: bound(fields.finding.detail) };
  return e;
}

/**
 * The sample with the packet's frame appended, or the sample unchanged when it is full or the
 * frame is of another link type (a pcap file has one).
 */
export function addPacketSample(sample: PacketSample | undefined, packet: Packet): PacketSample {
  const current = sample ?? { linkType: packet.linkType, frames: [] };
  if (current.frames.length >= SAMPLE_LIMITS.frames || current.linkType !== packet.linkType) return current;
  const data = packet.frame.subarray(0, SAMPLE_LIMITS.snapLen).toString('base64');
  return {
    linkType: current.linkType,
    frames: [...current.frames, { tsUs: packet.ts, origLen: packet.frame.length, data }],
  };
}
