// Reading plain values out of a parsed inventory file while keeping every complaint pointed at
// the file, line and field it is about. Both inventory formats (Palisade's own and kubectl's
// JSON) read through these, so a wrong type reads the same whichever format it came in.

import type { Inventory } from '../model/workload.js';
import { suggestion, type Diagnostic } from '../policy/diagnostics.js';
import { diagnosticAt, entryPos, formatPath, valuePos, type PathSeg, type SourceDoc } from '../policy/document/source.js';

export type { PathSeg };

export type Plain = Record<string, unknown>;

/** What a format reader gives back: the inventory, and where each of its workloads was written. */
export interface ReadInventory {
  inventory: Inventory;
  /** Parallel to inventory.workloads. */
  workloadAt: PathSeg[][];
}

/** One file being read: where its values sit, and the findings collected so far. */
export interface Reader {
  src: SourceDoc;
  diagnostics: Diagnostic[];
}

export function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function report(r: Reader, segs: readonly PathSeg[], code: string, message: string, hint?: string): void {
  r.diagnostics.push(diagnosticAt(valuePos(r.src, segs), code, message, hint));
}

export function warn(r: Reader, segs: readonly PathSeg[], code: string, message: string, hint?: string): void {
  r.diagnostics.push(diagnosticAt(valuePos(r.src, segs), code, message, hint, 'warning'));
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

export function wrongType(r: Reader, segs: readonly PathSeg[], expected: string, value: unknown): void {
  report(r, segs, 'schema', `${formatPath(segs)} must be ${expected}, not ${kindOf(value)}`);
}

/** A string field; numbers and booleans are taken as written (YAML reads `tier: 1` as a number). */
export function optString(r: Reader, obj: Plain, key: string, segs: readonly PathSeg[]): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  wrongType(r, [...segs, key], 'a string', value);
  return undefined;
}

export function reqString(r: Reader, obj: Plain, key: string, segs: readonly PathSeg[]): string | undefined {
  const value = optString(r, obj, key, segs);
  if (value === undefined && (obj[key] === undefined || obj[key] === null)) {
    report(r, segs, 'schema', `${formatPath(segs)} has no ${key}`);
  } else if (value === '') {
    report(r, [...segs, key], 'schema', `${formatPath([...segs, key])} is empty`);
    return undefined;
  }
  return value;
}

export function optList(r: Reader, obj: Plain, key: string, segs: readonly PathSeg[]): unknown[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  wrongType(r, [...segs, key], 'a list', value);
  return [];
}

export function optMap(r: Reader, obj: Plain, key: string, segs: readonly PathSeg[]): Plain | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (isPlain(value)) return value;
  wrongType(r, [...segs, key], 'a mapping', value);
  return undefined;
}

/** A `key: value` mapping of labels (or a selector); values become strings. */
export function optLabels(r: Reader, obj: Plain, key: string, segs: readonly PathSeg[]): Record<string, string> {
  const map = optMap(r, obj, key, segs);
  const labels: Record<string, string> = {};
  if (map === undefined) return labels;
  for (const [k, v] of Object.entries(map)) {
    const s = optString(r, map, k, [...segs, key]);
    if (s !== undefined) labels[k] = s;
    else if (v === null || v === undefined) labels[k] = '';
  }
  return labels;
}

/** Each key of `obj` not in `known` is reported, with the closest known key as a hint. */
export function checkKeys(
  r: Reader,
  obj: Plain,
  known: readonly string[],
  segs: readonly PathSeg[],
): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const at = [...segs, key];
    r.diagnostics.push(diagnosticAt(entryPos(r.src, at), 'unknown-field', `${formatPath(at)} is not a known field`, suggestion(key, known)));
  }
}
