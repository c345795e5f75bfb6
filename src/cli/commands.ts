// The list of commands. Each entry adds one command (and its sub-commands) to the program.
// A command's action reports its outcome with setExitCode(code).

import type { Command } from 'commander';
import { registerAgent } from './agent.js';
import { registerAnalyze } from './analyze.js';
import { registerCheck } from './check.js';
import { registerDemo } from './demo.js';
import { registerDiff } from './diff.js';
import { registerExport } from './export.js';
import { registerCapture } from './capture.js';
import { registerInspect } from './inspect.js';
import { registerLab } from './lab.js';
import { registerLearn } from './learn.js';
import { registerMap } from './map.js';
import { registerPolicy } from './policy.js';
import { registerReplay } from './replay.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerAgent,
  registerAnalyze,
  registerCheck,
  registerDemo,
  registerDiff,
  registerExport,
  registerInspect,
  registerLab,
  registerCapture,
  registerLearn,
  registerMap,
  registerPolicy,
  registerReplay,
];

/** Records the exit code of the running action (0 ok, 1 check failed, 2 bad input). */
export function setExitCode(code: number): void {
  process.exitCode = code;
}
