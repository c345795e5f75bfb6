// Semantic diff of two policies over one inventory: not which lines changed, but which
// connections. Both policies' reachability is computed (reach.ts), paired by endpoints, and the
// allowed regions compared cell by cell: added, removed, or allowed by something else (another
// rule, or now only because no side is in protect).

import type { Reachability, Segment } from './reach.js';
import { cause, compactSegments, lineOf, reachPairs, sameCause, wholeSpace, type ReachLevel, type ReachLine } from './report.js';
import { cut, describeApps, describeCell } from './space.js';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface DiffLine {
  ports: string;
  apps: string;
  /** What allowed it before; absent when it was not allowed. */
  old?: ReachLine;
  /** What allows it now; absent when it is no longer allowed. */
  new?: ReachLine;
}

export interface DiffEntry {
  from: string;
  to: string;
  change: ChangeKind;
  lines: DiffLine[];
}

const causeKey = (s: Segment): string => `${s.rule?.id ?? 'default'}\0${s.unenforced}`;

/** What only `a` allows, each part with the segment of `a` it comes from. */
function only(a: readonly Segment[], b: readonly Segment[]): Segment[] {
  return a.flatMap((seg) => cut([seg], b).outside.map((c) => ({ ...seg, ...c })));
}

export function diffReach(before: Reachability, after: Reachability, level: ReachLevel): DiffEntry[] {
  const key = (p: { from: string; to: string }): string => `${p.from}\0${p.to}`;
  const old = new Map(reachPairs(before, level).map((p) => [key(p), p]));
  const now = new Map(reachPairs(after, level).map((p) => [key(p), p]));
  const out: DiffEntry[] = [];
  for (const k of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const o = old.get(k);
    const n = now.get(k);
    const from = (o ?? n)?.from as string;
    const to = (o ?? n)?.to as string;
    const oSegs = o?.segments ?? [];
    const nSegs = n?.segments ?? [];
    const lines: DiffLine[] = [];
    const same = (a: DiffLine, b: DiffLine): boolean => sameCause(a.old, b.old) && sameCause(a.new, b.new);
    lines.push(...wholeSpace(compactSegments(only(nSegs, oSegs)).map((s) => ({ ports: describeCell(s), apps: describeApps(s.apps), new: lineOf(s) })), same));
    lines.push(...wholeSpace(compactSegments(only(oSegs, nSegs)).map((s) => ({ ports: describeCell(s), apps: describeApps(s.apps), old: lineOf(s) })), same));
    // Allowed on both sides, for a different reason.
    for (const ns of nSegs) {
      for (const os of oSegs) {
        if (causeKey(ns) === causeKey(os)) continue;
        for (const c of cut([ns], [os]).inside) lines.push({ ports: describeCell(c), apps: describeApps(c.apps), old: lineOf({ ...os, ...c }), new: lineOf({ ...ns, ...c }) });
      }
    }
    if (lines.length === 0) continue;
    const change: ChangeKind = o === undefined ? 'added' : n === undefined ? 'removed' : 'changed';
    out.push({ from, to, change, lines });
  }
  return out;
}

export const DIFF_FORMATS = ['text', 'json'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export function formatDiff(entries: readonly DiffEntry[], format: DiffFormat): string {
  if (format === 'json') return `${JSON.stringify(entries, null, 2)}\n`;
  const mark: Record<ChangeKind, string> = { added: '+', removed: '-', changed: '~' };
  const rows: string[] = [];
  for (const e of entries) {
    rows.push(`${mark[e.change]} ${e.from} → ${e.to}`);
    for (const l of e.lines) {
      const what = `${l.ports} ${l.apps}`;
      if (l.old === undefined && l.new !== undefined) rows.push(`    + ${what}: now ${cause(l.new)}`);
      else if (l.new === undefined && l.old !== undefined) rows.push(`    - ${what}: no longer allowed (was: ${cause(l.old)})`);
      else if (l.old !== undefined && l.new !== undefined) rows.push(`    ~ ${what}: was ${cause(l.old)}; now ${cause(l.new)}`);
    }
  }
  const count = (k: ChangeKind): number => entries.filter((e) => e.change === k).length;
  rows.push(entries.length === 0 ? 'no change in what is allowed' : `${count('added')} pairs added, ${count('removed')} removed, ${count('changed')} changed`);
  return `${rows.join('\n')}\n`;
}
