// The live tap: the capture stage's source on a running node. tcpdump (inside a network namespace
// when asked) writes pcap to its stdout, and that stream feeds readCapture() as a file would. The
// tcpdump stays ours: stop() ends it and reports its counters, and it dies with this process.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';

export interface LiveCaptureOptions {
  /** Interface to capture on, as named inside the namespace. */
  interface: string;
  /** Network namespace (a name under /run/netns, as `ip netns` manages them). */
  netns?: string;
  /** A pcap-filter(7) expression, e.g. "tcp port 443". */
  filter?: string;
  /** Bytes kept of each packet; tcpdump's default (262144) when absent. */
  snaplen?: number;
  /** The tcpdump program: a path, or a name looked up in PATH. */
  tcpdump?: string;
}

/** tcpdump's own counters, as it prints them when it stops. */
export interface TcpdumpStats {
  /** Packets written to the pcap stream. */
  captured: number;
  /** Packets that matched the filter (kernel count; includes those later dropped). */
  receivedByFilter: number;
  /** Packets the kernel dropped because the capture buffer was full: the reader fell behind. */
  droppedByKernel: number;
  /** Packets the interface dropped, when tcpdump reports it. */
  droppedByInterface?: number;
}

export type LiveCaptureErrorKind =
  | 'missing-program'
  | 'no-such-namespace'
  | 'no-such-interface'
  | 'bad-filter'
  | 'bad-option'
  | 'permission-denied'
  | 'tcpdump-failed';

/** Why a live capture could not start or ended badly; all but tcpdump-failed are the user's to fix (exit 2). */
export class LiveCaptureError extends Error {
  constructor(
    readonly kind: LiveCaptureErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'LiveCaptureError';
  }
}

export interface LiveCapture {
  /**
   * The pcap byte stream. Read it, or tcpdump blocks and the kernel drops packets. Packets still in
   * the kernel's buffer when stop() is called are counted by tcpdump but may not reach the stream.
   */
  readonly pcap: Readable;
  /** tcpdump's process id. */
  readonly pid: number;
  /**
   * Stops tcpdump (SIGINT) and resolves with its counters once it has written its last packet and
   * exited. Calling it again, or after tcpdump ended by itself, gives the same result.
   */
  stop(): Promise<TcpdumpStats>;
  /** Settles when tcpdump ends, whoever ended it. */
  readonly ended: Promise<TcpdumpStats>;
}

const MAX_SNAPLEN = 262144;
/** Linux IFNAMSIZ less the terminating NUL. */
const MAX_IFNAME = 15;
/** Enough stderr to classify a failure and read the counters; the rest is dropped. */
const MAX_STDERR = 16 * 1024;

