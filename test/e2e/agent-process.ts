// `palisade agent` as a child process for end-to-end tests: what it reports on stdout (violations,
// one JSON line each) and says on stderr (operator messages), line by line.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Violation } from '../../src/enforce/violations.js';
import { repoRoot } from '../support/corpus.js';

export interface AgentRun {
  child: ChildProcess;
  violations: Violation[];
  messages: string[];
  /** Resolves once `want` holds (checked as lines arrive), within `ms`; rejects with everything said. */
  waitFor(what: string, want: () => boolean, ms?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Runs `palisade agent ARGS...` from the sources. */
export function runAgent(args: readonly string[]): AgentRun {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/palisade.ts'), 'agent', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: AgentRun = {
    child,
    violations: [],
    messages: [],
    waitFor(what, want, ms = 20_000) {
      return new Promise((resolve, reject) => {
        if (want()) return resolve();
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`agent: no ${what} within ${ms} ms; it said:\n${run.messages.join('\n')}\nand reported:\n${run.violations.map((v) => JSON.stringify(v)).join('\n')}`));
        }, ms);
        const poll = setInterval(() => {
          if (!want()) return;
          clearTimeout(timer);
          clearInterval(poll);
          resolve();
        }, 10);
      });
    },
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  const lines = (stream: NodeJS.ReadableStream | null, each: (line: string) => void): void => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      rest += text;
      for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
        each(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    });
  };
  lines(child.stdout, (line) => run.violations.push(JSON.parse(line) as Violation));
  lines(child.stderr, (line) => run.messages.push(line));
  return run;
}

/** Palisade's inventory of one pod per host, all on node-1, labelled app=<host>, in a namespace. */
export function inventoryYaml(namespace: string, hosts: Record<string, string>): string {
  const pods = Object.entries(hosts).map(([name, ip]) =>
    [`  - name: ${name}`, `    namespace: ${namespace}`, '    kind: Pod', `    labels: { app: ${name} }`, '    node: node-1', `    image: registry.example/${name}:1`, `    service: ${name}`, `    addresses: [${ip}]`].join('\n'));
  return `workloads:\n${pods.join('\n')}\n`;
}
