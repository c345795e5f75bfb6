// Single-core identification throughput over the reference corpus: Palisade's whole path
// (reading the file, capture parsing, decoding, sessions, reassembly, DPI, Flow records) beside
// ndpiReader on the same files, the same number of times, in alternating rounds of the same run.
// Run: npm run bench -- dpi   (env BENCH_REPEAT: corpus passes per measurement, default 100;
// BENCH_ROUNDS: alternating rounds, default 7)
//
// Every corpus pass is fresh for both tools. Palisade: a new pipeline per capture file. ndpiReader:
// `-l <passes>` over a playlist of the 46 files, which sets its detection up anew for every pass
// (a playlist that lists the files many times would keep one flow table across the repetitions,
// so from the second one on most of its flows are found already classified; see docs/BENCHMARKS.md).
// Each Palisade measurement is a new process: "cold" is its first `passes` passes, JIT compilation
// included; "warm" is the next `passes` passes in the same process. ndpiReader's figure is the sum
// of its own per-pass processing times (its detection setup, about 45 ms a pass, is not included,
// just as Palisade's module loading is not).

import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { inspect } from '../src/dpi/flows.js';

const corpus = resolve(process.env.DPI_CORPUS ?? '../shared/corpus/dpi/pcap');
const passes = Number(process.env.BENCH_REPEAT ?? 100);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const files = readdirSync(corpus)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort()
  .map((f) => join(corpus, f));

interface Run {
  seconds: number;
  packets: number;
}

interface PalisadeRun {
  /** The first pass alone, in a process that has run nothing before. */
  first: Run;
  cold: Run;
  warm: Run;
  bytes: number;
  flows: number;
}

async function* once(buf: Buffer): AsyncIterable<Uint8Array> {
  yield buf;
}

/** `n` fresh passes over the corpus; the file is read inside the timing, as ndpiReader reads it inside its own. */
async function palisadePasses(n: number): Promise<Run & { bytes: number; flows: number; first: Run }> {
  let packets = 0;
  let bytes = 0;
  let flows = 0;
  let first: Run = { seconds: 0, packets: 0 };
  const start = process.hrtime.bigint();
  for (let r = 0; r < n; r++) {
    for (const file of files) {
      const stats = await inspect(once(readFileSync(file)), () => {
        flows++;
      });
      packets += stats.capture.records;
      bytes += stats.capture.bytes;
    }
    if (r === 0) first = { seconds: Number(process.hrtime.bigint() - start) / 1e9, packets };
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, packets, bytes, flows, first };
}

