// The event: what security operations sees when a connection crosses a perimeter (violation) or an
// inspector finds an attack or a data leak inside an allowed one (threat, dlp). The agent and the
// inspectors build events with makeEvent(); the aggregator merges them; sinks write them as JSON.
//
// API: makeEvent(fields) fills id, count and bounds the free text; violationEvent(flow, verdict,
// workloadOf) and findingEvent(flow, finding, ...) build events from the decision and inspection
// results; addPacketSample(sample, packet) keeps the first frames of a connection as evidence
// (written as pcap by pcap.ts).

import { randomUUID } from 'node:crypto';
import type { AppConfidence, Flow, FlowEndpoint, IpProto } from '../model/flow.js';
import type { Mode } from '../model/policy.js';
import type { Verdict } from '../model/verdict.js';
import type { Workload } from '../model/workload.js';
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

/** The workload an id names, as the inventory knows it at the event's time. */
export type WorkloadLookup = (id: string) => Workload | undefined;

/** A flow endpoint with the identity of its workload spelled out for the analyst. */
export function eventEndpoint(endpoint: FlowEndpoint, workloadOf: WorkloadLookup): EventEndpoint {
  const out: EventEndpoint = { ip: endpoint.ip, port: endpoint.port };
  if (endpoint.workload === undefined) return out;
  out.workload = endpoint.workload;
  const w = workloadOf(endpoint.workload);
  if (w !== undefined) {
    out.name = w.name;
    out.service = w.service;
    out.namespace = w.namespace;
  }
  return out;
}

type FlowFacts = Pick<Flow, 'firstSeen' | 'lastSeen' | 'ipProto' | 'client' | 'server' | 'app' | 'appConfidence'>;

function flowFields(flow: FlowFacts, workloadOf: WorkloadLookup): Pick<Event, 'firstSeen' | 'lastSeen' | 'client' | 'server' | 'ipProto' | 'app' | 'appConfidence'> {
  return {
    firstSeen: flow.firstSeen,
    lastSeen: flow.lastSeen,
    client: eventEndpoint(flow.client, workloadOf),
    server: eventEndpoint(flow.server, workloadOf),
    ipProto: flow.ipProto,
    app: flow.app,
    appConfidence: flow.appConfidence,
  };
}

/**
 * The violation event for a connection the verdict flags. A connection the verdict blocks is a
 * kernel `drop` unless the caller says it was refused inline (`block`); one it lets through is an
 * `alert`.
 */
export function violationEvent(flow: FlowFacts, verdict: Verdict, workloadOf: WorkloadLookup, blockedAs: 'drop' | 'block' = 'drop'): Event {
  return makeEvent({
    kind: 'violation',
    ...flowFields(flow, workloadOf),
    ruleId: verdict.ruleId,
    mode: verdict.mode,
    action: verdict.allowed ? 'alert' : blockedAs,
    reason: verdict.reason,
  });
}

/**
 * The event for an inspector's finding inside a connection. `mode` is the mode of the workload
 * the inspector protects: a finding that asks to block is only an alert outside protect.
 */
export function findingEvent(
  flow: FlowFacts,
  kind: 'threat' | 'dlp',
  finding: Finding & { action: 'alert' | 'block'; ruleId?: string },
  mode: Mode,
  workloadOf: WorkloadLookup,
): Event {
  const action = finding.action === 'block' && mode === 'protect' ? 'block' : 'alert';
  return makeEvent({
    kind,
    ...flowFields(flow, workloadOf),
    ruleId: finding.ruleId ?? 'default',
    mode,
    action,
    reason: `${finding.name} (${finding.severity})${action !== finding.action ? ': would block, the workload is not in protect' : ''}`,
    finding: { name: finding.name, severity: finding.severity, detail: finding.detail },
  });
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
