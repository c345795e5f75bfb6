// Reachability as people read it: class pairs expanded to workload pairs (or merged into service
// pairs), adjacent port ranges joined, and each line saying what lets it through. Text, JSON, CSV
// and Graphviz DOT are four views of the same entries.

import type { Rule } from '../../model/policy.js';
import type { ReachEndpoint, Reachability, Segment } from './reach.js';
import { compareCells, describeApps, describeCell, sameApps } from './space.js';

export const REACH_LEVELS = ['workload', 'service'] as const;
export type ReachLevel = (typeof REACH_LEVELS)[number];
export const REACH_FORMATS = ['text', 'json', 'csv', 'dot'] as const;
export type ReachFormat = (typeof REACH_FORMATS)[number];

export interface ReachLine {
  /** `tcp/8080`, `udp/53`, `tcp/any`, `icmp type 8`. */
  ports: string;
  /** `any`, `http`, `any except http`. */
  apps: string;
  /** The allowing rule's id, or `default` when a mode's default lets it through. */
  rule: string;
  /** Where the rule was written, `file:line`. */
  ruleAt?: string;
  /** False when it gets through only because no side is in protect. */
  enforced: boolean;
}

export interface ReachEntry {
  from: string;
  to: string;
  lines: ReachLine[];
}

/** `file:line` of a rule, when it was written somewhere. */
export function ruleLocation(rule: Rule | undefined): string | undefined {
  return rule?.pos === undefined ? undefined : `${rule.pos.file}:${rule.pos.line}`;
}

/** Joins neighbouring cells with the same applications and the same cause, in output order. */
export function compactSegments(segments: readonly Segment[]): Segment[] {
  const sorted = [...segments].sort(compareCells);
  const out: Segment[] = [];
  for (const s of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.proto === s.proto && prev.last + 1 >= s.first && prev.rule === s.rule && prev.unenforced === s.unenforced && sameApps(prev.apps, s.apps)) {
      out[out.length - 1] = { ...prev, last: Math.max(prev.last, s.last) };
    } else out.push(s);
  }
  return out;
}

export function lineOf(s: Segment): ReachLine {
  const line: ReachLine = { ports: describeCell(s), apps: describeApps(s.apps), rule: s.rule?.id ?? 'default', enforced: !s.unenforced };
  const at = ruleLocation(s.rule);
  if (at !== undefined) line.ruleAt = at;
  return line;
}

const keyOf = (e: ReachEndpoint, level: ReachLevel): string => (level === 'workload' ? e.id : e.service);

export interface ReachPair {
  from: string;
  to: string;
  /** Allowed segments, compacted, in output order. */
  segments: Segment[];
}

/** Allowed segments between distinct endpoints at the level asked for, sorted by from then to. */
export function reachPairs(reach: Reachability, level: ReachLevel): ReachPair[] {
  const pairs = new Map<string, { from: string; to: string; segments: Set<Segment> }>();
  for (const edge of reach.edges()) {
    const clients = reach.classes[edge.client]?.members ?? [];
    const servers = reach.classes[edge.server]?.members ?? [];
    for (const c of clients) {
      for (const s of servers) {
        if (c === s) continue;
        const from = keyOf(reach.endpoints[c] as ReachEndpoint, level);
        const to = keyOf(reach.endpoints[s] as ReachEndpoint, level);
        const key = `${from}\0${to}`;
        let pair = pairs.get(key);
        if (pair === undefined) pairs.set(key, (pair = { from, to, segments: new Set() }));
        for (const seg of edge.segments) pair.segments.add(seg);
      }
    }
  }
  return [...pairs.values()]
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0))
    .map((p) => ({ from: p.from, to: p.to, segments: compactSegments([...p.segments]) }));
}

/** Allowed connectivity between distinct endpoints, at the level asked for, sorted by from then to. */
export function reachEntries(reach: Reachability, level: ReachLevel): ReachEntry[] {
  return reachPairs(reach, level).map((p) => ({ from: p.from, to: p.to, lines: wholeSpace(dedupeLines(p.segments.map(lineOf)), sameCause) }));
}

/** Same rule, same enforcement. */
export function sameCause(a: ReachLine | undefined, b: ReachLine | undefined): boolean {
  return a?.rule === b?.rule && a?.enforced === b?.enforced;
}

const WHOLE_PROTOCOLS = ['tcp/any', 'udp/any', 'sctp/any', 'icmp', 'icmpv6', 'other'];

/** Every protocol whole, for the same reason: one line `any` says it. */
export function wholeSpace<L extends { ports: string; apps: string }>(lines: L[], same: (a: L, b: L) => boolean): L[] {
  const first = lines[0];
  if (first === undefined || lines.length !== WHOLE_PROTOCOLS.length) return lines;
  const whole = lines.every((l, i) => l.ports === WHOLE_PROTOCOLS[i] && l.apps === first.apps && same(l, first));
  return whole ? [{ ...first, ports: 'any' }] : lines;
}

function dedupeLines(lines: ReachLine[]): ReachLine[] {
  const seen = new Set<string>();
  return lines.filter((l) => {
    const key = `${l.ports}\0${l.apps}\0${l.rule}\0${l.enforced}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function cause(l: ReachLine): string {
  if (l.enforced) return `allowed by ${l.rule}${l.ruleAt === undefined ? '' : ` (${l.ruleAt})`}`;
  const by = l.rule === 'default' ? 'no rule matches' : `rule ${l.rule} denies${l.ruleAt === undefined ? '' : ` (${l.ruleAt})`}`;
  return `${by}; allowed only because no side is in protect`;
}

const csvField = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const dotId = (v: string): string => JSON.stringify(v);

export function formatReachEntries(entries: readonly ReachEntry[], format: ReachFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(entries, null, 2)}\n`;
    case 'csv': {
      const rows = ['from,to,ports,applications,rule,rule_at,enforced'];
      for (const e of entries) for (const l of e.lines) rows.push([e.from, e.to, l.ports, l.apps, l.rule, l.ruleAt ?? '', String(l.enforced)].map(csvField).join(','));
      return `${rows.join('\n')}\n`;
    }
    case 'dot': {
      const rows = ['digraph reach {', '  rankdir=LR;', '  node [shape=box];'];
      for (const e of entries) {
        const label = e.lines.map((l) => (l.apps === 'any' ? l.ports : `${l.ports} ${l.apps}`)).join('\\n');
        // Dashed: nothing on this edge is enforced, it is open only because no side is in protect.
        const style = e.lines.every((l) => !l.enforced) ? ' style=dashed color=gray' : '';
        rows.push(`  ${dotId(e.from)} -> ${dotId(e.to)} [label=${dotId(label).replace(/\\\\n/g, '\\n')}${style}];`);
      }
      rows.push('}');
      return `${rows.join('\n')}\n`;
    }
    case 'text': {
      const rows: string[] = [];
      for (const e of entries) {
        rows.push(`${e.from} → ${e.to}`);
        const width = Math.max(...e.lines.map((l) => l.ports.length));
        for (const l of e.lines) rows.push(`  ${l.ports.padEnd(width)}  ${l.apps}: ${cause(l)}`);
      }
      const open = entries.filter((e) => e.lines.some((l) => l.enforced)).length;
      rows.push(`${entries.length} pairs allowed, ${open} of them by a rule; ${entries.length - open} only because no side is in protect`);
      return `${rows.join('\n')}\n`;
    }
  }
}
