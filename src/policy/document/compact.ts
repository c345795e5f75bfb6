// The compact declarative format that container firewalls popularised, read into the same Draft
// as Palisade's own documents. A document in this format has `apiVersion: v1` and no `kind`:
//
//   apiVersion: v1
//   prefix: new-app            optional; namespaces every group name and rule id with "<prefix>."
//   suffix: auto               optional; the only value: ids are derived, as below, never random
//   groups:
//     <group>:                 → Group "<prefix>.<group>" (or "<group>" without a prefix)
//       selectors: [...]       → the same selector forms as Palisade documents
//       mode, comment          → Group.mode, Group.comment
//       rules:
//         <rule>:              → Rule "<prefix>.<group>.<rule>", source user; ids stay the same as
//                                long as the names do, whatever else is edited
//           toTarget: <g>      → egress rule: from <group> to <g>
//           fromTarget: <g>    → ingress rule written under the destination: from <g> to <group>
//           applications, ports, action, priority, disabled, comment → the Rule fields
//
// A target naming a group of the same document gets the prefix; a reserved name (any,
// workloads, nodes, external) stays as it is; any other name is a full group name defined
// elsewhere (another document or file). Exactly one of toTarget and fromTarget is required.

import { RESERVED_GROUPS } from '../../model/policy.js';
import type { Draft, GroupRef } from './assemble.js';
import { failedWithin, isFields, readGroup, readRule, stringsAt, type Fields, type ReadContext } from './fields.js';
import { diagnosticAt, entryPos, valuePos, type PathSeg } from './source.js';

export const COMPACT_API_VERSION = 'v1';

const RESERVED: readonly string[] = RESERVED_GROUPS;

function qualify(prefix: string | undefined, name: string): string {
  return prefix === undefined ? name : `${prefix}.${name}`;
}

function readTargets(
  ctx: ReadContext,
  body: Fields,
  field: 'toTarget' | 'fromTarget',
  segs: readonly PathSeg[],
  local: ReadonlySet<string>,
  prefix: string | undefined,
): GroupRef[] {
  const refs: GroupRef[] = [];
  const nearby = [...local];
  for (const { text, segs: at } of stringsAt(body[field], [...segs, field])) {
    const pos = valuePos(ctx.src, at);
    const name = local.has(text) && !RESERVED.includes(text) ? qualify(prefix, text) : text;
    if (!refs.some((r) => r.name === name)) refs.push({ name, pos, nearby });
  }
  return refs;
}

/** Reads one compact document; the schema has already been applied. */
export function readCompactDocument(ctx: ReadContext, draft: Draft, doc: Fields): void {
  const prefix = typeof doc['prefix'] === 'string' && !failedWithin(ctx, ['prefix']) ? doc['prefix'] : undefined;
  const groups = doc['groups'];
  if (!isFields(groups)) return;
  const local = new Set(Object.keys(groups));

  for (const [key, body] of Object.entries(groups)) {
    const segs = ['groups', key];
    const pos = entryPos(ctx.src, segs);
    const name = qualify(prefix, key);
    draft.groups.push({ group: readGroup(ctx, name, pos, body, segs), pos });
    const rules = isFields(body) ? body['rules'] : undefined;
    if (!isFields(rules)) continue;
    for (const [ruleKey, ruleBody] of Object.entries(rules)) {
      const ruleSegs = [...segs, 'rules', ruleKey];
      if (!isFields(ruleBody)) continue;
      const rulePos = entryPos(ctx.src, ruleSegs);
      const id = `${name}.${ruleKey}`;
      const self: GroupRef = { name, pos: rulePos };
      const to = readTargets(ctx, ruleBody, 'toTarget', ruleSegs, local, prefix);
      const from = readTargets(ctx, ruleBody, 'fromTarget', ruleSegs, local, prefix);
      const hasTo = ruleBody['toTarget'] !== undefined;
      const hasFrom = ruleBody['fromTarget'] !== undefined;
      if (hasTo === hasFrom) {
        const message = hasTo
          ? 'a rule has either toTarget (egress) or fromTarget (ingress), not both'
          : 'a rule needs toTarget (egress) or fromTarget (ingress)';
        ctx.diagnostics.push(diagnosticAt(rulePos, 'bad-target', message));
        draft.rules.push({ rule: undefined, id, pos: rulePos, refs: [...from, ...to] });
        continue;
      }
      // The enclosing group is defined right here, so it needs no reference check; but when its
      // name is reserved it is refused, and its rules must not silently apply to the reserved group.
      const ends = hasTo ? { from: [self], to } : { from, to: [self] };
      const rule = readRule(ctx, id, ends, ruleBody, ruleSegs, rulePos);
      const refused = RESERVED.includes(name.toLowerCase());
      draft.rules.push({ rule: refused ? undefined : rule, id, pos: rulePos, refs: hasTo ? to : from });
    }
  }
}
