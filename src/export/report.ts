// What an export target cannot say. Every writer appends one loss per constraint of the policy it
// had to drop, widen or fold into something else, naming the rule or group and where it was
// written; `palisade export` prints them so nobody enforces an export believing it is the policy.

import type { Group, Mode, Policy, Rule, SourcePos } from '../model/policy.js';
import { findProtocol } from '../dpi/registry.js';

export const TARGETS = ['networkpolicy', 'cilium', 'calico', 'istio', 'neuvector'] as const;
export type Target = (typeof TARGETS)[number];

export interface Loss {
  /** `rule web-to-api`, `group payment-provider`, `policy`. */
  subject: string;
  pos?: SourcePos;
  message: string;
}

/** `examples/shop/policy/00-shop.yaml:30: rule web-to-api: applications [HTTP] dropped: ...`. */
export function formatLoss(loss: Loss): string {
  const where = loss.pos === undefined ? '' : `${loss.pos.file}:${loss.pos.line}: `;
  return `${where}${loss.subject}: ${loss.message}`;
}

export function ruleLoss(rule: Rule, message: string): Loss {
  return { subject: `rule ${rule.id}`, ...(rule.pos !== undefined ? { pos: rule.pos } : {}), message };
}

export function groupLoss(group: Group, message: string): Loss {
  return { subject: `group ${group.name}`, ...(group.pos !== undefined ? { pos: group.pos } : {}), message };
}

/** Registry spelling of applications (`PostgreSQL`), as users wrote them in the first place. */
export function applicationName(name: string): string {
  return findProtocol(name)?.name ?? name;
}

export function applicationList(names: readonly string[]): string {
  return `[${names.map(applicationName).join(', ')}]`;
}

/** Each loss once, in the order first reported: a group met through several rules is one loss. */
export function distinctLosses(losses: readonly Loss[]): Loss[] {
  const seen = new Set<string>();
  return losses.filter((l) => {
    const key = formatLoss(l);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** For targets that apply every deny before any allow: each deny that outranks allows it should not. */
export function denyFirstLosses(rules: readonly Rule[], why: string): Loss[] {
  return rules.flatMap((rule) => {
    if (rule.action !== 'deny') return [];
    const outranking = rules.filter((a) => a.action === 'allow' && a.priority > rule.priority).map((a) => a.id);
    return outranking.length === 0 ? [] : [ruleLoss(rule, `deny at priority ${rule.priority} also outranks the allow rules [${outranking.join(', ')}]: ${why}`)];
  });
}

/** Modes other than protect, the groups' and the policy's default, for a target that always enforces. */
export function modeLosses(policy: Policy, groups: Iterable<Group>, groupWhy: (mode: Mode) => string, defaultWhy: string): Loss[] {
  const out: Loss[] = [];
  for (const group of groups) if (group.mode !== undefined && group.mode !== 'protect') out.push(groupLoss(group, groupWhy(group.mode)));
  if (policy.defaultMode !== 'protect') out.push({ subject: 'policy', message: `default mode ${policy.defaultMode} ${defaultWhy}` });
  return out;
}
