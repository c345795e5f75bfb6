// `palisade inspect FILE...`: captures to Flow records with the application identified from the
// payload, then a summary by application. Argument parsing and output only; the work is in dpi/.

import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import { inspect } from '../dpi/flows.js';
import type { Flow } from '../model/flow.js';
import { CaptureError, type PipelineStats } from '../packet/index.js';
import { setExitCode, type RegisterCommand } from './commands.js';
import { addressIndexOption, FLOW_FORMATS, flowFormat, renderJson, renderTable } from './flow-output.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';


interface Options {
  format: string;
  inventory?: string;
}

export const registerInspect: RegisterCommand = (program: Command) => {
  program
    .command('inspect')
    .description('identify the application protocol of every flow in pcap/pcapng captures')
    .argument('<file...>', 'pcap or pcapng files ("-" reads standard input)')
    .option('--format <format>', `output: ${FLOW_FORMATS.join(', ')} (jsonl: one Flow JSON object per line, nothing else)`, 'table')
    .option('--inventory <file>', 'workload inventory (Palisade YAML/JSON or kubectl JSON) to attribute addresses to workloads')
    .action(async (files: string[], opts: Options) => setExitCode(await runInspect(files, opts)));
};

async function runInspect(files: string[], opts: Options): Promise<number> {
  const format = flowFormat(opts.format);
  const index = await addressIndexOption(opts.inventory);

  const kept: Flow[] = [];
  const onFlow = (f: Flow): void => {
    index?.attribute(f);
    if (format === 'jsonl') process.stdout.write(`${JSON.stringify(f)}\n`);
    else kept.push(f);
  };

  let damaged = false;
  for (const file of files) {
    try {
      const stats = await inspect(progressInput(file), onFlow);
      damaged = reportDamage(file, stats) || damaged;
    } catch (err) {
      if (err instanceof CaptureError) {
        process.stderr.write(`palisade: ${file}: ${err.message}\n`);
        return EXIT_USAGE;
      }
      if (isFsError(err)) throw new UsageError(`${file}: ${err.message}`);
      throw err;
    }
  }

  if (format === 'json') process.stdout.write(renderJson(kept));
  if (format === 'table') process.stdout.write(renderTable(kept));
  return damaged ? EXIT_FAILED : EXIT_OK;
}

function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/** Recoverable damage: skipped and counted, reported on stderr with what was lost. */
function reportDamage(file: string, s: PipelineStats): boolean {
  const c = s.capture;
  const problems: string[] = [];
  if (c.truncatedRecords) problems.push(`${c.truncatedRecords} truncated record(s) skipped`);
  if (c.corruptBlocks) problems.push(`${c.corruptBlocks} corrupt block(s), ${c.resyncBytes} byte(s) skipped to resynchronise`);
  if (c.badRecords) problems.push(`${c.badRecords} bad record(s) skipped`);
  const dropped = Object.entries(s.decode.dropped).filter(([, n]) => n > 0);
  if (dropped.length) problems.push(`undecodable packets: ${dropped.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (s.sessions.ended.evicted) problems.push(`${s.sessions.ended.evicted} session(s) evicted by the session-table cap`);
  for (const p of problems) process.stderr.write(`palisade: ${file}: ${p}\n`);
  return c.truncatedRecords + c.corruptBlocks + c.badRecords > 0;
}

/** The file as a stream; on a terminal, big inputs show how far reading has got. */
function progressInput(file: string): string | AsyncIterable<Uint8Array> {
  if (file === '-' || !process.stderr.isTTY) return file;
  const size = statSync(file).size;
  if (size < 32 * 1024 * 1024) return file;
  return (async function* () {
    let done = 0;
    let shown = -1;
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      done += chunk.length;
      const pct = Math.floor((100 * done) / size);
      if (pct !== shown) {
        shown = pct;
        process.stderr.write(`\r${file}: ${pct}%`);
      }
      yield chunk;
    }
    process.stderr.write('\r\x1b[K');
  })();
}
