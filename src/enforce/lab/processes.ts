// The lab's own processes, tracked by PID and start time in the state directory, so that `lab
// down` (a later run of the program) ends exactly the processes `lab up` started and no other
// process that happens to reuse a PID.

import { readFileSync } from 'node:fs';

export interface TrackedProcess {
  /** What runs: "postgres", "nginx", "traffic", ... */
  name: string;
  /** The pod (by name) whose namespace it runs in. */
  pod: string;
  pid: number;
  /** Kernel start time (clock ticks after boot, /proc/PID/stat field 22): tells a reused PID apart. */
  startTime: number;
  /** How to ask it to stop; SIGTERM unless it ignores that (rabbitmq-server's wrapper does). */
  stopSignal?: NodeJS.Signals;
}

interface ProcStat {
  state: string;
  startTime: number;
}

function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '', startTime: Number(rest[19]) };
}

/** Identifies a process just started, for tracking. */
export function track(name: string, pod: string, pid: number, stopSignal?: NodeJS.Signals): TrackedProcess {
  const stat = procStat(pid);
  if (stat === undefined) throw new Error(`${name} in ${pod} exited at once (pid ${pid})`);
  return { name, pod, pid, startTime: stat.startTime, ...(stopSignal === undefined ? {} : { stopSignal }) };
}

/** The tracked process still runs (a zombie has ended; a PID with another start time is not ours). */
export function isRunning(p: TrackedProcess): boolean {
  const stat = procStat(p.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === p.startTime;
}

function signal(p: TrackedProcess, sig: NodeJS.Signals): void {
  if (!isRunning(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // ended between the check and the signal
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Ends tracked processes: their stop signal, then SIGKILL for those still running after graceMs. */
export async function stopAll(processes: readonly TrackedProcess[], graceMs = 5000): Promise<void> {
  for (const p of processes) signal(p, p.stopSignal ?? 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processes.some(isRunning) && Date.now() < deadline) await sleep(100);
  for (const p of processes) signal(p, 'SIGKILL');
}
