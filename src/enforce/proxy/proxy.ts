// The inline L7 proxy (DESIGN.md, Enforcement on a node): the nat chain redirects new TCP
// connections whose first matching rule names applications, where a side is in protect, to this
// port. For each one the proxy finds where the client was going (SO_ORIGINAL_DST), holds what
// either side sends while DPI identifies the application, decides with the whole policy, and then
// either splices the connection through to the server or resets it. Every decision is reported;
// blocked ones and violations carry the first payload bytes as evidence.
//
// Order of events for one connection:
// 1. Accepted: the verdict without an application. When no rule naming applications can decide
//    it (an earlier rule matched, the policy changed since the redirect), it is final at once.
// 2. Client bytes are fed to the Identifier. A server that speaks first (SMTP, MySQL, NATS...)
//    gets connected once the client has been silent for `serverFirstMs`; its bytes are identified
//    too but reach the client only if the connection is allowed.
// 3. Decided when the application is identified (and no rule names a refinement of it that could
//    still be seen), when DPI gives up, when the client half-closes, or at `pendingMs` or
//    `pendingBytes`: then an unidentified application is "unknown" and rules naming applications
//    do not match it.
// 4. Allowed: buffered bytes are written, both directions piped with backpressure, half-closes
//    and resets passed on. Blocked: the client gets a reset, the server connection (if any) too.
//
// Bounded: undecided connections (`maxPending`), open connections (`maxConnections`), bytes held
// per direction before the decision (`pendingBytes`), and time to decide (`pendingMs`).
// Beyond a bound a new connection is reset and counted: the protect side stays closed.
//
// The upstream connection leaves from the proxy's host (the node): the server sees the node's
// address. The client's identity is what the decision used.

import net, { type Server, type Socket } from 'node:net';
import { Identifier } from '../../dpi/engine.js';
import { protocols as registry } from '../../dpi/registry.js';
import type { AppConfidence, FlowMeta } from '../../model/flow.js';
import type { Connection } from '../../model/connection.js';
import type { Verdict } from '../../model/verdict.js';
import { canonicalIp } from '../../model/address.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { AddressIndex } from '../../inventory/attribute.js';
import { originalDestination, type Destination } from './original-dst.js';
import { UdpRelay, type UdpLimits, type UdpStats } from './udp.js';
import { appOf, connectionOf, decisionOf, identifiedApp, refusedNow } from './decision.js';
import type { UdpDestination } from '../nft/ruleset.js';

/** What the proxy needs of the policy in force; swapped whole on a reload. */
export interface ProxyPolicy {
  decide(conn: Connection): Verdict;
  /** Workload id holding the address at the time, if a workload does. */
  workloadAt(ip: string, at: number): string | undefined;
  /** Lower-case application names that some enabled rule names. */
  applications: ReadonlySet<string>;
}

/** The proxy's view of a compiled policy and the inventory it was compiled with. */
export function proxyPolicy(compiled: CompiledPolicy, index: AddressIndex): ProxyPolicy {
  return {
    decide: (conn) => compiled.decide(conn),
    workloadAt: (ip, at) => {
      const who = index.at(ip, at);
      return who.kind === 'workload' ? who.workload.id : undefined;
    },
    applications: new Set(compiled.rules.flatMap((r) => r.applications.map((a) => a.toLowerCase()))),
  };
}

export interface ProxyLimits {
  /** Connections accepted and not yet decided. */
  maxPending: number;
  /** Connections open through the proxy, decided or not. */
  maxConnections: number;
  /** Bytes held per direction before the decision. */
  pendingBytes: number;
  /** Time from accept to the decision. */
  pendingMs: number;
  /** Client silence after which the server is connected to hear whether it speaks first. */
  serverFirstMs: number;
  /** Time allowed for the upstream connection to be established. */
  connectMs: number;
  /** Payload bytes per direction kept as evidence in a decision. */
  evidenceBytes: number;
}