/** Finds a program the way execvp would, plus the sbin directories a non-login PATH may lack. */
function findProgram(name: string, debianPackage: string): string {
  if (name.includes('/')) {
    if (isExecutable(name)) return name;
    throw new LiveCaptureError('missing-program', `${name} not found or not executable`);
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  throw new LiveCaptureError('missing-program', `${name} not found in PATH (Debian package ${debianPackage})`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function validate(opts: LiveCaptureOptions): void {
  const name = opts.interface;
  if (name.length === 0 || name.length > MAX_IFNAME || /[\s/:]/.test(name) || name.startsWith('-')) {
    throw new LiveCaptureError('bad-option', `invalid interface name "${name}"`);
  }
  if (opts.snaplen !== undefined && (!Number.isInteger(opts.snaplen) || opts.snaplen < 1 || opts.snaplen > MAX_SNAPLEN)) {
    throw new LiveCaptureError('bad-option', `snaplen must be an integer from 1 to ${MAX_SNAPLEN}, not ${opts.snaplen}`);
  }
  if (opts.netns !== undefined) {
    if (opts.netns === '' || opts.netns.includes('/') || opts.netns.startsWith('.')) {
      throw new LiveCaptureError('bad-option', `invalid network namespace name "${opts.netns}"`);
    }
    if (!existsSync(join('/run/netns', opts.netns))) {
      throw new LiveCaptureError('no-such-namespace', `network namespace "${opts.netns}" does not exist (see ip netns list)`);
    }
  }
}

/** The argv that runs tcpdump: in the namespace, with the death signal set, streaming pcap to stdout. */
function commandLine(opts: LiveCaptureOptions): string[] {
  const tcpdump = findProgram(opts.tcpdump ?? 'tcpdump', 'tcpdump');
  // If this process dies without stopping it, the kernel sends tcpdump SIGTERM. tcpdump must then
  // keep its uid (-Z root): dropping privileges would clear the death signal.
  const setpriv = findProgram('setpriv', 'util-linux');
  // --immediate-mode: packets reach the stream as they arrive, not when a kernel buffer block
  // fills or times out; otherwise a stop soon after traffic loses the packets still in the ring.
  const capture = [tcpdump, '-Z', 'root', '-U', '--immediate-mode', '-n', '-w', '-', '-i', opts.interface];
  if (opts.snaplen !== undefined) capture.push('-s', String(opts.snaplen));
  // "--" so that a filter can never be read as an option.
  if (opts.filter !== undefined && opts.filter.trim() !== '') capture.push('--', opts.filter);
  const guarded = [setpriv, '--pdeathsig', 'TERM', '--', ...capture];
  if (opts.netns === undefined) return guarded;
  return [findProgram('ip', 'iproute2'), 'netns', 'exec', opts.netns, ...guarded];
}

/** The counters tcpdump prints on exit, or undefined when it printed none (it was killed). */
export function parseTcpdumpStats(stderr: string): TcpdumpStats | undefined {
  const count = (what: string): number | undefined => {
    const m = new RegExp(`^(\\d+) packets? ${what}$`, 'm').exec(stderr);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const captured = count('captured');
  const receivedByFilter = count('received by filter');
  const droppedByKernel = count('dropped by kernel');
  if (captured === undefined || receivedByFilter === undefined || droppedByKernel === undefined) return undefined;
  const stats: TcpdumpStats = { captured, receivedByFilter, droppedByKernel };
  const droppedByInterface = count('dropped by interface');
  if (droppedByInterface !== undefined) stats.droppedByInterface = droppedByInterface;
  return stats;
}

/** Turns what tcpdump (or ip netns exec) said before giving up into an error the user can act on. */
export function classifyFailure(stderr: string, opts: LiveCaptureOptions): LiveCaptureError {
  const said = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('tcpdump: listening on'))
    .join('; ');
  const where = opts.netns === undefined ? '' : ` in network namespace "${opts.netns}"`;
  if (/Cannot open network namespace/i.test(stderr)) {
    return new LiveCaptureError('no-such-namespace', `network namespace "${opts.netns ?? ''}" does not exist (${said})`);
  }
  if (/No such device|doesn't exist|no such interface/i.test(stderr)) {
    return new LiveCaptureError('no-such-interface', `no interface "${opts.interface}"${where} (${said})`);
  }
  if (/syntax error|parse filter expression|illegal|unknown host|not supported on/i.test(stderr)) {
    return new LiveCaptureError('bad-filter', `tcpdump rejected the filter "${opts.filter ?? ''}" (${said})`);
  }
  if (/permission|not permitted/i.test(stderr)) {
    return new LiveCaptureError('permission-denied', `not allowed to capture on "${opts.interface}"${where}: run as root or with CAP_NET_RAW and CAP_NET_ADMIN (${said})`);
  }
  return new LiveCaptureError('tcpdump-failed', `tcpdump failed on "${opts.interface}"${where}: ${said || 'no message'}`);
}

/**
 * Starts tcpdump and resolves once it is capturing (it said "listening on"), so that traffic sent
 * after the promise resolves is in the stream. Rejects with a LiveCaptureError when it cannot start.
 */
export async function startLiveCapture(opts: LiveCaptureOptions): Promise<LiveCapture> {
  validate(opts);
  const [program, ...args] = commandLine(opts);
  const child = spawn(program as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  let stderr = '';
  let listening = false;
  let endWith!: { resolve: (s: TcpdumpStats) => void; reject: (e: Error) => void };
  const ended = new Promise<TcpdumpStats>((resolve, reject) => {
    endWith = { resolve, reject };
  });
  // A caller that never asks must still not see an unhandled rejection.
  ended.catch(() => undefined);

  return new Promise<LiveCapture>((resolveStart, rejectStart) => {
    const fail = (e: LiveCaptureError): void => {
      endWith.reject(e);
      rejectStart(e);
    };
    let signalled = false;
    const capture: LiveCapture = {
      pcap: child.stdout,
      pid: child.pid ?? -1,
      ended,
      stop() {
        if (!signalled) {
          signalled = true;
          // tcpdump blocks writing to a full pipe and would never act on the signal: drain an unread stream.
          if (child.stdout.readableFlowing === null) child.stdout.resume();
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        }
        return ended;
      },
    };

    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < MAX_STDERR) stderr += text.slice(0, MAX_STDERR - stderr.length);
      if (!listening && /listening on /.test(stderr)) {
        listening = true;
        resolveStart(capture);
      }
    });

    child.on('error', (err: NodeJS.ErrnoException) => {
      fail(new LiveCaptureError(err.code === 'ENOENT' ? 'missing-program' : 'tcpdump-failed', `cannot run ${program}: ${err.message}`));
    });

    // 'close' comes after stdout and stderr are drained, so the counters are complete.
    child.on('close', (code, signal) => {
      if (!listening) {
        fail(classifyFailure(stderr, opts));
        return;
      }
      const stats = parseTcpdumpStats(stderr);
      if (stats !== undefined) endWith.resolve(stats);
      else endWith.reject(new LiveCaptureError('tcpdump-failed', `tcpdump ended (${signal ?? `exit ${code}`}) without its counters: ${stderr.trim() || 'no message'}`));
    });
  });
}
