// Learning throughput: 1,000,000 Flow JSON lines (generated here, 200 services of 3 replicas in
// 10 namespaces, external names, node traffic) read through the same source and learner as
// `palisade learn`, one core. Prints flows/s for reading + learning, and peak memory.

import { Readable } from 'node:stream';
import { DnsNames } from '../src/dpi/dns-names.js';
import { readFlowSource } from '../src/dpi/sources.js';
import { GraphBuilder } from '../src/learn/graph.js';
import { Learner } from '../src/learn/learn.js';
import type { Flow } from '../src/model/flow.js';
import type { Inventory, Workload } from '../src/model/workload.js';

const FLOWS = Number(process.env['LEARN_BENCH_FLOWS'] ?? 1_000_000);
const SERVICES = 200;
const REPLICAS = 3;
const NAMESPACES = ['shop', 'payments', 'search', 'catalog', 'users', 'orders', 'media', 'analytics', 'messaging', 'platform'];
const APPS: [string, number][] = [['http', 8080], ['postgresql', 5432], ['redis', 6379], ['tls', 443], ['unknown', 9000]];

function inventory(): Inventory {
  const workloads: Workload[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const ns = NAMESPACES[s % NAMESPACES.length] as string;
    for (let r = 0; r < REPLICAS; r++) {
      workloads.push({
        id: `${ns}/svc${s}-${r}`,
        name: `svc${s}-${r}`,
        namespace: ns,
        kind: 'Deployment',
        labels: { app: `svc${s}`, 'pod-template-hash': `h${r}` },
        node: `node-${r}`,
        image: `img/svc${s}:1`,
        service: `svc${s}`,
        addresses: [{ ip: `10.${1 + r}.${s >> 8}.${s & 255}` }],
      });
    }
  }
  return { workloads, namespaces: NAMESPACES.map((name) => ({ name, labels: {} })), nodes: [0, 1, 2].map((n) => ({ name: `node-${n}`, addresses: [`10.0.0.${n + 1}`] })), services: [] };
}

/** Deterministic traffic: each service calls a few others, some go out to named hosts. */
function generate(inv: Inventory): Buffer {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const ip = (w: Workload): string => (w.addresses[0] as { ip: string }).ip;
  const t0 = Date.parse('2026-01-10T10:00:00Z');
  const parts: string[] = [];
  const out: Buffer[] = [];
  for (let i = 0; i < FLOWS; i++) {
    const c = inv.workloads[rnd(inv.workloads.length)] as Workload;
    const s = Number(c.service.slice(3));
    const at = new Date(t0 + Math.floor((i / FLOWS) * 3_600_000)).toISOString();
    const kind = rnd(100);
    let server: string;
    let port: number;
    let app: string;
    let meta = '{}';
    if (kind < 3) {
      server = `198.51.100.${1 + rnd(20)}`;
      port = 443;
      app = 'tls';
      meta = `{"sni":"api${rnd(20)}.example.com"}`;
    } else if (kind < 6) {
      server = '10.1.0.53';
      port = 53;
      app = 'dns';
      const n = rnd(20);
      meta = `{"dnsQuery":"api${n}.example.com","dnsAnswers":[{"name":"api${n}.example.com","type":"A","value":"198.51.100.${1 + n}","ttl":30}]}`;
    } else {
      const target = inv.workloads[((s + 1 + rnd(4)) % SERVICES) * REPLICAS + rnd(REPLICAS)] as Workload;
      server = ip(target);
      [app, port] = APPS[rnd(APPS.length)] as [string, number];
    }
    const conf = app === 'unknown' ? 'none' : 'dpi';
    parts.push(
      `{"id":"${i}","firstSeen":"${at}","lastSeen":"${at}","ipProto":"${port === 53 ? 'udp' : 'tcp'}","client":{"ip":"${ip(c)}","port":${30000 + rnd(30000)}},"server":{"ip":"${server}","port":${port}},"app":"${app}","appConfidence":"${conf}","meta":${meta},"c2s":{"packets":6,"bytes":820},"s2c":{"packets":5,"bytes":2410}}\n`,
    );
    if (parts.length === 10_000) {
      out.push(Buffer.from(parts.join('')));
      parts.length = 0;
    }
  }
  out.push(Buffer.from(parts.join('')));
  return Buffer.concat(out);
}

