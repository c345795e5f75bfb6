// First step of reading a cluster from manifests: walk a directory, split YAML streams and JSON
// files into documents, unwrap List kinds, and hand on plain objects that carry their kind and
// where they were written. What the objects mean is decided in resources.ts.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import type { Problem } from './problems.js';

export type Fields = Record<string, unknown>;

/** One Kubernetes object as written, with the place it came from. */
export interface ManifestObject {
  kind: string;
  body: Fields;
  file: string;
  line?: number;
  /** Names the object in messages before its metadata is trusted: `document 3`, `document 2 items[4]`. */
  where: string;
  /** Where a field (`spec.ingress[0].from[1]`) is written, or its nearest written parent. */
  locate: (field: string) => { line: number; col: number } | undefined;
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Files that may hold manifests, depth first in name order so results never depend on the file
 * system. Symbolic links to directories are not followed: they could loop.
 */
export function manifestFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (MANIFEST_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) out.push(full);
    }
  };
  walk(dir);
  return out;
}

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `PodList` holds Pods; `List` holds objects that name their own kind. */
function itemKindOfList(kind: string): string | undefined {
  if (kind === 'List') return undefined;
  return kind.endsWith('List') ? kind.slice(0, -'List'.length) : undefined;
}

/**
 * The deepest node a field path reaches. Keys are matched longest first, because label keys
 * (`foo.com/tier`) hold dots themselves.
 */
function locateField(root: unknown, field: string, lines: LineCounter): { line: number; col: number } | undefined {
  let node: unknown = root;
  let best = (root as YamlNode | null)?.range;
  let rest = field;
  while (rest !== '') {
    const index = /^\[(\d+)\]\.?/.exec(rest);
    if (index !== null && isSeq(node)) {
      node = node.items[Number(index[1])];
      rest = rest.slice(index[0].length);
    } else if (index === null && isMap(node)) {
      let found: { key: string; node: unknown } | undefined;
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined || !rest.startsWith(key) || (found !== undefined && found.key.length >= key.length)) continue;
        const next = rest[key.length];
        if (next === undefined || next === '.' || next === '[') found = { key, node: pair.value ?? pair.key };
      }
      if (found === undefined) break;
      node = found.node;
      rest = rest.slice(found.key.length).replace(/^\./, '');
    } else {
      break;
    }
    const range = (node as YamlNode | null)?.range;
    if (range === undefined || range === null) break;
    best = range;
  }
  return best ? lines.linePos(best[0]) : undefined;
}

function startLine(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as YamlNode | null)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

/**
 * Objects of one file's text. A syntax error stops that document only (the others still parse);
 * a document that is no Kubernetes object is skipped with a warning, since directories of
 * manifests often hold other files too.
 */
export function readManifestText(file: string, text: string, problems: Problem[]): ManifestObject[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const out: ManifestObject[] = [];
  docs.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = lines.linePos(err.pos[0]);
        problems.push({ severity: 'error', file, line: pos.line, col: pos.col, message: describeYamlError(text, err.pos[0], err.message) });
      }
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const docLine = startLine(doc.contents, lines);
    if (!isFields(value)) {
      problems.push({ severity: 'warning', file, line: docLine, object: where, message: 'not a Kubernetes object (no mapping); skipped' });
      return;
    }
    const kind = value['kind'];
    if (typeof kind !== 'string' || kind === '') {
      problems.push({ severity: 'warning', file, line: docLine, object: where, message: "field 'kind' is missing in the object; skipped" });
      return;
    }
    const items = value['items'];
    if (kind.endsWith('List') && Array.isArray(items)) {
      const itemKind = itemKindOfList(kind);
      const itemNodes = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
      items.forEach((item: unknown, j) => {
        const itemWhere = `${where} items[${j}]`;
        const line = isSeq(itemNodes) ? startLine(itemNodes.items[j], lines) : docLine;
        if (!isFields(item)) {
          problems.push({ severity: 'warning', file, line, object: itemWhere, message: 'not a Kubernetes object (no mapping); skipped' });
          return;
        }
        const own = item['kind'];
        const k = typeof own === 'string' && own !== '' ? own : itemKind;
        if (k === undefined) {
          problems.push({ severity: 'warning', file, line, object: itemWhere, message: "field 'kind' is missing in the list item; skipped" });
          return;
        }
        const itemNode = isSeq(itemNodes) ? itemNodes.items[j] : undefined;
        out.push({ kind: k, body: item, file, line, where: itemWhere, locate: (field) => locateField(itemNode, field, lines) });
      });
      return;
    }
    out.push({ kind, body: value, file, line: docLine, where, locate: (field) => locateField(doc.contents, field, lines) });
  });
  return out;
}

/**
 * The parser's message, plus the plain reason when the offending character is one YAML keeps
 * for indicators (`%`, `@`, `` ` ``) and so cannot begin a value: the usual mistake is a
 * template expression left in an unquoted or badly quoted value.
 */
function describeYamlError(text: string, offset: number, message: string): string {
  const ch = text[offset];
  const first = message.split('\n')[0] ?? message;
  if (ch === '%' || ch === '@' || ch === '`') return `YAML syntax error: found character that cannot start any token ('${ch}'): ${first}`;
  return `YAML syntax error: ${first}`;
}

/** Every object under dir (recursively), with the problems met on the way. */
export function readManifestDir(dir: string, problems: Problem[]): ManifestObject[] {
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) {
      problems.push({ severity: 'error', file: dir, message: 'not a directory' });
      return [];
    }
    files = manifestFiles(dir);
  } catch (err) {
    problems.push({ severity: 'error', file: dir, message: `cannot read directory: ${(err as Error).message}` });
    return [];
  }
  const out: ManifestObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ severity: 'error', file, message: `cannot read file: ${(err as Error).message}` });
      continue;
    }
    out.push(...readManifestText(file, text, problems));
  }
  return out;
}
