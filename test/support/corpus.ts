// Where the third-party reference corpora live: ../shared/corpus beside the repository. Outside CI
// a missing corpus skips the tests that need it, saying why; in CI (CI=true) it fails them.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Corpus {
  dir: string;
  /** false when present; otherwise the reason to skip. */
  missing: false | string;
}

export function corpus(name: string, marker: string): Corpus {
  const dir = join(repoRoot, '..', 'shared', 'corpus', name);
  if (existsSync(join(dir, marker))) return { dir, missing: false };
  const reason = `corpus not found at ${dir}`;
  if (process.env.CI === 'true') throw new Error(`${reason}: CI must run the corpus tests`);
  return { dir, missing: reason };
}