/** In the child process: one cold measurement then one warm one, as JSON on stdout. */
async function measureHere(n: number): Promise<void> {
  const cold = await palisadePasses(n);
  const warm = await palisadePasses(n);
  const out: PalisadeRun = { first: cold.first, cold, warm, bytes: warm.bytes, flows: warm.flows };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function palisade(): PalisadeRun {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, self, '--measure', String(passes)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`palisade measurement failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as PalisadeRun;
}

const SCALE: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9 };

/**
 * ndpiReader over `playlist` with `loops` passes; its report per pass gives the IP packets, all
 * packets, and the throughput over its processing time (four significant digits, where the time
 * itself is printed in whole milliseconds).
 */
function ndpiReader(playlist: string, loops: number): (Run & { first: Run }) | undefined {
  const r = spawnSync('ndpiReader', ['-i', playlist, '-l', String(loops)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error || r.status !== 0) return undefined;
  const out = `${r.stdout}${r.stderr}`;
  const counts = [...out.matchAll(/IP packets:\s+(\d+)\s+of\s+(\d+)/g)];
  const rates = [...out.matchAll(/nDPI throughput:\s+([\d.]+)\s*([KMG]?) pps/g)];
  if (counts.length !== loops || rates.length !== loops) return undefined;
  let seconds = 0;
  let packets = 0;
  let first: Run = { seconds: 0, packets: 0 };
  counts.forEach((m, i) => {
    const rate = rates[i] as RegExpMatchArray;
    seconds += Number(m[1]) / (Number(rate[1]) * (SCALE[rate[2] as string] as number));
    packets += Number(m[2]);
    if (i === 0) first = { seconds, packets };
  });
  return { seconds, packets, first };
}

function ndpiVersion(): string | undefined {
  const help = spawnSync('ndpiReader', ['-h'], { encoding: 'utf8' });
  if (help.error) return undefined;
  return /nDPI (\d+\.\d+\.\d+)/.exec(`${help.stdout}${help.stderr}`)?.[1] ?? '?';
}

const pps = (x: Run): number => x.packets / x.seconds;
const k = (x: number): string => `${(x / 1e3).toFixed(0)} k`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function summary(xs: number[], fmt: (x: number) => string): string {
  return `median ${fmt(median(xs))} (range ${fmt(Math.min(...xs))} to ${fmt(Math.max(...xs))})`;
}

async function main(): Promise<void> {
  const version = ndpiVersion();
  const dir = mkdtempSync(join(tmpdir(), 'pal-bench-'));
  try {
    const playlist = join(dir, 'playlist.txt');
    writeFileSync(playlist, `${files.join('\n')}\n`);
    console.log(`corpus: ${files.length} files, ${passes} fresh passes per measurement, ${rounds} rounds alternating which tool goes first`);
    const firstP: number[] = [];
    const firstN: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    const nd: number[] = [];
    const ratioCold: number[] = [];
    const ratioWarm: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let p: PalisadeRun;
      let n: (Run & { first: Run }) | undefined;
      if (round % 2 === 0) {
        p = palisade();
        n = version === undefined ? undefined : ndpiReader(playlist, passes);
      } else {
        n = version === undefined ? undefined : ndpiReader(playlist, passes);
        p = palisade();
      }
      firstP.push(pps(p.first));
      cold.push(pps(p.cold));
      warm.push(pps(p.warm));
      let line =
        `round ${round + 1}: palisade ${p.warm.packets} packets, ${(p.bytes / 1e6).toFixed(1)} MB, ${p.flows} flows: ` +
        `cold ${k(pps(p.cold))} packets/s, warm ${k(pps(p.warm))} packets/s`;
      if (n !== undefined) {
        firstN.push(pps(n.first));
        nd.push(pps(n));
        ratioCold.push(pps(p.cold) / pps(n));
        ratioWarm.push(pps(p.warm) / pps(n));
        line += `; ndpiReader ${n.packets} packets: ${k(pps(n))} packets/s`;
      }
      console.log(line);
    }
    const r2 = (x: number): string => x.toFixed(2);
    console.log(`palisade, cold (JIT warm-up included): ${summary(cold, k)} packets/s`);
    console.log(`palisade, warm:                        ${summary(warm, k)} packets/s`);
    if (version === undefined) {
      console.log('ndpiReader: not available (Debian package libndpi-bin)');
      return;
    }
    if (nd.length < rounds) {
      console.log('ndpiReader: its report could not be read');
      return;
    }
    console.log(`ndpiReader ${version}, fresh per pass:       ${summary(nd, k)} packets/s`);
    console.log(`ratio palisade/ndpiReader, cold:       ${summary(ratioCold, r2)}`);
    console.log(`ratio palisade/ndpiReader, warm:       ${summary(ratioWarm, r2)}`);
    // One pass from a fresh process: ndpiReader's compiled code is ready, Palisade's is not.
    console.log(`first pass alone: palisade ${summary(firstP, k)}, ndpiReader ${summary(firstN, k)} packets/s`);
    // The earlier method, for reference: one playlist listing the corpus `passes` times keeps
    // ndpiReader's flow table from one repetition to the next. Not comparable with the above.
    const repeated = join(dir, 'repeated.txt');
    writeFileSync(repeated, `${Array.from({ length: passes }, () => files.join('\n')).join('\n')}\n`);
    const kept = ndpiReader(repeated, 1);
    if (kept !== undefined) console.log(`for reference, ndpiReader with one flow table kept across the ${passes} repetitions: ${k(pps(kept))} packets/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--measure');
if (at >= 0) await measureHere(Number(process.argv[at + 1]));
else await main();
