// Findings about what a user wrote, pointing at the file, line, column and path where they wrote
// it. Document loading, lint, inventory files and imports all report through this one shape, so
// the CLI and the server print and serve them the same way.

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  /** Short, stable, kebab-case: tools and tests key on it, the message may change. */
  code: string;
  severity: Severity;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** Where inside the document, e.g. `spec.rules[2].to`; empty for the document as a whole. */
  path: string;
  message: string;
  /** A suggestion, e.g. `did you mean "db"?`. */
  hint?: string;
}

/** `policy.yaml:14:7 rules[2].to: unknown group "dbb" (did you mean "db"?)` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  const head = d.path === '' ? `${where}:` : `${where} ${d.path}:`;
  const severity = d.severity === 'error' ? '' : `${d.severity}: `;
  const hint = d.hint === undefined ? '' : ` (${d.hint})`;
  return `${head} ${severity}${d.message}${hint}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Orders by file, then line, then column, keeping the report order among equals. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) =>
    a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.line - b.line || a.col - b.col,
  );
}

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of two neighbouring
 * characters (the common typo `fromTraget`) as one edit each.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (d[(i - 1) * cols + j] ?? 0) + 1,
        (d[i * cols + j - 1] ?? 0) + 1,
        (d[(i - 1) * cols + j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (d[(i - 2) * cols + j - 2] ?? 0) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1] ?? 0;
}

/**
 * The candidate closest to `word` (ignoring case), if it is close enough to be a likely typo:
 * at most one edit per three characters, and at least one. Ties go to the earlier candidate.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    if (lc === w && c === word) continue;
    const limit = Math.max(1, Math.floor(Math.max(w.length, lc.length) / 3));
    const dist = editDistance(w, lc);
    if (dist <= limit && dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

/** The hint text for a did-you-mean suggestion, or undefined when there is none. */
export function suggestion(word: string, candidates: Iterable<string>): string | undefined {
  const best = didYouMean(word, candidates);
  return best === undefined ? undefined : `did you mean "${best}"?`;
}
