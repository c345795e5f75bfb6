// Sink: events to a syslog collector (rsyslog, syslog-ng, a SIEM) as RFC 5424 messages, over UDP
// (RFC 5426: one message per datagram, fire and forget) or TCP (RFC 6587 octet counting), where a
// lost connection is re-established with backoff while events wait in a bounded queue.
//
// API: new SyslogSink({ host, port, transport, facility?, ... }); write(event); await close();
//      stats: delivered / dropped (queue full, oldest first) / failed (send errors, unsent at close).

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { Event } from './event.js';
import { emptyDeliveryStats, type DeliveryStats, type EventSink } from './sink.js';
import { formatSyslog, octetCounted, type Facility, type SyslogFormat } from './syslog.js';

export interface SyslogOptions {
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
  facility: Facility;
  /** HOSTNAME of the messages: this machine's name unless set. */
  hostname: string;
  appName: string;
  maxMessageBytes: number;
  /** Messages waiting for a TCP connection (or in flight over UDP); beyond, the oldest are dropped. */
  maxQueue: number;
  reconnect: BackoffOptions;
  /** How long close() waits for the queue to drain before giving up on the rest. */
  closeTimeoutMs: number;
}

export const DEFAULT_SYSLOG_OPTIONS: Omit<SyslogOptions, 'host' | 'port' | 'transport' | 'hostname'> = {
  facility: 'local0',
  appName: 'palisade',
  maxMessageBytes: 8192,
  maxQueue: 10_000,
  reconnect: { baseMs: 200, maxMs: 30_000 },
  closeTimeoutMs: 5_000,
};

export type SyslogSinkOptions = Pick<SyslogOptions, 'host' | 'port' | 'transport'> & Partial<SyslogOptions>;

export class SyslogSink implements EventSink {
  readonly stats: DeliveryStats = emptyDeliveryStats();
  private readonly options: SyslogOptions;
  private readonly format: SyslogFormat;
  private readonly transport: UdpTransport | TcpTransport;

  constructor(options: SyslogSinkOptions) {
    this.options = { ...DEFAULT_SYSLOG_OPTIONS, hostname: hostname(), ...options };
    this.format = {
      facility: this.options.facility,
      hostname: this.options.hostname,
      appName: this.options.appName,
      procId: String(process.pid),
      maxBytes: this.options.maxMessageBytes,
    };
    this.transport = this.options.transport === 'udp' ? new UdpTransport(this.options, this.stats) : new TcpTransport(this.options, this.stats);
  }

  write(event: Event): void {
    this.transport.send(formatSyslog(event, this.format));
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

class UdpTransport {
  private readonly socket: UdpSocket;
  private inFlight = 0;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly options: SyslogOptions,
    private readonly stats: DeliveryStats,
  ) {
    this.socket = createSocket(isIPv6(options.host) ? 'udp6' : 'udp4');
    // Send errors arrive through the callbacks; the socket-level event would otherwise throw.
    this.socket.on('error', () => undefined);
  }

  send(message: string): void {
    if (this.closed) throw new Error('syslog sink is closed');
    if (this.inFlight >= this.options.maxQueue) {
      this.stats.dropped++;
      return;
    }
    this.inFlight++;
    this.socket.send(Buffer.from(message), this.options.port, this.options.host, (error) => {
      if (error) this.stats.failed++;
      else this.stats.delivered++;
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

class TcpTransport {
  private readonly queue: Buffer[] = [];
  private socket: Socket | undefined;
  private connected = false;
  /** Frames handed to the socket whose write has not completed. */
  private writing: Buffer[] = [];
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly options: SyslogOptions,
    private readonly stats: DeliveryStats,
  ) {
    this.connect();
  }

  send(message: string): void {
    if (this.closing) throw new Error('syslog sink is closed');
    if (this.queue.length + this.writing.length >= this.options.maxQueue) {
      this.stats.dropped++;
      // Frames already in the socket cannot be taken back: then the newest is the one dropped.
      if (this.queue.length === 0) return;
      this.queue.shift();
    }
    this.queue.push(octetCounted(message));
    this.flush();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.queue.length > 0 || this.writing.length > 0) {
      const done = new Promise<void>((resolve) => (this.drained = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeTimeoutMs)));
      await Promise.race([done, timeout]);
      clearTimeout(timer);
    }
    clearTimeout(this.retryTimer);
    this.stats.failed += this.queue.length + this.writing.length;
    this.queue.length = 0;
    this.writing = [];
    const socket = this.socket;
    this.socket = undefined;
    // A socket still connecting may never finish; only a connected one is ended politely.
    if (socket && this.connected) await new Promise<void>((resolve) => socket.end(() => resolve()));
    socket?.destroy();
  }

  private connect(): void {
    this.retryTimer = undefined;
    const socket = connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      this.failures = 0;
      this.flush();
    });
    // The collector never talks back; reading keeps a half-closed peer from going unnoticed.
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => this.lost(socket));
  }

  /** The connection is gone: unfinished frames go back to the front of the queue, then retry. */
  private lost(socket: Socket): void {
    if (this.socket !== socket) return;
    this.connected = false;
    this.socket = undefined;
    this.queue.unshift(...this.writing);
    this.writing = [];
    while (this.queue.length > this.options.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
    }
    if (this.closing && this.queue.length === 0) return;
    this.failures++;
    this.retryTimer = setTimeout(() => this.connect(), backoffDelay(this.failures, this.options.reconnect));
    this.retryTimer.unref();
  }

  private flush(): void {
    const socket = this.socket;
    if (!this.connected || socket === undefined) return;
    while (this.queue.length > 0) {
      const frame = this.queue.shift() as Buffer;
      this.writing.push(frame);
      socket.write(frame, (error) => this.written(socket, frame, error));
    }
  }

  private written(socket: Socket, frame: Buffer, error: Error | null | undefined): void {
    if (error || this.socket !== socket) return;
    // Writes complete in order, so the frame is normally the first one outstanding.
    const at = this.writing[0] === frame ? 0 : this.writing.indexOf(frame);
    if (at < 0) return;
    this.writing.splice(at, 1);
    this.stats.delivered++;
    if (this.closing && this.queue.length === 0 && this.writing.length === 0) this.drained?.();
  }
}
