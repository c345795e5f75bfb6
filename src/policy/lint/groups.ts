// Findings about groups against the inventory: selectors that select nothing, workloads held by
// groups that give them different modes, and workloads no group holds at all. Each needs the
// inventory's workloads; lint skips them without one.

import { strictestMode, type Mode, type Policy, type SourcePos } from '../../model/policy.js';
import type { Inventory } from '../../model/workload.js';
import type { Diagnostic } from '../diagnostics.js';
import { isReservedGroup } from '../select.js';
import { isExternalSelector, selectorHoldsNode, selectorHoldsWorkload, type Membership } from './endpoints.js';
import { finding } from './finding.js';

/** How many workloads a message names before it says "and N more". */
const NAMED = 5;

function nameSome(ids: readonly string[]): string {
  const shown = ids.slice(0, NAMED).join(', ');
  return ids.length > NAMED ? `${shown} and ${ids.length - NAMED} more` : shown;
}

/**
 * A selector of a group that holds for no workload and no node. Selectors of addresses and DNS
 * names only are left alone: they are meant for endpoints outside the inventory.
 */
export function emptySelectors(policy: Policy, inventory: Inventory, m: Membership): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const g of policy.groups) {
    if (g.reserved || isReservedGroup(g.name)) continue;
    g.selectors.forEach((s, i) => {
      if (isExternalSelector(s)) return;
      const matches = inventory.workloads.some((w) => selectorHoldsWorkload(s, w, m.env)) || inventory.nodes.some((n) => selectorHoldsNode(s, n, m.env));
      if (matches) return;
      const which = g.selectors.length === 1 ? `group "${g.name}"` : `selector ${i + 1} of group "${g.name}"`;
      out.push(
        finding(s.pos ?? g.pos, 'selector-matches-nothing', `${which} matches no workload or node in the inventory`, 'check its criteria against the inventory, or remove it'),
      );
    });
  }
  return out;
}

/** Pairs of groups with different modes that hold the same workloads, reported at the later group. */
export function modeConflicts(policy: Policy, m: Membership): Diagnostic[] {
  const out: Diagnostic[] = [];
  const moded = policy.groups.filter((g) => g.mode !== undefined && !g.reserved && !isReservedGroup(g.name));
  moded.forEach((later, j) => {
    for (const earlier of moded.slice(0, j)) {
      if (earlier.mode === later.mode) continue;
      const a = m.members.get(earlier.name) ?? new Set<string>();
      const both = [...(m.members.get(later.name) ?? [])].filter((x) => x.startsWith('w:') && a.has(x)).map((x) => x.slice(2));
      if (both.length === 0) continue;
      const strictest = strictestMode([earlier.mode as Mode, later.mode as Mode]);
      out.push(
        finding(
          later.pos,
          'mode-conflict',
          `groups "${later.name}" (${later.mode}) and "${earlier.name}" (${earlier.mode}) both hold ${nameSome(both)}; the strictest mode, ${strictest}, applies to them`,
          'give the groups one mode, or make them disjoint',
        ),
      );
    }
  });
  return out;
}

/** Workloads in no group of the policy, at their place in the inventory when it is known. */
export function uncoveredWorkloads(policy: Policy, inventory: Inventory, m: Membership, workloadPos: (id: string) => SourcePos | undefined): Diagnostic[] {
  const held = new Set<string>();
  for (const set of m.members.values()) for (const atom of set) held.add(atom);
  return inventory.workloads
    .filter((w) => !held.has(`w:${w.id}`))
    .map((w) =>
      finding(
        workloadPos(w.id),
        'uncovered-workload',
        `workload "${w.id}" is in no group: only rules on any or workloads reach it, and it runs in the default mode (${policy.defaultMode})`,
        'add a group that selects it',
      ),
    );
}
