// Packet pipeline figures: throughput of reader → decode → defrag → sessions → reassembly over the
// DPI corpus (held in memory, repeated), and memory with 1,000,000 concurrent TCP sessions from a
// generated capture streamed in chunks (never held whole). Each generated run is its own process
// so its peak RSS is its own.

import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CaptureParser, PacketPipeline, runPipeline, type PipelineStats, type SessionSink } from '../src/packet/index.js';

const CORPUS = '/work/shared/corpus/dpi/pcap';
const MiB = 1024 * 1024;

/** Touches every delivered byte once, like a probe would, so delivery is not optimised away. */
function countingSink(): SessionSink & { bytes: number; ended: number } {
  return {
    bytes: 0,
    ended: 0,
    onPayload(_s, _d, data) {
      this.bytes += data.length + (data[0] ?? 0) * 0;
    },
    onEnd() {
      this.ended++;
    },
  };
}

function corpusThroughput(): void {
  const files = readdirSync(CORPUS)
    .sort()
    .map((f) => readFileSync(`${CORPUS}/${f}`));
  const totalBytes = files.reduce((a, b) => a + b.length, 0);
  const CHUNK = 64 * 1024;
  const once = (): number => {
    let packets = 0;
    for (const file of files) {
      const parser = new CaptureParser();
      const pipeline = new PacketPipeline(countingSink());
      for (let i = 0; i < file.length; i += CHUNK) parser.push(file.subarray(i, i + CHUNK), pipeline.record);
      parser.end();
      pipeline.finish();
      packets += parser.stats.records;
    }
    return packets;
  };
  for (let i = 0; i < 5; i++) once();
  const rounds = 200;
  const t0 = process.hrtime.bigint();
  let packets = 0;
  for (let i = 0; i < rounds; i++) packets += once();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`corpus: ${files.length} captures, ${(totalBytes / MiB).toFixed(2)} MiB, ${packets / rounds} packets per round, ${rounds} rounds in ${secs.toFixed(2)} s`);
  console.log(`corpus: ${Math.round(packets / secs).toLocaleString('en-US')} packets/s, ${((totalBytes * rounds) / MiB / secs).toFixed(1)} MiB/s (single core, full pipeline)`);
}

// ---- generated capture: N concurrent TCP sessions ----

const FRAME_HDR = 14 + 20 + 20;
const REQUEST = Buffer.from('GET /index.html HTTP/1.1\r\nHost: bench.local\r\n\r\n');
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');

interface Gen {
  buf: Buffer;
  at: number;
  ts: number;
}

function writeFrame(g: Gen, client: number, cport: number, toServer: boolean, seq: number, ack: number, flags: number, payload: Buffer | null): void {
  const plen = payload === null ? 0 : payload.length;
  const b = g.buf;
  let o = g.at;
  g.ts += 2;
  b.writeUInt32LE(Math.floor(g.ts / 1e6), o);
  b.writeUInt32LE(g.ts % 1e6, o + 4);
  b.writeUInt32LE(FRAME_HDR + plen, o + 8);
  b.writeUInt32LE(FRAME_HDR + plen, o + 12);
  o += 16;
  b.fill(0, o, o + FRAME_HDR);
  b.writeUInt16BE(0x0800, o + 12);
  o += 14;
  b[o] = 0x45;
  b.writeUInt16BE(40 + plen, o + 2);
  b[o + 8] = 64;
  b[o + 9] = 6;
  const server = 0x0ac80001; // 10.200.0.1
  b.writeUInt32BE(toServer ? client : server, o + 12);
  b.writeUInt32BE(toServer ? server : client, o + 16);
  o += 20;
  b.writeUInt16BE(toServer ? cport : 80, o);
  b.writeUInt16BE(toServer ? 80 : cport, o + 2);
  b.writeUInt32BE(seq >>> 0, o + 4);
  b.writeUInt32BE(ack >>> 0, o + 8);
  b[o + 12] = 0x50;
  b[o + 13] = flags;
  b.writeUInt16BE(65535, o + 14);
  o += 20;
  if (payload !== null) payload.copy(b, o);
  g.at = o + plen;
}

/**
 * A pcap stream of `n` TCP sessions that are all open at once: every session does its handshake
 * and request first, then every session gets its response and closes.
 */
