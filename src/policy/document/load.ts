// The entry point from the file system: files and directories (read whole, recursively, in
// sorted order) become one model Policy plus every diagnostic. What cannot be read is reported
// like any other problem; nothing here throws for bad input.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Policy } from '../../model/policy.js';
import type { Diagnostic } from '../diagnostics.js';
import { applicationCatalog } from './applications.js';
import { assemble, emptyDraft, type Draft } from './assemble.js';
import { readPolicyText, type ParseOptions } from './parse.js';

const POLICY_FILE = /\.(ya?ml|json)$/i;

function problem(file: string, code: string, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  return { code, severity, file, line: 1, col: 1, path: '', message };
}

function reason(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

/**
 * The policy files under a directory, sorted by path. Hidden entries (`.git`) are skipped, and
 * symbolic links to directories are not followed, so a link cycle cannot loop.
 */
async function policyFiles(dir: string, out: string[], problems: Diagnostic[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    problems.push(problem(dir, 'unreadable', `cannot read directory: ${reason(e)}`));
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await policyFiles(path, out, problems);
    else if (POLICY_FILE.test(entry.name) && (entry.isFile() || entry.isSymbolicLink())) out.push(path);
  }
}

/** Loads files and directories into one policy. A file named directly is read whatever its extension. */
export async function loadPolicy(
  paths: string[],
  opts?: ParseOptions,
): Promise<{ policy: Policy; diagnostics: Diagnostic[] }> {
  const applications = applicationCatalog(opts?.knownApplications);
  const problems = emptyDraft();
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      problems.diagnostics.push(problem(path, 'unreadable', `cannot read: ${reason(e)}`));
      continue;
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const found: string[] = [];
    await policyFiles(path, found, problems.diagnostics);
    if (found.length === 0) problems.diagnostics.push(problem(path, 'no-documents', 'no .yaml, .yml or .json files here', 'warning'));
    files.push(...found);
  }

  const drafts: Draft[] = [problems];
  const seen = new Set<string>();
  for (const file of files) {
    // The same file named twice (directly and through its directory) is read once.
    const key = resolve(file);
    if (seen.has(key)) continue;
    seen.add(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      problems.diagnostics.push(problem(file, 'unreadable', `cannot read: ${reason(e)}`));
      continue;
    }
    drafts.push(readPolicyText(text, file, applications));
  }
  return assemble(drafts);
}
export { parsePolicyText, type ParseOptions } from './parse.js';
