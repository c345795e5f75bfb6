// The L7 proxy's UDP side. A redirected datagram carries no original destination the proxy could
// read, so the nat chain sends each proxied destination (server address and port) to a listening
// port of its own (Ruleset.udpDestinations). A "session" is a client address and port talking to
// one destination: its first datagrams are identified, the session decided with the whole policy,
// and then relayed to the server through a socket of its own (replies come back through the
// listening socket, which conntrack turns back into the server's address), or dropped.
//
// Bounded: sessions (`maxSessions`, the least recently used one goes), datagrams held before the
// decision (`pendingDatagrams`, `pendingBytes`), time to decide (`pendingMs`), idle sessions
// (`idleMs`).

import dgram, { type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Identifier } from '../../dpi/engine.js';
import { canonicalIp } from '../../model/address.js';
import type { UdpDestination } from '../nft/ruleset.js';
import type { ProxyDecision, ProxyEndpoint, ProxyPolicy } from './proxy.js';
import { appOf, connectionOf, decisionOf, identifiedApp, refusedNow } from './decision.js';

export interface UdpLimits {
  maxSessions: number;
  pendingDatagrams: number;
  pendingBytes: number;
  pendingMs: number;
  idleMs: number;
  evidenceBytes: number;
}

export const DEFAULT_UDP_LIMITS: UdpLimits = { maxSessions: 4096, pendingDatagrams: 8, pendingBytes: 16384, pendingMs: 2000, idleMs: 60_000, evidenceBytes: 1024 };

export interface UdpStats {
  sessions: number;
  datagrams: number;
  allowed: number;
  alerts: number;
  blocked: number;
  /** Datagrams dropped because their session was blocked. */
  dropped: number;
  evicted: number;
  /** Allowed sessions ended because a new policy no longer allows them. */
  revoked: number;
}

interface Context {
  policy(): ProxyPolicy;
  report(d: ProxyDecision): void;
  now(): number;
  say(line: string): void;
}

interface Listener {
  dest: UdpDestination;
  socket: Socket;
}

interface Session {
  key: string;
  listener: Listener;
  client: ProxyEndpoint;
  server: ProxyEndpoint;
  at: number;
  identifier: Identifier;
  state: 'pending' | 'allow' | 'block';
  held: Buffer[];
  heldBytes: number;
  upstream?: Socket;
  timer?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

export class UdpRelay {
  private readonly limits: UdpLimits;
  private readonly listeners = new Map<string, Listener>();
  /** Insertion order is recency: a session used again moves to the end. */
  private readonly sessions = new Map<string, Session>();
  private readonly counts = { datagrams: 0, allowed: 0, alerts: 0, blocked: 0, dropped: 0, evicted: 0, revoked: 0 };

  constructor(private readonly ctx: Context, limits: Partial<UdpLimits> = {}) {
    this.limits = { ...DEFAULT_UDP_LIMITS, ...limits };
  }

  stats(): UdpStats {
    return { ...this.counts, sessions: this.sessions.size };
  }

  /** Listens for exactly these destinations: new ones are bound, gone ones closed with their sessions. */
  async setDestinations(dests: readonly UdpDestination[]): Promise<void> {
    const wanted = new Map(dests.map((d) => [`${d.ip}|${d.port}|${d.listen}`, d]));
    for (const [key, l] of this.listeners) {
      if (wanted.has(key)) continue;
      this.listeners.delete(key);
      for (const s of [...this.sessions.values()]) if (s.listener === l) this.end(s);
      l.socket.close();
    }
    for (const [key, dest] of wanted) {
      if (this.listeners.has(key)) continue;
      const socket = dgram.createSocket({ type: isIPv6(dest.ip) ? 'udp6' : 'udp4', reuseAddr: false });
      const listener: Listener = { dest, socket };
      await new Promise<void>((resolve, reject) => {
        socket.once('error', (err) => reject(new Error(`the L7 proxy cannot listen on UDP port ${dest.listen} for ${dest.ip}:${dest.port}: ${err.message}`)));
        socket.bind({ port: dest.listen, address: isIPv6(dest.ip) ? '::' : '0.0.0.0', exclusive: true }, () => resolve());
      });
      socket.removeAllListeners('error');
      socket.on('error', (err) => this.ctx.say(`L7 proxy: UDP ${dest.listen}: ${err.message}`));
      socket.on('message', (msg, rinfo) => this.onMessage(listener, msg, rinfo.address, rinfo.port));
      this.listeners.set(key, listener);
    }
  }

  close(): void {
    for (const s of [...this.sessions.values()]) this.end(s);
    for (const l of this.listeners.values()) l.socket.close();
    this.listeners.clear();
  }

