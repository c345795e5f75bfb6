// Where a value sits in the YAML text. Validation works on plain values (what `toJS` gives) and
// addresses them by path; this module turns such a path back into file, line, column and the
// printable path (`spec.rules[2].to`) through the yaml library's node ranges.

import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { SourcePos } from '../../model/policy.js';
import type { Diagnostic, Severity } from '../diagnostics.js';

export type PathSeg = string | number;

/** One parsed YAML document of a file, with what is needed to point into it. */
export interface SourceDoc {
  file: string;
  doc: Document;
  lines: LineCounter;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['spec', 'rules', 2, 'to']` → `spec.rules[2].to`; keys that are not plain words are quoted. */
export function formatPath(segs: readonly PathSeg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function resolve(src: SourceDoc, node: unknown): unknown {
  return isAlias(node) ? node.resolve(src.doc) : node;
}

interface Located {
  /** The deepest node found along the path, and whether the whole path was found. */
  node: Node | undefined;
  complete: boolean;
  /** The key node of the last step when it was a map entry. */
  key: Node | undefined;
}

function locate(src: SourceDoc, segs: readonly PathSeg[]): Located {
  let node = resolve(src, src.doc.contents) as Node | undefined;
  let key: Node | undefined;
  for (const seg of segs) {
    key = undefined;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (pair !== undefined) {
        key = (pair.key ?? undefined) as Node | undefined;
        // `key:` with nothing after it has no value node; the key is the best place to point.
        next = pair.value ?? pair.key;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (next === undefined || next === null) return { node, complete: false, key: undefined };
    node = resolve(src, next) as Node | undefined;
  }
  return { node, complete: true, key };
}

function offsetPos(src: SourceDoc, offset: number, segs: readonly PathSeg[]): SourcePos {
  const { line, col } = src.lines.linePos(offset);
  return { file: src.file, line, col, path: formatPath(segs) };
}

function startOf(node: Node | undefined): number {
  return node?.range?.[0] ?? 0;
}

/** The position of the value at `segs` (or of its nearest written ancestor). */
export function valuePos(src: SourceDoc, segs: readonly PathSeg[]): SourcePos {
  return offsetPos(src, startOf(locate(src, segs).node), segs);
}

/**
 * The position of the entry at `segs`: the key when the entry is a map entry (`rule01:`), the
 * value otherwise (a list item, a whole document).
 */
export function entryPos(src: SourceDoc, segs: readonly PathSeg[]): SourcePos {
  const found = locate(src, segs);
  return offsetPos(src, startOf(found.key ?? found.node), segs);
}

/**
 * The position of the `offset`-th character inside the string scalar at `segs`, so a bad term in
 * `app=web, tier!!=db` is pointed at exactly. Exact for plain and quoted scalars without escapes;
 * block scalars get the start of the value.
 */
export function innerPos(src: SourceDoc, segs: readonly PathSeg[], offset: number): SourcePos {
  const { node, complete } = locate(src, segs);
  const start = startOf(node);
  if (!complete || !isScalar(node)) return offsetPos(src, start, segs);
  switch (node.type) {
    case 'PLAIN':
      return offsetPos(src, start + offset, segs);
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE':
      return offsetPos(src, start + 1 + offset, segs);
    default:
      return offsetPos(src, start, segs);
  }
}

/** A diagnostic at a position. */
export function diagnosticAt(
  pos: SourcePos,
  code: string,
  message: string,
  hint?: string,
  severity: Severity = 'error',
): Diagnostic {
  const d: Diagnostic = { code, severity, file: pos.file, line: pos.line, col: pos.col, path: pos.path, message };
  if (hint !== undefined) d.hint = hint;
  return d;
}
