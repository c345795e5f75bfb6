// Puts a ruleset text into the kernel and takes Palisade's table out again, in the node's network
// namespace (`ip netns exec`) or in this process's own. Only `inet palisade` is ever named: other
// tables on the node are never listed, changed or removed.

import { spawn } from 'node:child_process';
import { REMOVE_TABLE, TABLE_FAMILY, TABLE_NAME } from './ruleset.js';

export interface NftTarget {
  /** Network namespace (a name under /run/netns); absent: this process's namespace. */
  netns?: string;
}

/** nft refused a script or a command: what it said, for the operator. */
export class NftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NftError';
  }
}

/** Bounds what is kept of nft's output: a listing of a large table is many megabytes, errors are short. */
const MAX_OUTPUT = 256 * 1024 * 1024;

/** argv run in the target namespace (`ip netns exec`), or as it is. */
export function inNamespace(target: NftTarget, argv: string[]): string[] {
  return target.netns === undefined ? argv : ['ip', 'netns', 'exec', target.netns, ...argv];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program in the target namespace to completion; a non-zero exit is a result, not an error. */
export function runIn(target: NftTarget, argv: string[], input?: string): Promise<RunResult> {
  return run(inNamespace(target, argv), input);
}

/** Runs a program to completion with `input` on its stdin; a non-zero exit is a result, not an error. */
function run(argv: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = argv;
    const child = spawn(program as string, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    // A write error (nft exited early) shows up as nft's own exit status and message.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Loads an nft script in one transaction: all of it is in force afterwards, or none of it. */
export async function applyScript(script: string, target: NftTarget = {}): Promise<void> {
  const r = await run(inNamespace(target, ['nft', '-f', '-']), script);
  if (r.code !== 0) throw new NftError(`nft refused the ruleset${where(target)}: ${firstLines(r.stderr)}`);
}

/** Removes Palisade's table; nothing happens when it is not there. */
export async function removeTable(target: NftTarget = {}): Promise<void> {
  await applyScript(REMOVE_TABLE, target);
}

/** The table as the kernel holds it (`nft list table inet palisade`), or undefined when there is none. */
export async function listTable(target: NftTarget = {}): Promise<string | undefined> {
  const r = await run(inNamespace(target, ['nft', 'list', 'table', TABLE_FAMILY, TABLE_NAME]));
  if (r.code === 0) return r.stdout;
  if (/No such file or directory/.test(r.stderr)) return undefined;
  throw new NftError(`nft list table ${TABLE_FAMILY} ${TABLE_NAME}${where(target)}: ${firstLines(r.stderr)}`);
}

/** Whether Palisade's table is in the kernel, without listing its rules (`nft list tables inet`). */
export async function tableExists(target: NftTarget = {}): Promise<boolean> {
  const r = await run(inNamespace(target, ['nft', 'list', 'tables', TABLE_FAMILY]));
  if (r.code !== 0) throw new NftError(`nft list tables ${TABLE_FAMILY}${where(target)}: ${firstLines(r.stderr)}`);
  return r.stdout.split('\n').some((line) => line.trim() === `table ${TABLE_FAMILY} ${TABLE_NAME}`);
}

/**
 * Makes the inet hooks see traffic between pods on one bridge (DESIGN.md: bridged packets reach
 * the forward chain only with bridge-nf-call-iptables=1 in that namespace). The switch is per
 * namespace; it exists only when the kernel has br_netfilter, and routed networks do not need it.
 */
export async function enableBridgeFiltering(target: NftTarget = {}): Promise<void> {
  const r = await run(inNamespace(target, ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1']));
  if (r.code !== 0) throw new NftError(`cannot make bridged traffic visible to nftables${where(target)}: ${firstLines(r.stderr)}`);
}

function where(target: NftTarget): string {
  return target.netns === undefined ? '' : ` in network namespace ${target.netns}`;
}

function firstLines(text: string): string {
  const lines = text.trim().split('\n');
  return (lines.length > 6 ? [...lines.slice(0, 6), `(${lines.length - 6} more lines)`] : lines).join('\n') || 'no message';
}
