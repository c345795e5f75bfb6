// Blocked and violating attempts, as the kernel reports them: the ruleset logs them to nflog with
// the prefix `pal:<tag>:<drop|alert>`, tcpdump reads `nflog` inside the node's namespace as a pcap
// stream (link type NFLOG), and each logged packet becomes one violation record with workloads.

import { LiveCaptureError, startLiveCapture, type LiveCapture } from '../packet/live.js';
import { CaptureParser, decodeFrame, formatIp, LINKTYPE_RAW } from '../packet/index.js';
import { canonicalIp } from '../model/address.js';
import { eventEndpoint, makeEvent, SAMPLE_LIMITS, type Event, type WorkloadLookup } from '../events/index.js';
import type { Inventory } from '../model/workload.js';
import type { IpProto } from '../model/flow.js';
import type { AddressIndex } from '../inventory/attribute.js';
import type { AppConfidence } from '../model/flow.js';
import type { Mode } from '../model/policy.js';
import type { PacketSample } from '../events/index.js';
import type { ProxyDecision } from './proxy/proxy.js';
import { evidenceSample } from './proxy/evidence.js';

export const LINKTYPE_NFLOG = 239;

/** Attributes of an NFLOG record (linux/netfilter/nfnetlink_log.h). */
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;

export interface NflogMessage {
  /** Address family of the packet (2 IPv4, 10 IPv6). */
  family: number;
  prefix: string;
  /** The packet from its IP header on. */
  payload: Buffer;
}

/**
 * One NFLOG record: a 4-byte header (family, version, resource id), then attributes of
 * length/type in the capturing host's byte order (little-endian on the machines we run on),
 * each padded to 4 bytes. Undefined when the record is malformed or has no packet.
 */
export function parseNflog(data: Buffer): NflogMessage | undefined {
  if (data.length < 4) return undefined;
  const family = data[0] as number;
  let prefix = '';
  let payload: Buffer | undefined;
  let at = 4;
  while (at + 4 <= data.length) {
    const length = data.readUInt16LE(at);
    const type = data.readUInt16LE(at + 2) & 0x7fff;
    if (length < 4 || at + length > data.length) return undefined;
    const value = data.subarray(at + 4, at + length);
    if (type === NFULA_PREFIX) {
      const nul = value.indexOf(0);
      prefix = value.subarray(0, nul < 0 ? value.length : nul).toString('latin1');
    } else if (type === NFULA_PAYLOAD) payload = value;
    at += (length + 3) & ~3;
  }
  return payload === undefined ? undefined : { family, prefix, payload };
}

export type ViolationAction = 'drop' | 'alert';

export interface ViolationEndpoint {
  ip: string;
  /** TCP/UDP/SCTP port; for ICMP the server side carries the type, the client 0. */
  port: number;
  workload?: string;
}

/** One attempt that crossed a perimeter against the policy, as a JSON line. */
export interface Violation {
  time: string;
  protocol: IpProto;
  client: ViolationEndpoint;
  server: ViolationEndpoint;
  /** Id of the rule that decided, or "default". */
  ruleId: string;
  /** drop and alert come from the kernel's log; block is a reset by the L7 proxy. */
  action: ViolationAction | 'block';
  /** Set by the L7 proxy, which saw the payload: the application and what the decision knew. */
  app?: string;
  appConfidence?: AppConfidence;
  mode?: Mode;
  reason?: string;
  /** The first payload bytes of each direction as packets (proxy decisions). */
  sample?: PacketSample;
}

/** The violation a proxy decision reports, or undefined when it reports none (allowed silently). */
export function violationOfDecision(d: ProxyDecision): Violation | undefined {
  if (d.action === 'allow') return undefined;
  const end = (e: ProxyDecision['client']): ViolationEndpoint => (e.workload === undefined ? { ip: e.ip, port: e.port } : { ip: e.ip, port: e.port, workload: e.workload });
  const v: Violation = {
    time: new Date(d.at).toISOString(),
    protocol: d.ipProto,
    client: end(d.client),
    server: end(d.server),
    ruleId: d.verdict.ruleId,
    action: d.action,
    app: d.app,
    appConfidence: d.appConfidence,
    mode: d.verdict.mode,
    reason: d.verdict.reason,
  };
  const sample = evidenceSample(d);
  if (sample !== undefined) v.sample = sample;
  return v;
}

const PROTOCOLS: Record<number, IpProto> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

/** `pal:<tag>:<action>` → its parts; the tag may itself hold colons, the action never does. */
export function parsePrefix(prefix: string): { tag: string; action: ViolationAction } | undefined {
  if (!prefix.startsWith('pal:')) return undefined;
  const cut = prefix.lastIndexOf(':');
  const action = prefix.slice(cut + 1);
  if (cut <= 4 || (action !== 'drop' && action !== 'alert')) return undefined;
  return { tag: prefix.slice(4, cut), action };
}

/**
 * The violation an NFLOG record reports, or undefined when it is not one of Palisade's (another
 * prefix) or carries no decodable packet. `tags` maps log tags to rule ids (Ruleset.tags).
 */
