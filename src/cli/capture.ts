// `palisade capture --interface IF`: the live tap. tcpdump streams pcap into the same pipeline
// as `inspect`; flows are printed as their sessions end, and Ctrl-C or SIGTERM stops tcpdump
// cleanly and reports what was dropped anywhere on the way.

import type { Command } from 'commander';
import { flowPipeline } from '../dpi/flows.js';
import type { Flow } from '../model/flow.js';
import { CaptureParser } from '../packet/index.js';
import { LiveCaptureError, startLiveCapture } from '../packet/live.js';
import { setExitCode, type RegisterCommand } from './commands.js';
import { EXIT_OK, UsageError } from './errors.js';
import { addressIndexOption, FLOW_FORMATS, flowFormat, renderJson, renderTable } from './flow-output.js';

interface Options {
  interface: string;
  netns?: string;
  filter?: string;
  snaplen?: string;
  duration?: string;
  format: string;
  inventory?: string;
}

/** How often sessions idle past their timeout are ended while traffic is quiet. */
const EXPIRE_EVERY_MS = 1000;

export const registerCapture: RegisterCommand = (program: Command) => {
  program
    .command('capture')
    .description('capture live traffic with tcpdump and identify every flow as it ends')
    .requiredOption('-i, --interface <name>', 'interface to capture on (as named inside --netns)')
    .option('--netns <name>', 'network namespace of the interface (ip netns name)')
    .option('--filter <bpf>', 'pcap-filter(7) expression, e.g. "tcp port 5432"')
    .option('--snaplen <bytes>', 'bytes kept of each packet (default: whole packets)')
    .option('--duration <seconds>', 'stop by itself after this many seconds (default: until Ctrl-C or SIGTERM)')
    .option('--format <format>', `output: ${FLOW_FORMATS.join(', ')}; jsonl prints each flow as it ends`, 'jsonl')
    .option('--inventory <file>', 'workload inventory to attribute addresses to workloads')
    .action(async (opts: Options) => setExitCode(await runCapture(opts)));
};

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, not "${text}"`);
  return n;
}

async function runCapture(opts: Options): Promise<number> {
  const format = flowFormat(opts.format);
  const snaplen = positive('--snaplen', opts.snaplen);
  const duration = positive('--duration', opts.duration);
  const index = await addressIndexOption(opts.inventory);

  const kept: Flow[] = [];
  const pipeline = flowPipeline((f) => {
    index?.attribute(f);
    if (format === 'jsonl') process.stdout.write(`${JSON.stringify(f)}\n`);
    else kept.push(f);
  });
  const parser = new CaptureParser();

  let live;
  try {
    live = await startLiveCapture({
      interface: opts.interface,
      ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
      ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
      ...(snaplen !== undefined ? { snaplen } : {}),
    });
  } catch (err) {
    if (err instanceof LiveCaptureError) throw new UsageError(err.message);
    throw err;
  }
  const capture = live;
  process.stderr.write(`palisade: capturing on ${opts.interface}${opts.netns ? ` in ${opts.netns}` : ''} (tcpdump pid ${capture.pid})\n`);
  const stop = (): void => void capture.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = duration === undefined ? undefined : setTimeout(stop, duration * 1000);
  // Packet time drives session timeouts; when the wire is quiet, wall time moves it on.
  let lastPacketUs = 0;
  const ticker = setInterval(() => {
    if (lastPacketUs > 0) pipeline.expire(Math.max(lastPacketUs, Date.now() * 1000));
  }, EXPIRE_EVERY_MS);
  try {
    for await (const chunk of capture.pcap as AsyncIterable<Buffer>) {
      parser.push(chunk, (r) => {
        lastPacketUs = r.ts;
        pipeline.record(r);
      });
    }
    parser.end();
  } finally {
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    pipeline.finish();
  }
  const tcpdump = await capture.ended;

  if (format === 'json') process.stdout.write(renderJson(kept));
  if (format === 'table') process.stdout.write(renderTable(kept));
  const s = pipeline.stats(parser.stats);
  const dropped = Object.values(s.decode.dropped).reduce((a, b) => a + b, 0);
  process.stderr.write(
    `palisade: captured ${tcpdump.captured} packets; dropped by the kernel ${tcpdump.droppedByKernel}; ` +
      `undecodable ${dropped}; sessions evicted ${s.sessions.ended.evicted}\n`,
  );
  return EXIT_OK;
}