  private onMessage(listener: Listener, msg: Buffer, address: string, port: number): void {
    this.counts.datagrams++;
    const ip = canonicalIp(address) ?? address;
    const key = `${listener.dest.listen}|${ip}|${port}`;
    let s = this.sessions.get(key);
    if (s === undefined) s = this.open(key, listener, ip, port);
    else {
      this.sessions.delete(key);
      this.sessions.set(key, s);
    }
    this.touch(s);
    if (s.state === 'block') {
      this.counts.dropped++;
      return;
    }
    if (s.state === 'allow') {
      s.upstream?.send(msg);
      return;
    }
    s.held.push(msg);
    s.heldBytes += msg.length;
    s.identifier.feed('c2s', msg);
    const r = s.identifier.result();
    if (r.confidence === 'dpi' || r.done) this.decide(s, r.confidence === 'dpi' ? 'identified' : 'dpi-gave-up');
    else if (s.held.length >= this.limits.pendingDatagrams || s.heldBytes >= this.limits.pendingBytes) this.decide(s, 'bytes');
  }

  private open(key: string, listener: Listener, ip: string, port: number): Session {
    while (this.sessions.size >= this.limits.maxSessions) {
      const oldest = this.sessions.values().next().value as Session;
      this.counts.evicted++;
      this.end(oldest);
    }
    const at = this.ctx.now();
    const policy = this.ctx.policy();
    const client: ProxyEndpoint = { ip, port };
    const server: ProxyEndpoint = { ip: listener.dest.ip, port: listener.dest.port };
    for (const end of [client, server]) {
      const w = policy.workloadAt(end.ip, at);
      if (w !== undefined) end.workload = w;
    }
    const s: Session = { key, listener, client, server, at, identifier: new Identifier('udp', port, listener.dest.port), state: 'pending', held: [], heldBytes: 0 };
    this.sessions.set(key, s);
    s.timer = setTimeout(() => this.decide(s, 'timeout'), this.limits.pendingMs);
    return s;
  }

  /**
   * Decides every decided session again with the policy in force: one whose decision changed
   * ends, so its next datagram starts a session decided afresh. Returns how many allowed sessions
   * were cut.
   */
  revisit(): number {
    let cut = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.state === 'pending') continue;
      const refused = refusedNow(this.ctx.policy(), connectionOf('udp', s.client, s.server, s.at, ...appOf(s.identifier.result())));
      if ((refused ? 'block' : 'allow') === s.state) continue;
      if (s.state === 'allow') cut++;
      this.end(s);
    }
    this.counts.revoked += cut;
    return cut;
  }

  private touch(s: Session): void {
    clearTimeout(s.idle);
    s.idle = setTimeout(() => this.end(s), this.limits.idleMs);
  }

  private decide(s: Session, trigger: ProxyDecision['trigger']): void {
    if (s.state !== 'pending' || this.sessions.get(s.key) !== s) return;
    clearTimeout(s.timer);
    const r = s.identifier.result();
    const verdict = this.ctx.policy().decide(connectionOf('udp', s.client, s.server, s.at, identifiedApp(r), false));
    const d = decisionOf({
      ipProto: 'udp', at: s.at, now: this.ctx.now(), client: s.client, server: s.server, identification: r, verdict, trigger,
      c2s: s.held, s2c: [], evidenceBytes: this.limits.evidenceBytes,
    });
    const action = d.action;
    this.ctx.report(d);
    if (action === 'block') {
      this.counts.blocked++;
      this.counts.dropped += s.held.length;
      s.state = 'block';
      s.held = [];
      return;
    }
    if (action === 'alert') this.counts.alerts++;
    else this.counts.allowed++;
    s.state = 'allow';
    const up = dgram.createSocket(isIPv6(s.server.ip) ? 'udp6' : 'udp4');
    s.upstream = up;
    up.on('error', (err) => this.ctx.say(`L7 proxy: UDP ${s.client.ip}:${s.client.port} → ${s.server.ip}:${s.server.port}: ${err.message}`));
    // Replies leave through the listening socket: conntrack gives them the server's address back.
    up.on('message', (reply) => {
      if (this.sessions.get(s.key) !== s) return;
      this.touch(s);
      s.listener.socket.send(reply, s.client.port, s.client.ip);
    });
    up.connect(s.server.port, s.server.ip, () => {
      for (const m of s.held) up.send(m);
      s.held = [];
    });
  }

  private end(s: Session): void {
    clearTimeout(s.timer);
    clearTimeout(s.idle);
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
    s.held = [];
    if (s.upstream !== undefined) {
      try {
        s.upstream.close();
      } catch {
        // already closed
      }
    }
  }
}
