// `palisade agent` as a child process for end-to-end tests: what it reports on stdout (violations,
// one JSON line each) and says on stderr (operator messages), line by line; and a long-lived
// client whose connection the tests follow across the agent's reloads.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Violation } from '../../src/enforce/violations.js';
import { repoRoot } from '../support/corpus.js';
import type { Lab } from './lab-netns.js';

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

export interface KeepAliveClient {
  /** Answers received so far. */
  answers(): number;
  /** Sends another request on the same connection. */
  ask(): void;
  closed(): boolean;
  /** Everything the client printed: "answered", "closed" and error codes (ECONNRESET). */
  said(): string;
  stop(): void;
}

/** One keep-alive HTTP connection from a pod to an address: a request now, another on ask(). */
export function keepAliveClient(lab: Lab, from: string, to: string, port: number): KeepAliveClient {
  const request = `'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'`;
  const client = lab.spawn(from, process.execPath, [
    '-e',
    `const s = require('node:net').connect(${port}, '${to}', () => s.write(${request}));
     s.on('data', () => console.log('answered'));
     s.on('error', (e) => console.log(e.code));
     s.on('close', () => console.log('closed'));
     process.stdin.on('data', () => s.write(${request}));`,
  ]);
  let said = '';
  client.stdout?.setEncoding('utf8').on('data', (t: string) => (said += t));
  return {
    answers: () => said.split('answered').length - 1,
    ask: () => void client.stdin?.write('again\n'),
    closed: () => said.includes('closed'),
    said: () => said,
    stop: () => void client.kill('SIGTERM'),
  };
}
