// The findings lint can report: a stable code, its severity and a one-line summary each. The
// summaries become the rule descriptions of SARIF output; the codes are what tools key on.

import type { SourcePos } from '../../model/policy.js';
import type { Diagnostic, Severity } from '../diagnostics.js';
import { diagnosticAt } from '../document/source.js';

export interface LintCode {
  code: string;
  severity: Severity;
  summary: string;
}

/**
 * Errors are rules whose intent cannot happen; warnings are policy that works as written but
 * probably not as meant.
 */
export const LINT_CODES: readonly LintCode[] = [
  { code: 'selector-matches-nothing', severity: 'warning', summary: 'A group selector matches no workload or node in the inventory.' },
  { code: 'shadowed-rule', severity: 'error', summary: 'Earlier rules with another action match every connection the rule could match, so it never decides.' },
  { code: 'conflicting-rules', severity: 'warning', summary: 'An allow and a deny rule at the same priority match some of the same connections; the deny wins there.' },
  { code: 'redundant-rule', severity: 'warning', summary: 'Earlier rules with the same action already match every connection the rule matches.' },
  { code: 'over-broad-rule', severity: 'warning', summary: 'An allow rule from anywhere to anything, or from outside to every workload on every port.' },
  { code: 'mode-conflict', severity: 'warning', summary: 'Groups with different modes hold the same workloads; the strictest mode applies.' },
  { code: 'uncovered-workload', severity: 'warning', summary: 'A workload no group selects: only rules on any or workloads reach it.' },
];

/** Where a finding goes when the policy was not read from a file. */
const NOWHERE: SourcePos = { file: '', line: 1, col: 1, path: '' };

export function finding(pos: SourcePos | undefined, code: string, message: string, hint?: string): Diagnostic {
  const severity = LINT_CODES.find((c) => c.code === code)?.severity ?? 'warning';
  return diagnosticAt(pos ?? NOWHERE, code, message, hint, severity);
}
