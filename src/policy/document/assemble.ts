// The last step of loading: the drafts of every document of every file merge into one model
// Policy. Checks that need the whole picture happen here: duplicate group names and rule ids,
// references to groups defined nowhere, reserved names redefined, conflicting default modes.

import { RESERVED_GROUPS, type Group, type Mode, type Policy, type Rule, type SourcePos } from '../../model/policy.js';
import { sortDiagnostics, suggestion, type Diagnostic } from '../diagnostics.js';
import { diagnosticAt } from './source.js';

/** A group name as written in a rule, with where it was written. */
export interface GroupRef {
  name: string;
  pos: SourcePos;
  /** Names the writer most likely meant when the reference fails (the compact format's own groups). */
  nearby?: readonly string[];
}

export interface DraftGroup {
  group: Group;
  pos: SourcePos;
}

export interface DraftRule {
  /** Undefined when the rule itself failed a check: it was reported and stays out of the policy. */
  rule: Rule | undefined;
  id: string;
  pos: SourcePos;
  refs: GroupRef[];
}

/** What the documents of one file contribute, before merging. */
export interface Draft {
  groups: DraftGroup[];
  rules: DraftRule[];
  modes: { mode: Mode; pos: SourcePos }[];
  diagnostics: Diagnostic[];
}

export function emptyDraft(): Draft {
  return { groups: [], rules: [], modes: [], diagnostics: [] };
}

export const DEFAULT_MODE: Mode = 'discover';

function at(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

const RESERVED: readonly string[] = RESERVED_GROUPS;

/**
 * Merges drafts in order: reserved groups first, then groups and rules in the order written.
 * A rule that failed any check is left out; a group stays (without its failed selectors) so that
 * rules naming it do not fail too. When any diagnostic is an error the caller must not enforce
 * the policy, since what was left out changes its meaning.
 */
export function assemble(drafts: readonly Draft[]): { policy: Policy; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = drafts.flatMap((d) => d.diagnostics);
  const groups: Group[] = RESERVED_GROUPS.map((name) => ({ name, selectors: [], reserved: true }));
  const defined = new Map<string, SourcePos>();

  for (const { group, pos } of drafts.flatMap((d) => d.groups)) {
    if (RESERVED.includes(group.name.toLowerCase())) {
      diagnostics.push(
        diagnosticAt(pos, 'reserved-group', `"${group.name}" is a reserved group and cannot be defined`, `reserved: ${RESERVED.join(', ')}`),
      );
      continue;
    }
    const first = defined.get(group.name);
    if (first !== undefined) {
      diagnostics.push(diagnosticAt(pos, 'duplicate-group', `group "${group.name}" is already defined at ${at(first)}`));
      continue;
    }
    defined.set(group.name, pos);
    groups.push(group);
  }

  let defaultMode: { mode: Mode; pos: SourcePos } | undefined;
  for (const m of drafts.flatMap((d) => d.modes)) {
    if (defaultMode === undefined) defaultMode = m;
    else if (defaultMode.mode !== m.mode) {
      diagnostics.push(
        diagnosticAt(m.pos, 'conflicting-mode', `default mode "${m.mode}" conflicts with "${defaultMode.mode}" set at ${at(defaultMode.pos)}`),
      );
    }
  }

  const known = [...RESERVED, ...defined.keys()];
  const ids = new Map<string, SourcePos>();
  const rules: Rule[] = [];
  for (const draft of drafts.flatMap((d) => d.rules)) {
    let ok = draft.rule !== undefined;
    const first = ids.get(draft.id);
    if (first !== undefined) {
      diagnostics.push(diagnosticAt(draft.pos, 'duplicate-id', `rule id "${draft.id}" is already used at ${at(first)}`));
      ok = false;
    } else {
      ids.set(draft.id, draft.pos);
    }
    for (const ref of draft.refs) {
      if (RESERVED.includes(ref.name) || defined.has(ref.name)) continue;
      const hint = suggestion(ref.name, ref.nearby ?? []) ?? suggestion(ref.name, known);
      diagnostics.push(diagnosticAt(ref.pos, 'unknown-group', `unknown group "${ref.name}"`, hint));
      ok = false;
    }
    if (ok && draft.rule !== undefined) rules.push(draft.rule);
  }

  return {
    policy: { groups, rules, defaultMode: defaultMode?.mode ?? DEFAULT_MODE },
    diagnostics: sortDiagnostics(diagnostics),
  };
}
