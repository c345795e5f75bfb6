// The kernel's connection tracking table in the node's network namespace, read and pruned with
// the conntrack program (conntrack-tools). The table accepts established connections first, so a
// connection stays open after a policy change took away the rule that let it in; the agent
// removes such connections from the tracking table once the new table is in force, and their next
// packet meets the new table as a new connection: dropped and reported like any other attempt.
//
// Only TCP and UDP entries whose reply direction mirrors the original one are considered: a
// translated entry (the L7 proxy's redirect) belongs to the proxy, which revisits its own
// connections. The listing is read line by line, so a table of any size costs memory only for
// what is removed (bounded by `limit`).

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { canonicalIp } from '../model/address.js';
import { inNamespace, runIn, type NftTarget } from './nft/apply.js';

export interface TrackedConnection {
  proto: 'tcp' | 'udp';
  /** The side that sent the first packet (conntrack's original direction). */
  client: { ip: string; port: number };
  server: { ip: string; port: number };
}

/**
 * One line of `conntrack -L`, e.g.
 * `tcp 6 431999 ESTABLISHED src=A dst=B sport=P dport=Q src=B dst=A sport=Q dport=P [ASSURED] mark=0 use=1`;
 * undefined for other protocols, lines it cannot read, and translated entries.
 */
export function parseTracked(line: string): TrackedConnection | undefined {
  const words = line.trim().split(/\s+/);
  const proto = words[0];
  if (proto !== 'tcp' && proto !== 'udp') return undefined;
  // The first src/dst/sport/dport are the original direction, the second the reply.
  const seen: Record<string, string[]> = { src: [], dst: [], sport: [], dport: [] };
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) continue;
    const list = seen[w.slice(0, eq)];
    if (list !== undefined) list.push(w.slice(eq + 1));
  }
  const [src, rsrc] = seen.src as string[];
  const [dst, rdst] = seen.dst as string[];
  const [sport, rsport] = seen.sport as string[];
  const [dport, rdport] = seen.dport as string[];
  if (src === undefined || dst === undefined || sport === undefined || dport === undefined) return undefined;
  const client = canonicalIp(src);
  const server = canonicalIp(dst);
  const ip = (text: string | undefined): string | undefined => (text === undefined ? undefined : canonicalIp(text));
  if (ip(rsrc) !== server || ip(rdst) !== client || rsport !== dport || rdport !== sport) return undefined;
  const cport = Number(sport);
  const sport2 = Number(dport);
  if (client === undefined || server === undefined || !Number.isInteger(cport) || !Number.isInteger(sport2)) return undefined;
  return { proto, client: { ip: client, port: cport }, server: { ip: server, port: sport2 } };
}

export interface PruneResult {
  /** TCP and UDP entries read (translated ones included). */
  seen: number;
  /** Entries removed. */
  removed: number;
  /** Entries that should have gone beyond `limit`: left for the next prune. */
  over: number;
}

/** The conntrack program is missing or refused: what it said, for the operator. */
export class ConntrackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConntrackError';
  }
}

/** Removes at most this many entries per prune (each costs a line of input to conntrack). */
const DEFAULT_LIMIT = 100_000;

/**
 * Removes from the tracking table every connection `keep` refuses, in both address families,
 * and resolves with the counts.
 */
export async function pruneTracked(target: NftTarget, keep: (c: TrackedConnection) => boolean, limit = DEFAULT_LIMIT): Promise<PruneResult> {
  const result: PruneResult = { seen: 0, removed: 0, over: 0 };
  const gone: string[] = [];
  // Connections to or from the namespace's own addresses (the L7 proxy's upstream legs) are not
  // forwarded: the table does not filter them, so they are never removed.
  const own = await ownAddresses(target);
  for (const family of ['ipv4', 'ipv6'] as const) {
    await listing(target, family, (line) => {
      if (!line.startsWith('tcp') && !line.startsWith('udp')) return;
      result.seen++;
      const c = parseTracked(line);
      if (c === undefined || own.has(c.client.ip) || own.has(c.server.ip) || keep(c)) return;
      if (gone.length >= limit) {
        result.over++;
        return;
      }
      gone.push(`-D -f ${family} -p ${c.proto} -s ${c.client.ip} -d ${c.server.ip} --sport ${c.client.port} --dport ${c.server.port}`);
    });
  }
  if (gone.length > 0) result.removed = await remove(target, gone);
  return result;
}

/** The addresses of the namespace's own interfaces (`ip -j address show`). */
async function ownAddresses(target: NftTarget): Promise<Set<string>> {
  const r = await runIn(target, ['ip', '-j', 'address', 'show']);
  if (r.code !== 0) throw new ConntrackError(`ip address show failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
  const out = new Set<string>();
  try {
    for (const link of JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[]) {
      for (const a of link.addr_info ?? []) {
        const ip = a.local === undefined ? undefined : canonicalIp(a.local);
        if (ip !== undefined) out.add(ip);
      }
    }
  } catch (err) {
    throw new ConntrackError(`ip address show: ${(err as Error).message}`);
  }
  return out;
}

function missing(err: NodeJS.ErrnoException): Error {
  return err.code === 'ENOENT' ? new ConntrackError('the conntrack program (Debian package conntrack) is not installed') : err;
}

/** Streams `conntrack -L -f family` line by line. */
function listing(target: NftTarget, family: 'ipv4' | 'ipv6', onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = inNamespace(target, ['conntrack', '-L', '-f', family]);
    const child = spawn(program as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (said = (said + t).slice(-4096)));
    child.on('error', (err) => reject(missing(err)));
    createInterface({ input: child.stdout }).on('line', onLine);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new ConntrackError(`conntrack -L -f ${family} failed: ${said.trim() || `exit code ${code}`}`));
    });
  });
}

/**
 * Deletes the entries in one conntrack run (`-R file`: one command per line; conntrack cannot
 * read its stdin under `ip netns exec`); an entry that ended meanwhile is not an error. Resolves
 * with how many conntrack reported deleted (it prints each one).
 */
async function remove(target: NftTarget, lines: string[]): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-conntrack-'));
  try {
    const file = join(dir, 'delete');
    await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    const r = await runIn(target, ['conntrack', '-R', file]).catch((err: NodeJS.ErrnoException) => {
      throw missing(err);
    });
    const deleted = r.stdout.split('\n').filter((line) => line.startsWith('tcp') || line.startsWith('udp')).length;
    if (r.code !== 0 && deleted === 0) throw new ConntrackError(`conntrack -R failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
    return deleted;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
