// Attributed flows → the service graph: who (service, node, external name) talks to whom, over
// which applications and ports, how much and when. The graph feeds both the map and the proposed
// policy. Memory is bounded by the number of distinct edges, never by the number of flows.

import type { Flow, IpProto } from '../model/flow.js';
import type { Inventory } from '../model/workload.js';
import { AddressIndex } from '../inventory/attribute.js';
import { parseTime } from '../dpi/sources.js';
import type { Resolver } from '../policy/select.js';

export type PeerKind = 'service' | 'node' | 'external';

/** One end of an edge: a service (all its workloads), a node, or an external name or address. */
export interface Peer {
  /** `service:<namespace>/<service>`, `node:<name>`, `fqdn:<name>` or `ip:<address>`. */
  key: string;
  kind: PeerKind;
  /** Service name, node name, FQDN or address. */
  name: string;
  namespace?: string;
  /** Set for an external endpoint named by DNS answers seen on the wire. */
  fqdn?: string;
  /** Workload ids seen in flows (services), or addresses (externals), at most MAX_LISTED. */
  members: string[];
}

/** One server port of an edge and what was identified on it. */
export interface PortUse {
  proto: IpProto;
  port: number;
  flows: number;
  /** Flows identified from payload, per application. */
  apps: Map<string, number>;
  /** Flows whose application was not identified from payload. */
  unidentified: number;
}

/** What a policy says about a flow: allowed by it, allowed with a violation event, or blocked. */
export type EdgeVerdict = 'allowed' | 'violation' | 'blocked';

export interface Edge {
  from: string;
  to: string;
  flows: number;
  bytes: number;
  /** Milliseconds since the epoch. */
  firstSeen: number;
  lastSeen: number;
  /** Keyed by portKey(proto, port). */
  ports: Map<number, PortUse>;
  /** Distinct ports beyond the cap were folded into the widest range seen. */
  portsOverflow: boolean;
  example: Flow;
  /** Flows per verdict, when the graph was built against a policy. */
  verdicts?: Record<EdgeVerdict, number>;
}

export interface ServiceGraph {
  peers: Map<string, Peer>;
  edges: Edge[];
  /** Observation window: the first and last packet of all flows, ms since the epoch. */
  start: number;
  end: number;
  flows: number;
  /** Flows with no known workload on either side: no perimeter to learn for. */
  unattributed: number;
  /** Flows dropped because the edge or endpoint cap was reached. */
  dropped: number;
}

export interface GraphLimits {
  maxEdges: number;
  /** Distinct endpoints (services, nodes, external addresses): a scan from many addresses stops here. */
  maxPeers: number;
  maxPortsPerEdge: number;
}

const DEFAULT_LIMITS: GraphLimits = { maxEdges: 200_000, maxPeers: 100_000, maxPortsPerEdge: 1024 };
const MAX_LISTED = 32;

/** Per-service time of the last new edge (its first flow), and whether it is older than `window`. */
export interface Stability {
  lastNewEdge: number;
  quietFor: number;
  stable: boolean;
}

/** Builds the graph one flow at a time; externals are keyed by address until DNS names them in `graph()`. */
export class GraphBuilder {
  private readonly index: AddressIndex;
  private readonly limits: GraphLimits;
  private readonly peers = new Map<string, Peer>();
  /** Peer of each workload and node object, so the hot path builds no key strings. */
  private readonly peerByObject = new Map<object, Peer>();
  /** Client peer → server peer → edge. */
  private readonly edges = new Map<Peer, Map<Peer, Edge>>();
  private edgeCount = 0;
  private start = Number.POSITIVE_INFINITY;
  private end = Number.NEGATIVE_INFINITY;
  private flows = 0;
  private unattributed = 0;
  private dropped = 0;

