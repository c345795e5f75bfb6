// Where a redirected TCP connection was going. The nat chain's `redirect` rewrites the destination
// to the proxy's own port; the kernel keeps the original in the connection's conntrack entry and
// hands it out through getsockopt(SO_ORIGINAL_DST) on the accepted socket (linux/netfilter_ipv4.h
// and netfilter_ipv6/ip6_tables.h). Node has no binding for it, so libc's getsockopt is called
// through koffi. A connection that was not redirected (someone dialled the proxy port directly)
// has no NAT entry: the call fails with ENOENT and the answer is undefined.

import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { formatIpv4, formatIpv6 } from '../../model/address.js';

const SOL_IP = 0;
const SOL_IPV6 = 41;
/** The same number at both levels. */
const SO_ORIGINAL_DST = 80;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCKADDR_IN = 16;
const SOCKADDR_IN6 = 28;

export interface Destination {
  ip: string;
  port: number;
}

type GetSockOpt = (fd: number, level: number, name: number, value: Buffer, length: number[]) => number;

let getsockopt: GetSockOpt | undefined;
let loadError: Error | undefined;

/** Loads the binding once; throws an error an operator can act on when it cannot be loaded. */
function binding(): GetSockOpt {
  if (getsockopt !== undefined) return getsockopt;
  if (loadError !== undefined) throw loadError;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as { load(lib: string): { func(signature: string): GetSockOpt } };
    const libc = koffi.load('libc.so.6');
    getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *length)');
    return getsockopt;
  } catch (err) {
    loadError = new Error(`the L7 proxy cannot read original destinations: loading getsockopt from libc through koffi failed (${(err as Error).message})`);
    throw loadError;
  }
}

/** Throws when the binding is unavailable, so a proxy refuses to start rather than refuse every connection. */
export function checkOriginalDestination(): void {
  binding();
}

/** The file descriptor behind an accepted socket (libuv's TCP handle on Unix). */
function fdOf(socket: Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

/** The destination the client dialled before the redirect, or undefined when it was not redirected. */
export function originalDestination(socket: Socket): Destination | undefined {
  const fd = fdOf(socket);
  if (fd === undefined) return undefined;
  const call = binding();
  const v6 = socket.remoteFamily === 'IPv6' && !(socket.remoteAddress ?? '').startsWith('::ffff:');
  const value = Buffer.alloc(SOCKADDR_IN6);
  const length = [v6 ? SOCKADDR_IN6 : SOCKADDR_IN];
  if (call(fd, v6 ? SOL_IPV6 : SOL_IP, SO_ORIGINAL_DST, value, length) !== 0) return undefined;
  const family = value.readUInt16LE(0);
  const port = value.readUInt16BE(2);
  if (family === AF_INET && (length[0] ?? 0) >= SOCKADDR_IN) return { ip: formatIpv4(value.readUInt32BE(4)), port };
  if (family === AF_INET6 && (length[0] ?? 0) >= SOCKADDR_IN6) {
    let v = 0n;
    for (let i = 8; i < 24; i++) v = (v << 8n) | BigInt(value[i] as number);
    return { ip: formatIpv6(v), port };
  }
  return undefined;
}
