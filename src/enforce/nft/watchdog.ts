// Fail open when the agent is killed: a tiny shell process holds the read end of a pipe whose
// write end only the agent holds. However the agent dies (kill -9 included), the kernel closes
// that end, the read returns, and the watchdog removes Palisade's table. A clean exit disarms it
// first, so a watchdog never removes a table that a newer agent has put in place.

import { spawn } from 'node:child_process';
import { REMOVE_TABLE } from './ruleset.js';
import type { NftTarget } from './apply.js';

export interface Watchdog {
  readonly pid: number;
  /** The agent leaves in order: the watchdog exits without touching the table. */
  disarm(): void;
}

const SCRIPT = [
  'read -r word',
  '[ "$word" = disarm ] && exit 0',
  'printf %s "$PALISADE_REMOVE_TABLE" | "$@" nft -f -',
].join('\n');

export function startWatchdog(target: NftTarget): Watchdog {
  const prefix = target.netns === undefined ? [] : ['ip', 'netns', 'exec', target.netns];
  // Detached: its own process group, so a Ctrl-C meant for the agent does not end it first.
  const child = spawn('sh', ['-c', SCRIPT, 'palisade-watchdog', ...prefix], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', PALISADE_REMOVE_TABLE: REMOVE_TABLE },
  });
  child.unref();
  child.stdin.on('error', () => undefined);
  return {
    pid: child.pid ?? -1,
    disarm() {
      child.stdin.end('disarm\n');
    },
  };
}