function chunks(buf: Buffer, size: number): Readable {
  const list: Buffer[] = [];
  for (let o = 0; o < buf.length; o += size) list.push(buf.subarray(o, o + size));
  return Readable.from(list);
}

let peakHeap = 0;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 20);

const mib = (n: number): string => (n / 1048576).toFixed(0);

async function main(): Promise<void> {
  const inv = inventory();
  const data = generate(inv);
  const before = process.memoryUsage();
  console.log(`input: ${FLOWS.toLocaleString('en')} Flow JSON lines, ${mib(data.length)} MiB in memory; ${inv.workloads.length} workloads`);
  console.log(`memory before learning: rss ${mib(before.rss)} MiB, heap used ${mib(before.heapUsed)} MiB (the input buffer is external)`);

  for (const round of [1, 2, 3]) {
    const dns = new DnsNames();
    const learner = new Learner(inv, { stableAfterMs: 600_000, dns });
    const t = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const stats = await readFlowSource(chunks(data, 256 << 10), (f: Flow) => learner.add(f), { dns });
    const read = Number(process.hrtime.bigint() - t) / 1e9;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const result = learner.result();
    const total = Number(process.hrtime.bigint() - t) / 1e9;
    // CPU time as well as wall time: on a shared machine the wall clock also counts waiting.
    console.log(
      `round ${round}: read+learn ${Math.round(stats.flows / read).toLocaleString('en')} flows/s wall (${read.toFixed(2)} s), ` +
        `${Math.round(stats.flows / cpuSeconds).toLocaleString('en')} flows/s per CPU second (${cpuSeconds.toFixed(2)} s, GC threads included); with proposal ${total.toFixed(2)} s; ` +
        `${result.graph.edges.length} edges, ${result.proposal.groups.length} groups, ${result.proposal.rules.length} rules, ${stats.skipped} skipped`,
    );
  }

  const peakLearning = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const rssLearning = process.resourceUsage().maxRSS * 1024;
  console.log(`peak while learning: rss ${mib(rssLearning)} MiB (the 293 MiB input included), heap used (sampled) ${mib(peakLearning)} MiB`);

  // JSON.parse alone on the same lines, one per chunk, for comparison: the reader's fast form skips it.
  {
    const text = data.toString('utf8', 0, Math.min(data.length, 60 << 20));
    const body = text.slice(0, text.lastIndexOf('\n'));
    const cpu = process.cpuUsage();
    let n = 0;
    for (let at = 0; at < body.length; ) {
      let end = body.indexOf('\n', at + (256 << 10));
      if (end === -1) end = body.length;
      n += (JSON.parse(`[${body.slice(at, end).replace(/\n/g, ',')}]`) as unknown[]).length;
      at = end + 1;
    }
    const used = process.cpuUsage(cpu);
    console.log(`JSON.parse alone, for comparison: ${Math.round(n / ((used.user + used.system) / 1e6)).toLocaleString('en')} lines per CPU second`);
  }

  // The graph alone on flows already parsed: what learning costs beside JSON parsing.
  const flows: Flow[] = [];
  await readFlowSource(chunks(data.subarray(0, Math.min(data.length, 30 << 20)), 256 << 10), (f) => flows.push(f));
  const builder = new GraphBuilder(inv);
  const t = process.hrtime.bigint();
  for (const f of flows) builder.add(f);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`graph only (flows already parsed): ${Math.round(flows.length / s).toLocaleString('en')} flows/s`);

  clearInterval(sampler);
}

await main();