export function violationOf(message: NflogMessage, at: number, tags: ReadonlyMap<string, string>, index?: AddressIndex): Violation | undefined {
  const parsed = parsePrefix(message.prefix);
  if (parsed === undefined) return undefined;
  const pkt = decodeFrame(message.payload, LINKTYPE_RAW);
  if (typeof pkt === 'string') return undefined;
  const icmp = pkt.proto === 1 || pkt.proto === 58;
  const client: ViolationEndpoint = { ip: canonicalIp(formatIp(pkt.src)) as string, port: icmp ? 0 : pkt.srcPort };
  const server: ViolationEndpoint = { ip: canonicalIp(formatIp(pkt.dst)) as string, port: icmp ? pkt.icmpType : pkt.dstPort };
  for (const end of [client, server]) {
    const who = index?.at(end.ip, at);
    if (who?.kind === 'workload') end.workload = who.workload.id;
  }
  return {
    time: new Date(at).toISOString(),
    protocol: PROTOCOLS[pkt.proto] ?? 'other',
    client,
    server,
    ruleId: tags.get(parsed.tag) ?? parsed.tag,
    action: parsed.action,
    // The logged packet itself (from its IP header on) is the evidence.
    sample: { linkType: LINKTYPE_RAW, frames: [{ tsUs: at * 1000, origLen: message.payload.length, data: message.payload.subarray(0, SAMPLE_LIMITS.snapLen).toString('base64') }] },
  };
}

/**
 * A blocked TCP connect is retried (SYN again after 1 s, 3 s, ...): the retries are one attempt.
 * Records with the same five-tuple, rule and action within this window are reported once.
 */
const REPEAT_WINDOW_MS = 10_000;
/** Bounds the memory of recent attempts; a flood of distinct ones is also bounded by nft's limit. */
const MAX_RECENT = 10_000;

export class RepeatFilter {
  private readonly seen = new Map<string, number>();

  /** True when this violation is new, false when it repeats one reported within the window. */
  admit(v: Violation, at: number): boolean {
    const key = `${v.protocol} ${v.client.ip} ${v.client.port} ${v.server.ip} ${v.server.port} ${v.ruleId} ${v.action}`;
    const last = this.seen.get(key);
    if (last !== undefined && at - last < REPEAT_WINDOW_MS) return false;
    this.seen.delete(key);
    this.seen.set(key, at);
    if (this.seen.size > MAX_RECENT) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }
}

export interface ViolationSource {
  /** Stops tcpdump and resolves once every record it wrote has been reported. */
  stop(): Promise<void>;
  /** Settles when the source ends, whoever ended it. */
  readonly ended: Promise<void>;
}

export interface ViolationOptions {
  netns?: string;
  /** Current log tags → rule ids; asked per record, so a reload takes effect at once. */
  tags: () => ReadonlyMap<string, string>;
  /** Current inventory index, for workload ids. */
  index: () => AddressIndex | undefined;
  onViolation: (v: Violation) => void;
}

/**
 * Reads nflog in the namespace and reports each violation. Resolves once tcpdump listens, so
 * every attempt made after that is reported. Uses nflog group 0 (the ruleset's default group):
 * the live tap names its interface without a group number.
 */
export async function watchViolations(opts: ViolationOptions): Promise<ViolationSource> {
  const capture = await openNflog(opts.netns);
  const parser = new CaptureParser();
  const repeats = new RepeatFilter();
  // Never rejects: a broken stream ends the reports, not the agent (which says so when it ends).
  const ended = (async () => {
    for await (const chunk of capture.pcap as AsyncIterable<Buffer>) {
      parser.push(chunk, (record) => {
        if (record.linkType !== LINKTYPE_NFLOG) return;
        const message = parseNflog(record.data);
        const at = Math.floor(record.ts / 1000);
        const v = message && violationOf(message, at, opts.tags(), opts.index());
        if (v !== undefined && repeats.admit(v, at)) opts.onViolation(v);
      });
    }
    parser.end();
    await capture.ended;
  })().catch(() => undefined);
  return {
    ended,
    async stop() {
      await capture.stop().catch(() => undefined);
      await ended;
    },
  };
}

/** How long a restarted agent waits for the nflog group its predecessor's reader still holds. */
const NFLOG_BUSY_RETRIES = 25;
const NFLOG_BUSY_WAIT_MS = 200;

/**
 * The nflog reader. One reader per group and namespace: an agent restarted at once (SIGHUP-less
 * upgrade, the supervisor after a crash) can find the old reader still exiting, which the kernel
 * refuses as a permission error; that clears within moments, so it is retried for a bounded time.
 */
async function openNflog(netns: string | undefined): Promise<LiveCapture> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startLiveCapture({ interface: 'nflog', ...(netns !== undefined ? { netns } : {}) });
    } catch (err) {
      if (!(err instanceof LiveCaptureError) || err.kind !== 'permission-denied' || attempt >= NFLOG_BUSY_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, NFLOG_BUSY_WAIT_MS));
    }
  }
}

/**
 * A kernel report as an event for security operations. The kernel logs drops only where a side is
 * in protect; an alert comes from a side in monitor (or a deny rule outside protect, which the
 * record cannot tell apart): monitor is what it reports.
 */
export function eventOfViolation(v: Violation, workloadOf: WorkloadLookup): Event {
  return makeEvent({
    kind: 'violation',
    firstSeen: v.time,
    client: eventEndpoint(v.client, workloadOf),
    server: eventEndpoint(v.server, workloadOf),
    ipProto: v.protocol,
    app: v.app ?? 'unknown',
    appConfidence: v.appConfidence ?? 'none',
    ruleId: v.ruleId,
    mode: v.mode ?? (v.action === 'alert' ? 'monitor' : 'protect'),
    action: v.action,
    reason: v.reason ?? (v.ruleId === 'default' ? 'no rule allows this connection' : `rule ${v.ruleId}`),
    ...(v.sample !== undefined ? { sample: v.sample } : {}),
  });
}

export const workloadLookup = (inventory: Inventory): WorkloadLookup => (id) => inventory.workloads.find((w) => w.id === id);
