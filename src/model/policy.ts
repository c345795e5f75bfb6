// The policy as every engine sees it: groups with selectors, rules between groups, a mode per
// group. Documents (YAML) normalise into this shape in policy/document; nothing downstream reads
// YAML-shaped objects. Positions are kept so every later finding can point at the source.

export type Mode = 'discover' | 'monitor' | 'protect';
export const MODES: readonly Mode[] = ['discover', 'monitor', 'protect'];

/** Where something was written: file, 1-based line and column, and the path inside the document. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
  path: string;
}

export type LabelOp = 'eq' | 'neq' | 'exists' | 'in';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  /** eq/neq: one value; in: one or more; exists: none. */
  values: string[];
}

/** One criterion of a selector. All criteria of a selector must hold. */
export type Criterion =
  | { kind: 'label'; req: LabelRequirement }
  | { kind: 'namespace'; name: string }
  | { kind: 'namespaceLabel'; req: LabelRequirement }
  | { kind: 'service'; name: string }
  /** Glob over the image reference: `*` any run of characters, `?` one character. */
  | { kind: 'image'; glob: string }
  | { kind: 'node'; name: string }
  /** An IP, a CIDR (`10.0.0.0/8`, `fd00::/64`) or an inclusive range (`10.0.0.5-10.0.0.9`). */
  | { kind: 'address'; spec: string }
  /** Exact name or `*.suffix`, matched against the names that DNS answers seen on the wire gave the address. */
  | { kind: 'fqdn'; pattern: string };

export interface Selector {
  criteria: Criterion[];
  pos?: SourcePos;
}

export const RESERVED_GROUPS = ['any', 'workloads', 'nodes', 'external'] as const;
export type ReservedGroup = (typeof RESERVED_GROUPS)[number];

export interface Group {
  name: string;
  /** OR of selectors. Reserved groups have none: their meaning is built in. */
  selectors: Selector[];
  mode?: Mode;
  reserved?: boolean;
  comment?: string;
  pos?: SourcePos;
}

export type PortProto = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'any';

/**
 * One entry of a rule's ports. `any` is { proto: 'any' }. `tcp/any` has no range.
 * For icmp/icmpv6 the range is over the ICMP type (`icmp/8` = echo request).
 */
export interface PortRange {
  proto: PortProto;
  first?: number;
  last?: number;
}

export type Action = 'allow' | 'deny';
export type RuleSource = 'user' | 'learned' | 'imported';

export interface Rule {
  id: string;
  from: string[];
  to: string[];
  /** Empty means any. */
  ports: PortRange[];
  /** Lower-case registry names; empty means any application. */
  applications: string[];
  action: Action;
  priority: number;
  source: RuleSource;
  disabled?: boolean;
  comment?: string;
  pos?: SourcePos;
}

export interface Policy {
  groups: Group[];
  rules: Rule[];
  /** Mode of a workload that no group with a mode covers. */
  defaultMode: Mode;
}

/** Rule order of DESIGN.md: priority descending, deny before allow at equal priority, then id. */
export function compareRules(a: Rule, b: Rule): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.action !== b.action) return a.action === 'deny' ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const MODE_RANK: Record<Mode, number> = { discover: 0, monitor: 1, protect: 2 };

/** A workload in several groups with different modes takes the strictest. */
export function strictestMode(modes: Iterable<Mode>): Mode | undefined {
  let best: Mode | undefined;
  for (const m of modes) if (best === undefined || MODE_RANK[m] > MODE_RANK[best]) best = m;
  return best;
}
