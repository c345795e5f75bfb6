// From "which rule matched" to a Verdict: each workload side applies its own mode (DESIGN.md,
// Modes), the sides combine, and the outcome is put into one sentence. compile.ts finds the rule;
// this module turns it into what enforcement, events and `policy explain` consume.

import type { IpProto } from '../model/flow.js';
import type { Mode, Rule } from '../model/policy.js';
import type { PerimeterVerdict, Verdict } from '../model/verdict.js';

/** What decided a side: an allow rule, a deny rule, or no rule at all (the mode's default). */
export type Outcome = 'allow' | 'deny' | 'default';

/** One workload perimeter the connection crosses, before its outcome is known. */
export interface Side {
  workload: string;
  /** Shown in reasons. */
  name: string;
  side: 'egress' | 'ingress';
  mode: Mode;
}

/** The table of DESIGN.md, Modes, for one side. */
export function perimeterVerdict(side: Side, outcome: Outcome): PerimeterVerdict {
  const protect = side.mode === 'protect';
  const allowed = outcome === 'allow' || !protect;
  const violation = outcome === 'deny' || (outcome === 'default' && side.mode !== 'discover');
  const learn = outcome === 'default' && side.mode === 'discover';
  return { workload: side.workload, side: side.side, mode: side.mode, allowed, violation, learn };
}

const RANK: Record<Mode, number> = { discover: 0, monitor: 1, protect: 2 };

/** How a connection reads in a sentence: `tcp/5432`, `icmp type 8`, `other`. */
export function describeService(ipProto: IpProto, port: number): string {
  if (ipProto === 'icmp' || ipProto === 'icmpv6') return ipProto + ' type ' + port;
  if (ipProto === 'other') return 'other';
  return ipProto + '/' + port;
}

export interface DecisionFacts {
  rule: Rule | undefined;
  /** Display names of client and server (workload name, `node n1`, or the address). */
  client: string;
  server: string;
  service: string;
  sides: Side[];
  defaultMode: Mode;
}

const OUTCOME_TEXT = {
  blocked: ' blocked',
  violation: ' allowed, violation reported',
  learn: ' allowed, recorded for learning',
  allowed: ' allowed',
} as const;

function sideSentence(side: Side, p: PerimeterVerdict, sameWorkload: boolean): string {
  const who = sameWorkload ? side.name + ' (' + side.side + ')' : side.name;
  const what = !p.allowed ? OUTCOME_TEXT.blocked : p.violation ? OUTCOME_TEXT.violation : p.learn ? OUTCOME_TEXT.learn : OUTCOME_TEXT.allowed;
  return who + ' is in ' + side.mode + ':' + what;
}

/**
 * The rule's decision for every side, combined as DESIGN.md says, with its reason. On the decision
 * path: plain loops and concatenation, no intermediate arrays.
 */
export function verdictOf(facts: DecisionFacts): Verdict {
  const { rule, sides } = facts;
  const outcome: Outcome = rule === undefined ? 'default' : rule.action;
  const ruleId = rule === undefined ? 'default' : rule.id;
  const what = facts.client + ' → ' + facts.server + ' on ' + facts.service;
  const head =
    rule === undefined
      ? 'no rule matches ' + what
      : 'rule ' + rule.id + ' (priority ' + rule.priority + (rule.action === 'allow' ? ') allows ' : ') denies ') + what;
  const perimeters: PerimeterVerdict[] = [];
  if (sides.length === 0) {
    const reason = head + '; neither endpoint has a perimeter, so nothing is enforced';
    return { allowed: true, enforced: false, ruleId, mode: facts.defaultMode, reason, violation: false, perimeters };
  }
  let allowed = true;
  let violation = false;
  // Only protect blocks, so the blocking side's mode is also the strictest one.
  let mode: Mode = 'discover';
  for (const s of sides) {
    const p = perimeterVerdict(s, outcome);
    perimeters.push(p);
    if (!p.allowed) allowed = false;
    if (p.violation) violation = true;
    if (RANK[p.mode] > RANK[mode]) mode = p.mode;
  }
  let reason = head;
  if (outcome !== 'allow') {
    const same = sides.length === 2 && sides[0]?.workload === sides[1]?.workload;
    for (let i = 0; i < sides.length; i++) reason += '; ' + sideSentence(sides[i] as Side, perimeters[i] as PerimeterVerdict, same);
  }
  return { allowed, enforced: mode === 'protect', ruleId, mode, reason, violation, perimeters };
}

/** A rule naming applications might still match: nothing is decided yet, nothing is reported. */
export function pendingVerdictOf(facts: DecisionFacts & { rule: Rule }): Verdict {
  let mode: Mode | undefined;
  for (const s of facts.sides) if (mode === undefined || RANK[s.mode] > RANK[mode]) mode = s.mode;
  return {
    pending: true,
    allowed: true,
    enforced: false,
    ruleId: facts.rule.id,
    mode: mode ?? facts.defaultMode,
    reason: `waiting for application identification (rule ${facts.rule.id} names ${facts.rule.applications.join(', ')})`,
    violation: false,
    perimeters: facts.sides.map((s) => ({ workload: s.workload, side: s.side, mode: s.mode, allowed: true, violation: false, learn: false })),
  };
}
