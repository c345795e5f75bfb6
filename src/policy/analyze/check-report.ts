// Assertion results as CI systems read them: text for people, JUnit XML for test dashboards,
// SARIF 2.1.0 for code scanning (each failure on the line of its assertion).

import type { Diagnostic } from '../diagnostics.js';
import { toSarif } from '../sarif.js';
import type { AssertionResult } from './assertions.js';

export const CHECK_FORMATS = ['text', 'junit', 'sarif'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

const where = (r: AssertionResult): string => `${r.assertion.pos.file}:${r.assertion.pos.line}`;

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A failing assertion as a diagnostic at its position, so SARIF places it on that line. */
export function failureDiagnostic(r: AssertionResult): Diagnostic {
  const p = r.assertion.pos;
  return { code: 'assertion-failed', severity: 'error', file: p.file, line: p.line, col: p.col, path: p.path, message: `${r.assertion.name}: ${r.message ?? 'fails'}` };
}

export function formatCheck(results: readonly AssertionResult[], format: CheckFormat, opts: { baseDir: string; version: string }): string {
  const failed = results.filter((r) => !r.holds);
  if (format === 'sarif') return `${JSON.stringify(toSarif(failed.map(failureDiagnostic), opts), null, 2)}\n`;
  if (format === 'junit') {
    const cases = results.map((r) => {
      const head = `    <testcase classname="${xml(r.assertion.pos.file)}" name="${xml(r.assertion.name)}" file="${xml(r.assertion.pos.file)}" line="${r.assertion.pos.line}"`;
      if (r.holds) return `${head}/>`;
      return `${head}>\n      <failure message="${xml(r.message ?? 'fails')}" type="${r.assertion.kind}">${xml(`${where(r)}: ${r.message ?? 'fails'}`)}</failure>\n    </testcase>`;
    });
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="palisade check" tests="${results.length}" failures="${failed.length}">`,
      `  <testsuite name="assertions" tests="${results.length}" failures="${failed.length}" errors="0" skipped="0">`,
      ...cases,
      '  </testsuite>',
      '</testsuites>',
      '',
    ].join('\n');
  }
  const rows = results.map((r) => (r.holds ? `PASS  ${r.assertion.name} (${where(r)})` : `FAIL  ${r.assertion.name} (${where(r)})\n      ${r.message ?? ''}`));
  rows.push(`${results.length} assertion${results.length === 1 ? '' : 's'}: ${results.length - failed.length} hold, ${failed.length} fail${failed.length === 1 ? 's' : ''}`);
  return `${rows.join('\n')}\n`;
}
