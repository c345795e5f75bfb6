// The decision for one connection, able to explain itself. A connection A→B crosses A's egress
// perimeter and B's ingress perimeter; the first matching rule is the verdict for both, and each
// side applies its own mode.

import type { Mode } from './policy.js';

export interface PerimeterVerdict {
  /** Workload whose perimeter this is. */
  workload: string;
  side: 'egress' | 'ingress';
  mode: Mode;
  /** This side lets the connection through. */
  allowed: boolean;
  /** A violation event is raised for this side. */
  violation: boolean;
  /** Discover mode records the connection as a learned candidate. */
  learn: boolean;
}

export interface Verdict {
  allowed: boolean;
  /** True when a side in protect decided, so the outcome is applied, not only reported. */
  enforced: boolean;
  /** Id of the first matching rule, or "default" when no rule matched. */
  ruleId: string;
  /** Mode of the side that decided the outcome (the blocking side, else the strictest). */
  mode: Mode;
  reason: string;
  /** A rule naming applications could still match: identification is in progress. */
  pending?: boolean;
  violation: boolean;
  perimeters: PerimeterVerdict[];
}