async function* generated(n: number): AsyncGenerator<Buffer> {
  const SIZE = 4 * MiB;
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  yield header;
  const g: Gen = { buf: Buffer.alloc(SIZE), at: 0, ts: 1_700_000_000_000_000 };
  const SYN = 0x02;
  const ACK = 0x10;
  const PSH = 0x08;
  const FIN = 0x01;
  const client = (i: number): number => 0x0a000000 + 0x10000 + Math.floor(i / 50000) * 256 + 1; // 10.(1+k).x.1
  const cport = (i: number): number => 10000 + (i % 50000);
  for (let phase = 0; phase < 2; phase++) {
    for (let i = 0; i < n; i++) {
      if (SIZE - g.at < 1024) {
        yield g.buf.subarray(0, g.at);
        g.buf = Buffer.alloc(SIZE);
        g.at = 0;
      }
      const c = client(i);
      const p = cport(i);
      const isnC = (i * 7919) >>> 0;
      const isnS = (i * 104729 + 17) >>> 0;
      if (phase === 0) {
        writeFrame(g, c, p, true, isnC, 0, SYN, null);
        writeFrame(g, c, p, false, isnS, isnC + 1, SYN | ACK, null);
        writeFrame(g, c, p, true, isnC + 1, isnS + 1, ACK, null);
        writeFrame(g, c, p, true, isnC + 1, isnS + 1, PSH | ACK, REQUEST);
      } else {
        const cs = isnC + 1 + REQUEST.length;
        writeFrame(g, c, p, false, isnS + 1, cs, PSH | ACK, RESPONSE);
        writeFrame(g, c, p, true, cs, isnS + 1 + RESPONSE.length, FIN | ACK, null);
        writeFrame(g, c, p, false, isnS + 1 + RESPONSE.length, cs + 1, FIN | ACK, null);
        writeFrame(g, c, p, true, cs + 1, isnS + 2 + RESPONSE.length, ACK, null);
      }
    }
  }
  if (g.at > 0) yield g.buf.subarray(0, g.at);
}

async function generatedRun(n: number, maxSessions: number | undefined): Promise<void> {
  let peakHeap = 0;
  let peakRss = 0;
  let chunks = 0;
  async function* sampled(): AsyncGenerator<Buffer> {
    for await (const c of generated(n)) {
      yield c;
      if (++chunks % 4 === 0) {
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
      }
    }
  }
  const sink = countingSink();
  const t0 = process.hrtime.bigint();
  const st: PipelineStats = await runPipeline(sampled(), sink, maxSessions === undefined ? {} : { sessions: { maxSessions } });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const s = st.sessions;
  const cap = maxSessions === undefined ? 'default caps' : `maxSessions ${maxSessions.toLocaleString('en-US')}`;
  console.log(
    `generated ${n.toLocaleString('en-US')} concurrent TCP sessions (${cap}): ${st.capture.records.toLocaleString('en-US')} packets, ` +
      `${(st.capture.bytes / MiB).toFixed(0)} MiB in ${secs.toFixed(1)} s (${Math.round(st.capture.records / secs).toLocaleString('en-US')} packets/s)`,
  );
  console.log(
    `  sessions created ${s.created.toLocaleString('en-US')}, peak active ${s.peakActive.toLocaleString('en-US')}, ` +
      `evicted ${s.ended.evicted.toLocaleString('en-US')}, fin ${s.ended.fin.toLocaleString('en-US')}, end-of-input ${s['ended']['end-of-input'].toLocaleString('en-US')}; ` +
      `delivered ${(sink.bytes / MiB).toFixed(1)} MiB`,
  );
  console.log(`  peak RSS ${(Math.max(maxRss, peakRss) / MiB).toFixed(0)} MiB, peak heap used ${(peakHeap / MiB).toFixed(0)} MiB (sampled)`);
}

const mode = process.argv[2];
if (mode === 'generated') {
  const n = Number(process.argv[3]);
  const cap = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
  await generatedRun(n, cap);
} else {
  corpusThroughput();
  const self = fileURLToPath(import.meta.url);
  for (const args of [['1000000'], ['1000000', '1100000']]) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, 'generated', ...args], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