export const DEFAULT_PROXY_LIMITS: ProxyLimits = {
  maxPending: 4096,
  maxConnections: 16384,
  pendingBytes: 16384,
  pendingMs: 5000,
  serverFirstMs: 300,
  connectMs: 10_000,
  evidenceBytes: 1024,
};

export type ProxyAction = 'allow' | 'alert' | 'block';

export interface ProxyEndpoint extends Destination {
  workload?: string;
}

/** One connection (TCP) or session of datagrams (UDP) the proxy decided. */
export interface ProxyDecision {
  ipProto: 'tcp' | 'udp';
  /** When the connection was accepted (milliseconds since the epoch). */
  at: number;
  /** Milliseconds from accept to the decision. */
  decidedAfterMs: number;
  client: ProxyEndpoint;
  server: ProxyEndpoint;
  app: string;
  appConfidence: AppConfidence;
  meta: FlowMeta;
  verdict: Verdict;
  /** block: reset by the proxy; alert: let through with a violation; allow: let through. */
  action: ProxyAction;
  /** Why the decision was taken when it was. */
  trigger: 'identified' | 'rule' | 'dpi-gave-up' | 'client-closed' | 'timeout' | 'bytes';
  /** The first payload bytes each direction sent before the decision (bounded). */
  evidence: { c2s: Buffer; s2c: Buffer };
}

export interface ProxyStats {
  accepted: number;
  /** Dialled directly, not redirected: no original destination. Reset. */
  notRedirected: number;
  /** Reset because a bound was reached (maxPending, maxConnections). */
  overflow: number;
  allowed: number;
  alerts: number;
  blocked: number;
  /** Decided with the application unidentified. */
  unidentified: number;
  upstreamErrors: number;
  /** Allowed connections reset because a new policy no longer allows them. */
  revoked: number;
  open: number;
  pending: number;
}

export interface ProxyOptions {
  policy: ProxyPolicy;
  limits?: Partial<ProxyLimits>;
  onDecision?: (d: ProxyDecision) => void;
  /** Operator messages. */
  say?: (line: string) => void;
  /** Where an accepted connection was going; the kernel's answer (SO_ORIGINAL_DST) by default. */
  destinationOf?: (socket: Socket) => Destination | undefined;
  /** Clock (milliseconds since the epoch). */
  now?: () => number;
  udpLimits?: Partial<UdpLimits>;
}

const C2S = 0;
const S2C = 1;

/** Registry name (lower-case) → lower-case names of the protocols that refine it. */
const REFINERS: ReadonlyMap<string, readonly string[]> = (() => {
  const out = new Map<string, string[]>();
  for (const p of registry) {
    if (p.refines === undefined) continue;
    const parent = p.refines.toLowerCase();
    out.set(parent, [...(out.get(parent) ?? []), p.name.toLowerCase()]);
  }
  return out;
})();

export class L7Proxy {
  private policy: ProxyPolicy;
  private readonly limits: ProxyLimits;
  private readonly server: Server;
  private readonly sessions = new Set<Session>();
  private readonly udp: UdpRelay;
  private pending = 0;
  private readonly counts = { accepted: 0, notRedirected: 0, overflow: 0, allowed: 0, alerts: 0, blocked: 0, unidentified: 0, upstreamErrors: 0, revoked: 0 };

