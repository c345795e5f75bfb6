// Lint: what a loaded policy means beyond whether it parses. Runs after the document loader (which
// reports unknown groups, applications and port syntax) and before anything is enforced; every
// finding points at the rule, group or selector it is about. Used by `palisade policy check`.

import { compareRules, type Policy, type Rule, type SourcePos } from '../../model/policy.js';
import type { Inventory } from '../../model/workload.js';
import { sortDiagnostics, type Diagnostic } from '../diagnostics.js';
import { coverOf, rulesOverlap } from './coverage.js';
import { inventorySpace, membershipOf, nameSpace, type EndpointSpace } from './endpoints.js';
import { finding } from './finding.js';
import { emptySelectors, modeConflicts, uncoveredWorkloads } from './groups.js';

export { LINT_CODES, type LintCode } from './finding.js';

export interface LintOptions {
  /** Where the inventory wrote each workload (by id), for findings about workloads. */
  workloadPos?: (id: string) => SourcePos | undefined;
}

/** `singular` after one rule, `plural` after several. */
function verb(rules: readonly Rule[], singular: string, plural: string): string {
  return rules.length === 1 ? singular : plural;
}

function names(rules: readonly Rule[]): string {
  const quoted = rules.map((r) => `"${r.id}"`);
  return quoted.length === 1 ? `rule ${quoted[0]}` : `rules ${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

/**
 * Shadowed, redundant and conflicting rules. A rule is judged once: fully taken by earlier rules
 * (shadowed when any of them acts otherwise, else redundant), or else in conflict with denies of
 * its own priority that take part of it.
 */
function ruleFindings(rules: readonly Rule[], space: EndpointSpace): Diagnostic[] {
  const out: Diagnostic[] = [];
  rules.forEach((rule, i) => {
    const before = rules.slice(0, i);
    const cover = coverOf(space, rule, before);
    if (cover !== undefined) {
      const others = cover.takers.filter((t) => t.action !== rule.action);
      if (others.length > 0) {
        const top = Math.max(...others.map((t) => t.priority));
        out.push(
          finding(
            rule.pos,
            'shadowed-rule',
            `rule "${rule.id}" never decides: ${names(cover.takers)} ${verb(cover.takers, 'matches', 'match')} every connection it could match first`,
            `to make it ${rule.action} them, give it a priority above ${top}`,
          ),
        );
      } else {
        out.push(finding(rule.pos, 'redundant-rule', `rule "${rule.id}" changes nothing: ${names(cover.takers)} already ${verb(cover.takers, rule.action === 'allow' ? 'allows' : 'denies', rule.action)} every connection it matches`, 'remove it'));
      }
      return;
    }
    if (rule.action !== 'allow') return;
    const denies = before.filter((d) => d.action === 'deny' && d.priority === rule.priority && rulesOverlap(space, rule, d));
    if (denies.length === 0) return;
    out.push(
      finding(
        rule.pos,
        'conflicting-rules',
        `rule "${rule.id}" (allow) and ${names(denies)} (deny) match some of the same connections at priority ${rule.priority}; the deny wins there`,
        'give the one that should win a higher priority, or narrow one of them',
      ),
    );
  });
  return out;
}

const ANY_PORT = (r: Rule): boolean => r.ports.length === 0 || r.ports.some((p) => p.proto === 'any');

/** Allow rules whose reach is the whole cluster, or the whole cluster from outside. */
function overBroad(rules: readonly Rule[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const r of rules) {
    if (r.action !== 'allow') continue;
    const fromAny = r.from.includes('any');
    const toAny = r.to.includes('any');
    if (fromAny && toAny) {
      out.push(finding(r.pos, 'over-broad-rule', `rule "${r.id}" allows any endpoint to reach any endpoint`, 'name the groups and ports it is meant for'));
    } else if ((fromAny || r.from.includes('external')) && (toAny || r.to.includes('workloads')) && ANY_PORT(r)) {
      out.push(finding(r.pos, 'over-broad-rule', `rule "${r.id}" allows external addresses to reach every workload on every port`, 'name the workloads and ports that serve outside clients'));
    }
  }
  return out;
}

/**
 * Every finding about the policy, sorted by position. Without an inventory, findings that need
 * workloads are skipped and rule coverage is judged from group names alone.
 */
export function lintPolicy(policy: Policy, inventory?: Inventory, options: LintOptions = {}): Diagnostic[] {
  const rules = policy.rules.filter((r) => !r.disabled).sort(compareRules);
  const out: Diagnostic[] = [];
  if (inventory === undefined) {
    out.push(...ruleFindings(rules, nameSpace(policy)));
  } else {
    const membership = membershipOf(policy, inventory);
    out.push(...emptySelectors(policy, inventory, membership));
    out.push(...ruleFindings(rules, inventorySpace(policy, inventory, membership)));
    out.push(...modeConflicts(policy, membership));
    out.push(...uncoveredWorkloads(policy, inventory, membership, options.workloadPos ?? (() => undefined)));
  }
  out.push(...overBroad(rules));
  return sortDiagnostics(out);
}
