// `npm run eval:dpi -- ../shared/corpus/dpi`: agreement of Palisade's identification with the
// reference labels of a third-party corpus, per protocol and overall, on the flows the reference
// identified from payload (confidence DPI), plus how many payload-less flows of synscan.pcap were
// claimed as any protocol. The corpus measures; nothing here tunes a probe.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspectCapture } from '../src/dpi/flows.js';
import { findProtocol } from '../src/dpi/registry.js';
import type { Flow } from '../src/model/flow.js';

/** Reference names → Palisade registry names, where the two tools name one protocol differently. */
const NAME_MAP: Record<string, string> = {
  RESP: 'Redis',
  'MsSQL-TDS': 'TDS',
  Nats: 'NATS',
  IPSec: 'IKE',
  SMTPS: 'SMTP',
  POPS: 'POP3',
  IMAPS: 'IMAP',
  HTTP_Proxy: 'HTTP',
  SOAP: 'HTTP',
  MDNS: 'DNS',
  NetBIOS: 'SMB',
  FTP_CONTROL: 'FTP',
  DRDA: 'DRDA',
  Oracle: 'Oracle TNS',
  Radius: 'RADIUS',
};

interface TruthRow {
  pcap: string;
  l4: string;
  a: string;
  b: string;
  label: string;
  confidence: string;
}

function unescapeField(s: string): string {
  return s.replace(/\\(\\|t|n|r|x[0-9a-fA-F]{2})/g, (_m, e: string) =>
    e === '\\' ? '\\' : e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : String.fromCharCode(parseInt(e.slice(1), 16)),
  );
}

function readTruth(dir: string): TruthRow[] {
  const lines = readFileSync(join(dir, 'truth.tsv'), 'utf8').split('\n').filter((l) => l.length > 0);
  const header = (lines.shift() ?? '').split('\t');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`truth.tsv has no column ${name}`);
    return i;
  };
  const [pcap, l4, sip, sport, dip, dport, proto, conf] = [
    'pcap', 'l4', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'confidence',
  ].map(col) as [number, number, number, number, number, number, number, number];
  return lines.map((line) => {
    const f = line.split('\t').map(unescapeField);
    return {
      pcap: f[pcap] ?? '',
      l4: (f[l4] ?? '').toLowerCase(),
      a: `${f[sip]}|${f[sport]}`,
      b: `${f[dip]}|${f[dport]}`,
      label: f[proto] ?? '',
      confidence: f[conf] ?? '',
    };
  });
}

const pairKey = (l4: string, a: string, b: string): string => (a < b ? `${l4}|${a}|${b}` : `${l4}|${b}|${a}`);
const flowKey = (f: Flow): string =>
  pairKey(f.ipProto, `${f.client.ip}|${f.client.port}`, `${f.server.ip}|${f.server.port}`);

function canonical(label: string): string | undefined {
  return findProtocol(NAME_MAP[label] ?? label)?.name;
}

async function main(): Promise<number> {
  const dir = resolve(process.argv[2] ?? '../shared/corpus/dpi');
  const truth = readTruth(dir);
  const pcaps = [...new Set(truth.map((t) => t.pcap))].sort();
  const flowsByPcap = new Map<string, Map<string, Flow>>();
  for (const p of pcaps) {
    const m = new Map<string, Flow>();
    for await (const f of inspectCapture(join(dir, 'pcap', p))) m.set(flowKey(f), f);
    flowsByPcap.set(p, m);
  }

  const perProto = new Map<string, { n: number; agree: number; got: Map<string, number> }>();
  const unsupported = new Map<string, number>();
  let missing = 0;
  for (const t of truth) {
    if (t.confidence !== 'DPI') continue;
    const want = canonical(t.label);
    if (!want) {
      unsupported.set(t.label, (unsupported.get(t.label) ?? 0) + 1);
      continue;
    }
    const flow = flowsByPcap.get(t.pcap)?.get(pairKey(t.l4, t.a, t.b));
    const got = flow === undefined ? '(no flow)' : flow.appConfidence === 'dpi' ? flow.app : 'unknown';
    if (flow === undefined) missing++;
    const s = perProto.get(want) ?? { n: 0, agree: 0, got: new Map<string, number>() };
    s.n++;
    if (got === want) s.agree++;
    else s.got.set(got, (s.got.get(got) ?? 0) + 1);
    perProto.set(want, s);
  }

  let n = 0;
  let agree = 0;
  console.log('protocol          flows  agree   rate  disagreements');
  for (const [name, s] of [...perProto].sort((x, y) => y[1].n - x[1].n || x[0].localeCompare(y[0]))) {
    n += s.n;
    agree += s.agree;
    const why = [...s.got].map(([k, v]) => `${k}×${v}`).join(', ');
    console.log(`${name.padEnd(16)} ${String(s.n).padStart(6)} ${String(s.agree).padStart(6)} ${((100 * s.agree) / s.n).toFixed(1).padStart(5)}%  ${why}`);
  }
  const rate = n ? (100 * agree) / n : 0;
  console.log(`overall (supported protocols): ${agree}/${n} = ${rate.toFixed(1)}%  (flows not found: ${missing})`);
  console.log(`not supported, not scored: ${[...unsupported].map(([k, v]) => `${k}×${v}`).join(', ') || 'none'}`);

  const scan = flowsByPcap.get('synscan.pcap');
  let payloadless = 0;
  let claimed = 0;
  for (const f of scan?.values() ?? []) {
    if ((f.c2s.payloadBytes ?? 0) + (f.s2c.payloadBytes ?? 0) > 0) continue;
    payloadless++;
    if (f.app !== 'unknown') claimed++;
  }
  console.log(`synscan.pcap: ${claimed} of ${payloadless} payload-less flows claimed as a protocol`);
  return rate >= 95 && claimed === 0 ? 0 : 1;
}

process.exitCode = await main();
