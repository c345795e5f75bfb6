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

const MODE_BITS: Record<Mode, number> = { discover: 0, monitor: 1, protect: 2 };
const MODE_OF: readonly Mode[] = ['discover', 'monitor', 'protect'];
const ALLOWED = 1;
const ENFORCED = 2;
const VIOLATION = 4;
const PENDING = 8;
/** The entry holds a verdict, not only the key of a miss. */
const HELD = 16;
const MODE_SHIFT = 5;
/** Key (4), flags (1), padding to a 32-byte entry. */
const ENTRY_INTS = 8;

/**
 * Recent verdicts by a key of four integers that the caller guarantees decides the verdict (for
 * compile.ts: client slot, server slot, service, application state), for traffic that repeats
 * itself. Direct-mapped with a fixed number of entries, so traffic can evict but never grow it.
 * A verdict is kept only when its key misses twice in a row of its entry: traffic that does not
 * repeat costs a key write per decision, not the keeping alive of its verdict (which would make
 * every garbage collection copy it). It keeps a verdict's parts, never an object it handed out: every hit builds a verdict of its
 * own, so a caller that changes its verdict cannot change another's.
 */
export class VerdictCache {
  readonly size: number;
  private readonly mask: number;
  /**
   * Per entry ENTRY_INTS integers: the key, then the verdict's flags; a first key of -1 marks an
   * empty entry (keys are not negative). With `parts`, an entry spans two cache lines at most.
   */
  private readonly keys: Int32Array;
  /** Per entry: rule id, reason, first and second perimeter (undefined when absent). */
  private readonly parts: (string | PerimeterVerdict | undefined)[];

  /** `entries` is rounded up to a power of two. */
  constructor(entries: number) {
    this.size = 2 ** Math.ceil(Math.log2(Math.max(1, entries)));
    this.mask = this.size - 1;
    this.keys = new Int32Array(ENTRY_INTS * this.size).fill(-1);
    this.parts = new Array<string | PerimeterVerdict | undefined>(4 * this.size).fill(undefined);
  }

  private entryOf(a: number, b: number, c: number, d: number): number {
    const h = Math.imul(Math.imul(Math.imul(a, 0x9e3779b1) ^ b, 0x85ebca6b) ^ c, 0xc2b2ae35) ^ d;
    return (Math.imul(h ^ (h >>> 15), 0x27d4eb2f) >>> 16) & this.mask;
  }

  get(a: number, b: number, c: number, d: number): Verdict | undefined {
    const e = this.entryOf(a, b, c, d);
    const k = this.keys;
    const i = ENTRY_INTS * e;
    const f = k[i + 4] as number;
    if ((f & HELD) === 0 || k[i] !== a || k[i + 1] !== b || k[i + 2] !== c || k[i + 3] !== d) return undefined;
    const parts = this.parts;
    const p = parts[4 * e + 2] as PerimeterVerdict | undefined;
    const q = parts[4 * e + 3] as PerimeterVerdict | undefined;
    const perimeters = p === undefined ? [] : q === undefined ? [p] : [p, q];
    const ruleId = parts[4 * e] as string;
    const reason = parts[4 * e + 1] as string;
    const mode = MODE_OF[f >>> MODE_SHIFT] as Mode;
    const violation = (f & VIOLATION) !== 0;
    if ((f & PENDING) !== 0) return { pending: true, allowed: true, enforced: false, ruleId, mode, reason, violation, perimeters };
    return { allowed: (f & ALLOWED) !== 0, enforced: (f & ENFORCED) !== 0, ruleId, mode, reason, violation, perimeters };
  }

  /** After a miss: v, whose perimeters must be shared pieces (frozen), is the verdict for the key. */
  missed(a: number, b: number, c: number, d: number, v: Verdict): void {
    const e = this.entryOf(a, b, c, d);
    const k = this.keys;
    const i = ENTRY_INTS * e;
    if (k[i] !== a || k[i + 1] !== b || k[i + 2] !== c || k[i + 3] !== d) {
      k[i] = a;
      k[i + 1] = b;
      k[i + 2] = c;
      k[i + 3] = d;
      k[i + 4] = 0;
      return;
    }
    k[i + 4] = HELD | (v.allowed ? ALLOWED : 0) | (v.enforced ? ENFORCED : 0) | (v.violation ? VIOLATION : 0) | (v.pending ? PENDING : 0) | (MODE_BITS[v.mode] << MODE_SHIFT);
    const parts = this.parts;
    parts[4 * e] = v.ruleId;
    parts[4 * e + 1] = v.reason;
    parts[4 * e + 2] = v.perimeters[0];
    parts[4 * e + 3] = v.perimeters[1];
  }
}
