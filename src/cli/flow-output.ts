// How flows are shown on a terminal: one row per flow and a summary by application. Shared by
// `inspect` (captures) and `capture` (live).

import { summarizeByApp } from '../dpi/summary.js';
import { AddressIndex } from '../inventory/attribute.js';
import { loadInventory } from '../inventory/load.js';
import type { Flow } from '../model/flow.js';
import { formatDiagnostic } from '../policy/diagnostics.js';
import { UsageError } from './errors.js';

export type FlowFormat = 'table' | 'json' | 'jsonl';
export const FLOW_FORMATS: readonly FlowFormat[] = ['table', 'json', 'jsonl'];

/** `--format` of a flow-printing command, checked. */
export function flowFormat(text: string): FlowFormat {
  if (!FLOW_FORMATS.includes(text as FlowFormat)) throw new UsageError(`--format must be one of ${FLOW_FORMATS.join(', ')}, not "${text}"`);
  return text as FlowFormat;
}

/**
 * `--inventory` of a flow-printing command: the address index that attributes flows, or
 * undefined without one. Diagnostics go to stderr; errors make it a usage failure (exit 2).
 */
export async function addressIndexOption(path: string | undefined): Promise<AddressIndex | undefined> {
  if (path === undefined) return undefined;
  const { inventory, diagnostics } = await loadInventory(path);
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) throw new UsageError(`${path}: ${errors} error(s) in the inventory`);
  return new AddressIndex(inventory);
}

const endpoint = (e: Flow['client']): string => {
  const addr = e.ip.includes(':') ? `[${e.ip}]` : e.ip;
  return `${e.workload ?? addr}${e.port ? `:${e.port}` : ''}`;
};

function metaSummary(f: Flow): string {
  const m = f.meta;
  const parts: string[] = [];
  if (m.httpMethod) parts.push(`${m.httpMethod} ${m.httpHost ?? ''}${m.httpPath ?? ''}`);
  if (m.httpStatus) parts.push(String(m.httpStatus));
  if (m.sni) parts.push(`sni=${m.sni}`);
  if (m.alpn?.length) parts.push(`alpn=${m.alpn.join(',')}`);
  if (m.tlsVersion) parts.push(m.tlsVersion);
  if (m.dnsQuery) parts.push(`q=${m.dnsQuery}`);
  if (m.dnsAnswers?.length) parts.push(`a=${m.dnsAnswers.map((a) => a.value).slice(0, 3).join(',')}`);
  for (const [k, v] of Object.entries(m)) {
    if (parts.length >= 4) break;
    if (k.startsWith('http') || k.startsWith('dns') || k.startsWith('tls') || k === 'sni' || k === 'alpn') continue;
    if (typeof v === 'string' || typeof v === 'number') parts.push(`${k}=${v}`);
  }
  return parts.join(' ');
}

export function renderTable(flows: Flow[]): string {
  const rows = flows.map((f) => [
    f.ipProto,
    endpoint(f.client),
    endpoint(f.server),
    f.appConfidence === 'dpi' ? f.app : f.appConfidence === 'port' ? `${f.app}?` : '-',
    `${f.c2s.packets}/${f.c2s.bytes}`,
    `${f.s2c.packets}/${f.s2c.bytes}`,
    metaSummary(f),
  ]);
  const out = [table(['proto', 'client', 'server', 'app', 'c2s pkts/bytes', 's2c pkts/bytes', 'metadata'], rows)];
  const summary = summarizeByApp(flows).map((s) => [
    s.confidence === 'dpi' ? s.app : s.confidence === 'port' ? `${s.app}? (port only)` : 'unknown',
    String(s.flows),
    String(s.packets),
    String(s.bytes),
  ]);
  out.push('', `${flows.length} flows`, table(['application', 'flows', 'packets', 'bytes'], summary));
  return `${out.join('\n')}\n`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function renderJson(flows: Flow[]): string {
  return `${JSON.stringify({ flows, summary: summarizeByApp(flows) }, null, 2)}\n`;
}
