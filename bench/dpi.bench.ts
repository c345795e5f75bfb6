// Single-core identification throughput over the reference corpus: Palisade's whole path
// (capture parsing, decoding, sessions, reassembly, DPI, Flow records) beside ndpiReader on the
// same files, repeated the same number of times, in the same run.
// Run: npm run bench -- dpi   (env BENCH_REPEAT to change the repetitions; default 30)

import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { inspect } from '../src/dpi/flows.js';

const corpus = resolve(process.env.DPI_CORPUS ?? '../shared/corpus/dpi/pcap');
const repeat = Number(process.env.BENCH_REPEAT ?? 30);
const files = readdirSync(corpus)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort()
  .map((f) => join(corpus, f));
const buffers = files.map((f) => readFileSync(f));

async function* once(buf: Buffer): AsyncIterable<Uint8Array> {
  yield buf;
}

async function palisade(): Promise<{ seconds: number; packets: number; bytes: number; flows: number }> {
  let packets = 0;
  let bytes = 0;
  let flows = 0;
  const start = process.hrtime.bigint();
  for (let r = 0; r < repeat; r++) {
    for (const buf of buffers) {
      const stats = await inspect(once(buf), () => {
        flows++;
      });
      packets += stats.capture.records;
      bytes += stats.capture.bytes;
    }
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, packets, bytes, flows };
}

function ndpiReader(): { seconds: number; packets: number; version: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'pal-bench-'));
  try {
    const playlist = join(dir, 'playlist.txt');
    writeFileSync(playlist, `${Array.from({ length: repeat }, () => files.join('\n')).join('\n')}\n`);
    const t0 = process.hrtime.bigint();
    const r = spawnSync('ndpiReader', ['-i', playlist], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error || r.status !== 0) return undefined;
    const out = `${r.stdout}${r.stderr}`;
    const setupMs = Number(/Setup Time:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const packets = Number(/IP packets:\s+\d+\s+of\s+(\d+)/.exec(out)?.[1] ?? 0);
    const help = spawnSync('ndpiReader', ['-h'], { encoding: 'utf8' });
    const version = /nDPI (\d+\.\d+\.\d+)/.exec(`${help.stdout}${help.stderr}`)?.[1] ?? '?';
    return { seconds: wall - setupMs / 1000, packets, version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Warm up the JIT once over the corpus before measuring.
for (const buf of buffers) await inspect(once(buf), () => undefined);
const p = await palisade();
const n = ndpiReader();
const pps = (x: { seconds: number; packets: number }): number => x.packets / x.seconds;
console.log(`corpus: ${files.length} files × ${repeat} repetitions`);
console.log(
  `palisade:   ${p.packets} packets, ${(p.bytes / 1e6).toFixed(1)} MB, ${p.flows} flows in ${p.seconds.toFixed(2)} s = ` +
    `${(pps(p) / 1e3).toFixed(0)} k packets/s, ${(p.bytes / 1e6 / p.seconds).toFixed(1)} MB/s`,
);
if (n) {
  console.log(`ndpiReader ${n.version}: ${n.packets} packets in ${n.seconds.toFixed(2)} s (setup excluded) = ${(pps(n) / 1e3).toFixed(0)} k packets/s`);
  console.log(`ratio palisade/ndpiReader (packets/s): ${(pps(p) / pps(n)).toFixed(2)}`);
} else {
  console.log('ndpiReader: not available (Debian package libndpi-bin)');
}
