// Runs the CLI in-process with what it prints captured, for the commands' tests.
import { main } from '../../src/cli/main.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  // The test runner talks to its parent through stdout in binary chunks: those pass through.
  const capture = (into: string[], original: typeof process.stdout.write) =>
    ((chunk: string | Uint8Array, ...rest: never[]) => (typeof chunk === 'string' ? into.push(chunk) > 0 : original(chunk, ...rest))) as typeof process.stdout.write;
  process.stdout.write = capture(out, stdout);
  process.stderr.write = capture(err, stderr);
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
    process.exitCode = 0;
  }
}

/** The analysis fixture policy over the shop inventory. */
export const FIXTURE = ['--policy', 'test/fixtures/analyze/v1', '--inventory', 'examples/shop/inventory.yaml'];
