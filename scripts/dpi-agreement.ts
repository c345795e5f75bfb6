// Agreement of Palisade's identification with the reference labels of a third-party corpus
// (../shared/corpus/dpi), per protocol and overall, on the flows the reference identified from
// payload (confidence DPI), plus how many payload-less flows of synscan.pcap were claimed as any
// protocol. The corpus measures; nothing here tunes a probe. Used by `npm run eval:dpi` and a test.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

export interface ProtocolScore {
  protocol: string;
  flows: number;
  agree: number;
  /** What Palisade said instead, with counts. */
  disagreements: Map<string, number>;
}

export interface Agreement {
  perProtocol: ProtocolScore[];
  flows: number;
  agree: number;
  /** Percent of scored flows identified as the reference says. */
  rate: number;
  missing: number;
  unsupported: Map<string, number>;
  scanPayloadless: number;
  scanClaimed: number;
}

export async function evaluate(dir: string): Promise<Agreement> {
  const truth = readTruth(dir);
  const pcaps = [...new Set(truth.map((t) => t.pcap))].sort();
  const flowsByPcap = new Map<string, Map<string, Flow>>();
  for (const p of pcaps) {
    const m = new Map<string, Flow>();
    for await (const f of inspectCapture(join(dir, 'pcap', p))) m.set(flowKey(f), f);
    flowsByPcap.set(p, m);
  }

  const perProto = new Map<string, ProtocolScore>();
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
    const s = perProto.get(want) ?? { protocol: want, flows: 0, agree: 0, disagreements: new Map<string, number>() };
    s.flows++;
    if (got === want) s.agree++;
    else s.disagreements.set(got, (s.disagreements.get(got) ?? 0) + 1);
    perProto.set(want, s);
  }
  const scores = [...perProto.values()].sort((x, y) => y.flows - x.flows || x.protocol.localeCompare(y.protocol));
  const flows = scores.reduce((n, s) => n + s.flows, 0);
  const agree = scores.reduce((n, s) => n + s.agree, 0);

  let scanPayloadless = 0;
  let scanClaimed = 0;
  for (const f of flowsByPcap.get('synscan.pcap')?.values() ?? []) {
    if ((f.c2s.payloadBytes ?? 0) + (f.s2c.payloadBytes ?? 0) > 0) continue;
    scanPayloadless++;
    if (f.app !== 'unknown') scanClaimed++;
  }
  return { perProtocol: scores, flows, agree, rate: flows ? (100 * agree) / flows : 0, missing, unsupported, scanPayloadless, scanClaimed };
}