  constructor(private readonly opts: ProxyOptions) {
    this.policy = opts.policy;
    this.limits = { ...DEFAULT_PROXY_LIMITS, ...opts.limits };
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => this.accept(socket));
    this.server.on('error', (err) => opts.say?.(`L7 proxy: ${err.message}`));
    this.udp = new UdpRelay(
      {
        policy: () => this.policy,
        report: (d) => {
          try {
            opts.onDecision?.(d);
          } catch (err) {
            opts.say?.(`L7 proxy: reporting a decision failed: ${(err as Error).message}`);
          }
        },
        now: () => this.now(),
        say: (line) => opts.say?.(line),
      },
      opts.udpLimits,
    );
  }

  /** The UDP destinations to stand in for (Ruleset.udpDestinations), each on its own port. */
  setUdpDestinations(dests: readonly UdpDestination[]): Promise<void> {
    return this.udp.setDestinations(dests);
  }

  udpStats(): UdpStats {
    return this.udp.stats();
  }

  /** Listens on the port (0: any free one); resolves with the port. */
  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => reject(new Error(`the L7 proxy cannot listen on ${host}:${port}: ${err.message}`));
      this.server.once('error', failed);
      this.server.listen({ port, host, exclusive: true }, () => {
        this.server.off('error', failed);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** The policy for connections decided from now on; revisit() applies it to open ones. */
  setPolicy(policy: ProxyPolicy): void {
    this.policy = policy;
  }

  /**
   * Decides every open connection again with the policy in force, with the application it was
   * identified as: an allowed TCP connection the policy no longer allows is reset, a UDP session
   * whose decision changed ends (its next datagram starts a new one). The agent calls it once the
   * new table is in force. Resolves with how many allowed connections were cut.
   */
  revisit(): number {
    let cut = 0;
    for (const s of [...this.sessions]) if (s.revisit()) cut++;
    this.counts.revoked += cut;
    return cut + this.udp.revisit();
  }

  stats(): ProxyStats {
    return { ...this.counts, open: this.sessions.size, pending: this.pending };
  }

  /** Stops accepting and ends every connection. */
  close(): Promise<void> {
    this.udp.close();
    for (const s of [...this.sessions]) s.abort();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.counts.accepted++;
    socket.on('error', () => undefined);
    let dest: Destination | undefined;
    try {
      dest = (this.opts.destinationOf ?? originalDestination)(socket);
    } catch (err) {
      this.opts.say?.(`L7 proxy: ${(err as Error).message}`);
    }
    const clientIp = canonicalIp(socket.remoteAddress ?? '');
    const self = this.server.address() as net.AddressInfo | null;
    if (dest === undefined || clientIp === undefined || (dest.port === self?.port && socket.localAddress !== undefined && canonicalIp(socket.localAddress) === canonicalIp(dest.ip))) {
      this.counts.notRedirected++;
      socket.resetAndDestroy();
      return;
    }
    if (this.pending >= this.limits.maxPending || this.sessions.size >= this.limits.maxConnections) {
      this.counts.overflow++;
      socket.resetAndDestroy();
      return;
    }
    const session = new Session(this, socket, { ip: clientIp, port: socket.remotePort ?? 0 }, { ip: canonicalIp(dest.ip) ?? dest.ip, port: dest.port });
    this.sessions.add(session);
    this.pending++;
    session.start();
  }

  /** @internal Session → proxy. */
  get current(): ProxyPolicy {
    return this.policy;
  }

  /** @internal */
  get bounds(): ProxyLimits {
    return this.limits;
  }

  /** @internal */
  now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** @internal A session left the undecided state. */
  decided(d: ProxyDecision): void {
    this.pending--;
    if (d.action === 'block') this.counts.blocked++;
    else if (d.action === 'alert') this.counts.alerts++;
    else this.counts.allowed++;
    if (d.appConfidence !== 'dpi') this.counts.unidentified++;
    try {
      this.opts.onDecision?.(d);
    } catch (err) {
      this.opts.say?.(`L7 proxy: reporting a decision failed: ${(err as Error).message}`);
    }
  }

  /** @internal */
  upstreamFailed(message: string): void {
    this.counts.upstreamErrors++;
    this.opts.say?.(`L7 proxy: ${message}`);
  }

  /** @internal A session is over (decided or not). */
  ended(s: Session, undecided: boolean): void {
    if (this.sessions.delete(s) && undecided) this.pending--;
  }
}

/** How long a half-closed side may wait for the other once one socket has closed. */
const LINGER_MS = 30_000;

class Session {
  private readonly at: number;
  private readonly identifier: Identifier;
  private decisionMade = false;
  private allowed = false;
  private spliced = false;
  private finished = false;
  /** Bytes held per direction until the splice. */
  private held: [Buffer[], Buffer[]] = [[], []];
  private readonly heldBytes = [0, 0];
  private clientEnded = false;
  private clientClosed = false;
  private upstream: Socket | undefined;
  private upstreamReady = false;
  private upstreamEnded = false;
  private upstreamClosed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly proxy: L7Proxy,
    private readonly client: Socket,
    private readonly clientEnd: ProxyEndpoint,
    private readonly serverEnd: ProxyEndpoint,
  ) {
    this.at = proxy.now();
    this.identifier = new Identifier('tcp', clientEnd.port, serverEnd.port);
  }

  start(): void {
    const policy = this.proxy.current;
    for (const end of [this.clientEnd, this.serverEnd]) {
      const w = policy.workloadAt(end.ip, this.at);
      if (w !== undefined) end.workload = w;
    }
    const client = this.client;
    client.on('data', (chunk: Buffer) => this.onData(C2S, chunk));
    client.on('end', () => {
      this.clientEnded = true;
      if (!this.decisionMade) this.decide('client-closed');
      else if (this.spliced) this.upstream?.end();
    });
    client.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') this.upstream?.resetAndDestroy();
    });
    client.on('close', () => {
      this.clientClosed = true;
      // A client that gives up (or resets) before the decision is still decided and reported:
      // what it sent is evidence.
      if (!this.decisionMade) this.decide('client-closed');
      const up = this.upstream;
      if (up !== undefined && !this.upstreamClosed) {
        if (this.spliced) {
          // Everything the client sent is written; the server's answer has nowhere to go.
          up.end();
          this.timers.push(setTimeout(() => up.destroy(), LINGER_MS));
        } else up.destroy();
      }
      this.finish();
    });
    const first = this.verdict(undefined, true);
    if (first.pending !== true) {
      this.decide('rule', first);
      return;
    }
    const limits = this.proxy.bounds;
    this.timers.push(setTimeout(() => this.decide('timeout'), limits.pendingMs));
    this.timers.push(setTimeout(() => {
      if (!this.decisionMade && this.heldBytes[C2S] === 0) this.connectUpstream();
    }, limits.serverFirstMs));
  }

  /**
   * Resets the connection if it was let through and the policy in force would now block it. One
   * decided without identification (its rule named no applications) is blocked only if no rule
   * naming applications could let it through: its application was never looked for.
   */
  revisit(): boolean {
    if (!this.decisionMade || !this.allowed || this.finished) return false;
    if (!refusedNow(this.proxy.current, connectionOf('tcp', this.clientEnd, this.serverEnd, this.at, ...appOf(this.identifier.result())))) return false;
    this.abort();
    return true;
  }

  /** Ends the connection whatever its state (the proxy is shutting down). */
  abort(): void {
    this.client.resetAndDestroy();
    this.upstream?.resetAndDestroy();
  }

  private verdict(app: string | undefined, pending: boolean): Verdict {
    return this.proxy.current.decide(connectionOf('tcp', this.clientEnd, this.serverEnd, this.at, app, pending));
  }

  /** Payload before the splice: identified while undecided, held until the splice. */
  private onData(d: number, chunk: Buffer): void {
    (this.held[d] as Buffer[]).push(chunk);
    this.heldBytes[d] = (this.heldBytes[d] as number) + chunk.length;
    const over = (this.heldBytes[d] as number) > this.proxy.bounds.pendingBytes;
    if (this.decisionMade) {
      // Allowed and waiting for the server: stop reading beyond the bound.
      if (over) (d === C2S ? this.client : this.upstream)?.pause();
      return;
    }
    this.identifier.feed(d === C2S ? 'c2s' : 's2c', chunk);
    if (over) this.decide('bytes');
    else this.check();
  }

  /** Decides as soon as identification allows. */
  private check(): void {
    const r = this.identifier.result();
    if (r.confidence === 'dpi') {
      // A rule may name a refinement (gRPC over HTTP/2, WebSocket over HTTP) that later bytes
      // could still reveal: wait for it while identification goes on.
      const refinements = REFINERS.get(r.app.toLowerCase()) ?? [];
      if (r.done || !refinements.some((x) => this.proxy.current.applications.has(x))) this.decide('identified');
    } else if (r.done) this.decide('dpi-gave-up');
  }

  private decide(trigger: ProxyDecision['trigger'], given?: Verdict): void {
    if (this.decisionMade || this.finished) return;
    this.decisionMade = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    const r = this.identifier.result();
    const verdict = given ?? this.verdict(identifiedApp(r), false);
    const d = decisionOf({
      ipProto: 'tcp', at: this.at, now: this.proxy.now(), client: this.clientEnd, server: this.serverEnd, identification: r, verdict, trigger,
      c2s: this.held[C2S] as Buffer[], s2c: this.held[S2C] as Buffer[], evidenceBytes: this.proxy.bounds.evidenceBytes,
    });
    const action = d.action;
    this.proxy.decided(d);
    if (action === 'block') {
      if (!this.client.destroyed) this.client.resetAndDestroy();
      if (this.upstream !== undefined && !this.upstream.destroyed) this.upstream.resetAndDestroy();
      return;
    }
    this.allowed = true;
    if (this.clientClosed) return;
    if (this.upstream === undefined) this.connectUpstream();
    else if (this.upstreamReady || this.upstreamClosed) this.splice();
  }

  private connectUpstream(): void {
    if (this.upstream !== undefined || this.clientClosed) return;
    const up = net.connect({ host: this.serverEnd.ip, port: this.serverEnd.port, allowHalfOpen: true });
    this.upstream = up;
    const timer = setTimeout(() => up.destroy(new Error('connect timed out')), this.proxy.bounds.connectMs);
    this.timers.push(timer);
    up.once('connect', () => {
      clearTimeout(timer);
      this.upstreamReady = true;
      if (this.allowed) this.splice();
    });
    up.on('data', (chunk: Buffer) => this.onData(S2C, chunk));
    up.on('end', () => {
      this.upstreamEnded = true;
      if (!this.decisionMade) this.check();
      else if (this.spliced) this.client.end();
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.upstreamReady) this.proxy.upstreamFailed(`${this.clientEnd.ip}:${this.clientEnd.port} → ${this.serverEnd.ip}:${this.serverEnd.port}: ${err.code ?? err.message}`);
      // Refused, unreachable or reset: the client sees a reset, as it would without the proxy.
      this.client.resetAndDestroy();
    });
    up.on('close', () => {
      this.upstreamClosed = true;
      if (this.decisionMade && this.allowed && !this.spliced && this.upstreamReady) this.splice();
      else if (!this.upstreamReady && !this.client.destroyed) this.client.resetAndDestroy();
      else if (!this.clientClosed && this.decisionMade) this.timers.push(setTimeout(() => this.client.destroy(), LINGER_MS));
      this.finish();
    });
  }

  /** Writes what was held, then lets both directions flow with backpressure. */
  private splice(): void {
    if (this.spliced || this.client.destroyed) return;
    this.spliced = true;
    const up = this.upstream as Socket;
    const [c2s, s2c] = this.held;
    this.held = [[], []];
    this.client.removeAllListeners('data');
    up.removeAllListeners('data');
    if (!up.destroyed) {
      for (const chunk of c2s) up.write(chunk);
      if (this.clientEnded) up.end();
      else this.client.pipe(up, { end: false });
    }
    for (const chunk of s2c) this.client.write(chunk);
    if (this.upstreamEnded || up.destroyed) this.client.end();
    else up.pipe(this.client, { end: false });
    this.client.resume();
    up.resume();
  }

  /** Bookkeeping once both sockets are closed. */
  private finish(): void {
    if (this.finished || !this.clientClosed || (this.upstream !== undefined && !this.upstreamClosed)) return;
    this.finished = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.held = [[], []];
    this.proxy.ended(this, !this.decisionMade);
  }
}