  constructor(inventory: Inventory, limits: Partial<GraphLimits> = {}) {
    this.index = new AddressIndex(inventory);
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  private peerOf(ip: string, at: number): Peer | undefined {
    const a = this.index.at(ip, at);
    const obj = a.kind === 'workload' ? a.workload : a.kind === 'node' ? a.node : undefined;
    let peer = obj === undefined ? this.peers.get(`ip:${ip}`) : this.peerByObject.get(obj);
    if (peer === undefined) {
      let key: string;
      if (a.kind === 'workload') key = `service:${a.workload.namespace}/${a.workload.service}`;
      else if (a.kind === 'node') key = `node:${a.node.name}`;
      else key = `ip:${ip}`;
      peer = this.peers.get(key);
      if (peer === undefined) {
        if (this.peers.size >= this.limits.maxPeers) return undefined;
        if (a.kind === 'workload') peer = { key, kind: 'service', name: a.workload.service, namespace: a.workload.namespace, members: [] };
        else if (a.kind === 'node') peer = { key, kind: 'node', name: a.node.name, members: [] };
        else peer = { key, kind: 'external', name: ip, members: [ip] };
        this.peers.set(key, peer);
      }
      if (obj !== undefined) this.peerByObject.set(obj, peer);
      if (a.kind === 'workload' && peer.members.length < MAX_LISTED && !peer.members.includes(a.workload.id)) peer.members.push(a.workload.id);
    }
    return peer;
  }

  add(flow: Flow, verdict?: EdgeVerdict): void {
    const first = parseTime(flow.firstSeen);
    const last = flow.lastSeen === flow.firstSeen ? first : parseTime(flow.lastSeen);
    this.flows++;
    if (first < this.start) this.start = first;
    if (last > this.end) this.end = last;
    const client = this.peerOf(flow.client.ip, first);
    const server = this.peerOf(flow.server.ip, first);
    if (client === undefined || server === undefined) {
      this.dropped++;
      return;
    }
    if (client.kind !== 'service' && server.kind !== 'service') {
      this.unattributed++;
      return;
    }
    let byServer = this.edges.get(client);
    if (byServer === undefined) {
      byServer = new Map();
      this.edges.set(client, byServer);
    }
    let edge = byServer.get(server);
    if (edge === undefined) {
      if (this.edgeCount >= this.limits.maxEdges) {
        this.dropped++;
        return;
      }
      edge = { from: client.key, to: server.key, flows: 0, bytes: 0, firstSeen: first, lastSeen: last, ports: new Map(), portsOverflow: false, example: flow };
      byServer.set(server, edge);
      this.edgeCount++;
    }
    edge.flows++;
    edge.bytes += flow.c2s.bytes + flow.s2c.bytes;
    if (first < edge.firstSeen) edge.firstSeen = first;
    if (last > edge.lastSeen) edge.lastSeen = last;
    addPort(edge, flow, this.limits.maxPortsPerEdge);
    if (verdict !== undefined) {
      edge.verdicts ??= { allowed: 0, violation: 0, blocked: 0 };
      edge.verdicts[verdict]++;
    }
  }

  /** The graph, with external addresses named by the DNS answers seen (the first name, sorted). */
  graph(dns?: Resolver): ServiceGraph {
    const rename = new Map<string, Peer>();
    const peers = new Map<string, Peer>();
    for (const peer of this.peers.values()) {
      const names = peer.kind === 'external' && dns !== undefined ? dns.namesOf(peer.name) : [];
      if (names.length === 0) {
        peers.set(peer.key, peer);
        continue;
      }
      const fqdn = [...names].sort()[0] as string;
      const key = `fqdn:${fqdn}`;
      const named = peers.get(key) ?? { key, kind: 'external' as const, name: fqdn, fqdn, members: [] };
      if (named.members.length < MAX_LISTED) named.members.push(peer.name);
      peers.set(key, named);
      rename.set(peer.key, named);
    }
    const edges = new Map<string, Edge>();
    for (const e of [...this.edges.values()].flatMap((m) => [...m.values()])) {
      const from = rename.get(e.from)?.key ?? e.from;
      const to = rename.get(e.to)?.key ?? e.to;
      const key = `${from}>${to}`;
      const prev = edges.get(key);
      if (prev === undefined) edges.set(key, { ...e, from, to, ports: new Map(e.ports), ...(e.verdicts ? { verdicts: { ...e.verdicts } } : {}) });
      else mergeEdge(prev, e, this.limits.maxPortsPerEdge);
    }
    const used = new Set<string>();
    for (const e of edges.values()) used.add(e.from).add(e.to);
    for (const k of [...peers.keys()]) if (!used.has(k)) peers.delete(k);
    return {
      peers,
      edges: [...edges.values()].sort((a, b) => (a.from === b.from ? cmp(a.to, b.to) : cmp(a.from, b.from))),
      start: this.flows > 0 ? this.start : 0,
      end: this.flows > 0 ? this.end : 0,
      flows: this.flows,
      unattributed: this.unattributed,
      dropped: this.dropped,
    };
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const PROTO_INDEX: Record<IpProto, number> = { tcp: 0, udp: 1, icmp: 2, icmpv6: 3, sctp: 4, other: 5 };
const portKey = (proto: IpProto, port: number): number => (PROTO_INDEX[proto] ?? 5) * 65536 + port;

function usePort(edge: Edge, proto: IpProto, port: number, cap: number): PortUse {
  const key = portKey(proto, port);
  let use = edge.ports.get(key);
  if (use === undefined) {
    if (edge.ports.size >= cap) {
      // A scan must not grow memory: further ports share one entry per protocol at port 0, and
      // the rule for the edge then opens the whole protocol.
      edge.portsOverflow = true;
      return usePort(edge, proto, 0, Number.POSITIVE_INFINITY);
    }
    use = { proto, port, flows: 0, apps: new Map(), unidentified: 0 };
    edge.ports.set(key, use);
  }
  return use;
}

function addPort(edge: Edge, flow: Flow, cap: number): void {
  const use = usePort(edge, flow.ipProto, flow.server.port, cap);
  use.flows++;
  if (flow.appConfidence === 'dpi' && flow.app !== 'unknown') {
    const app = flow.app.toLowerCase();
    use.apps.set(app, (use.apps.get(app) ?? 0) + 1);
  } else use.unidentified++;
}

function mergeEdge(into: Edge, e: Edge, cap: number): void {
  into.flows += e.flows;
  into.bytes += e.bytes;
  into.firstSeen = Math.min(into.firstSeen, e.firstSeen);
  into.lastSeen = Math.max(into.lastSeen, e.lastSeen);
  into.portsOverflow ||= e.portsOverflow;
  if (e.verdicts !== undefined) {
    const v = (into.verdicts ??= { allowed: 0, violation: 0, blocked: 0 });
    v.allowed += e.verdicts.allowed;
    v.violation += e.verdicts.violation;
    v.blocked += e.verdicts.blocked;
  }
  for (const u of e.ports.values()) {
    const use = usePort(into, u.proto, u.port, cap);
    use.flows += u.flows;
    use.unidentified += u.unidentified;
    for (const [app, n] of u.apps) use.apps.set(app, (use.apps.get(app) ?? 0) + n);
  }
}

/** Stability of every service peer: quiet for `windowMs` since its last new edge. */
export function stabilityOf(graph: ServiceGraph, windowMs: number): Map<string, Stability> {
  const last = new Map<string, number>();
  for (const e of graph.edges) {
    for (const k of [e.from, e.to]) last.set(k, Math.max(last.get(k) ?? Number.NEGATIVE_INFINITY, e.firstSeen));
  }
  const out = new Map<string, Stability>();
  for (const [key, peer] of graph.peers) {
    if (peer.kind !== 'service') continue;
    const lastNewEdge = last.get(key) ?? graph.start;
    const quietFor = graph.end - lastNewEdge;
    out.set(key, { lastNewEdge, quietFor, stable: quietFor >= windowMs });
  }
  return out;
}
