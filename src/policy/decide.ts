// From "which rule matched" to a Verdict: each workload side applies its own mode (DESIGN.md,
// Modes), the sides combine, and the outcome is put into one sentence. compile.ts finds the rule;
// this module turns it into what enforcement, events and `policy explain` consume.
//
// A verdict is assembled from pieces that do not depend on the connection beyond its rule, its
// endpoints and its service: the rule's part of the reason and, per workload side and outcome, a
// perimeter verdict with its sentence. compile.ts builds each piece once and shares it between
// decisions, so shared pieces are frozen: a verdict's perimeters are read-only.

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

/** How a reason starts: the rule that decided, or that none did; the endpoints follow. */
export function reasonHead(rule: Rule | undefined): string {
  if (rule === undefined) return 'no rule matches ';
  return 'rule ' + rule.id + ' (priority ' + rule.priority + (rule.action === 'allow' ? ') allows ' : ') denies ');
}

/** The endpoints and service of a reason: `api → db on tcp/5432`. */
export function reasonSubject(client: string, server: string, service: string): string {
  return client + ' → ' + server + ' on ' + service;
}

/** The reason of a pending verdict: it depends on the rule alone. */
export function pendingReason(rule: Rule): string {
  return `waiting for application identification (rule ${rule.id} names ${rule.applications.join(', ')})`;
}

/**
 * One side's share of a verdict for one outcome: its perimeter verdict and the clause it adds to
 * the reason. Depends only on the side (workload, name, mode) and the outcome, so it is shared.
 */
export interface SideVerdict {
  perimeter: Readonly<PerimeterVerdict>;
  /** `; api is in protect: blocked`, or '' when the outcome is an allow (the rule says it all). */
  clause: string;
  /** The clause when both sides are one workload, naming the side: `api (egress) is in ...`. */
  sameWorkloadClause: string;
}

function sideClause(who: string, side: Side, p: PerimeterVerdict): string {
  const what = !p.allowed ? OUTCOME_TEXT.blocked : p.violation ? OUTCOME_TEXT.violation : p.learn ? OUTCOME_TEXT.learn : OUTCOME_TEXT.allowed;
  return '; ' + who + ' is in ' + side.mode + ':' + what;
}

export function sideVerdict(side: Side, outcome: Outcome): SideVerdict {
  const perimeter = Object.freeze(perimeterVerdict(side, outcome));
  if (outcome === 'allow') return { perimeter, clause: '', sameWorkloadClause: '' };
  return {
    perimeter,
    clause: sideClause(side.name, side, perimeter),
    sameWorkloadClause: sideClause(side.name + ' (' + side.side + ')', side, perimeter),
  };
}

/** While DPI is identifying, a side neither blocks nor reports: the same for every rule. */
export function pendingSideVerdict(side: Side): SideVerdict {
  const perimeter = Object.freeze({ workload: side.workload, side: side.side, mode: side.mode, allowed: true, violation: false, learn: false });
  return { perimeter, clause: '', sameWorkloadClause: '' };
}

/** The stricter of two modes (discover < monitor < protect). */
const stricter = (a: Mode, b: Mode): Mode => (a === 'protect' || b === 'protect' ? 'protect' : a === 'monitor' || b === 'monitor' ? 'monitor' : 'discover');

/**
 * A decided verdict from its pieces: `head` and `subject` as reasonHead and reasonSubject give
 * them; egress and ingress are the sides that have a perimeter (undefined for an endpoint that is
 * no workload); `sameWorkload` when both are one workload's.
 */
export function assembleVerdict(
  ruleId: string,
  head: string,
  subject: string,
  egress: SideVerdict | undefined,
  ingress: SideVerdict | undefined,
  sameWorkload: boolean,
  defaultMode: Mode,
): Verdict {
  const first = egress ?? ingress;
  if (first === undefined) {
    const reason = head + subject + '; neither endpoint has a perimeter, so nothing is enforced';
    return { allowed: true, enforced: false, ruleId, mode: defaultMode, reason, violation: false, perimeters: [] };
  }
  const a = first.perimeter;
  if (egress === undefined || ingress === undefined) {
    const reason = head + subject + first.clause;
    return { allowed: a.allowed, enforced: a.mode === 'protect', ruleId, mode: a.mode, reason, violation: a.violation, perimeters: [a] };
  }
  const b = ingress.perimeter;
  // Only protect blocks, so the blocking side's mode is also the strictest one.
  const mode = stricter(a.mode, b.mode);
  const reason = sameWorkload ? head + subject + egress.sameWorkloadClause + ingress.sameWorkloadClause : head + subject + egress.clause + ingress.clause;
  return { allowed: a.allowed && b.allowed, enforced: mode === 'protect', ruleId, mode, reason, violation: a.violation || b.violation, perimeters: [a, b] };
}

/** A rule naming applications might still match: nothing is decided yet, nothing is reported. */
export function assemblePendingVerdict(ruleId: string, reason: string, egress: SideVerdict | undefined, ingress: SideVerdict | undefined, defaultMode: Mode): Verdict {
  const perimeters: PerimeterVerdict[] = [];
  let mode: Mode | undefined;
  for (const s of [egress, ingress]) {
    if (s === undefined) continue;
    perimeters.push(s.perimeter);
    mode = mode === undefined ? s.perimeter.mode : stricter(mode, s.perimeter.mode);
  }
  return { pending: true, allowed: true, enforced: false, ruleId, mode: mode ?? defaultMode, reason, violation: false, perimeters };
}

function sidesOf(sides: Side[]): { egress: Side | undefined; ingress: Side | undefined } {
  let egress: Side | undefined;
  let ingress: Side | undefined;
  for (const s of sides) {
    if (s.side === 'egress') egress = s;
    else ingress = s;
  }
  return { egress, ingress };
}

/** The rule's decision for every side, combined as DESIGN.md says, with its reason. */
export function verdictOf(facts: DecisionFacts): Verdict {
  const { rule } = facts;
  const outcome: Outcome = rule === undefined ? 'default' : rule.action;
  const { egress, ingress } = sidesOf(facts.sides);
  return assembleVerdict(
    rule === undefined ? 'default' : rule.id,
    reasonHead(rule),
    reasonSubject(facts.client, facts.server, facts.service),
    egress && sideVerdict(egress, outcome),
    ingress && sideVerdict(ingress, outcome),
    egress !== undefined && ingress !== undefined && egress.workload === ingress.workload,
    facts.defaultMode,
  );
}

/** A rule naming applications might still match: nothing is decided yet, nothing is reported. */
export function pendingVerdictOf(facts: DecisionFacts & { rule: Rule }): Verdict {
  const { egress, ingress } = sidesOf(facts.sides);
  return assemblePendingVerdict(facts.rule.id, pendingReason(facts.rule), egress && pendingSideVerdict(egress), ingress && pendingSideVerdict(ingress), facts.defaultMode);
}
