// What an export target cannot say. Every writer appends one loss per constraint of the policy it
// had to drop, widen or fold into something else, naming the rule or group and where it was
// written; `palisade export` prints them so nobody enforces an export believing it is the policy.

import type { Group, Rule, SourcePos } from '../model/policy.js';
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
