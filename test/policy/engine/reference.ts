// The decision semantics of DESIGN.md written as plainly as possible: classify both endpoints
// with plain loops, walk the sorted rules, evaluate every selector on the spot. No indexes, no
// precomputation. Property tests hold compile() to agree with it on every Verdict field.

import type { Connection } from '../../../src/model/connection.js';
import { compareRules, strictestMode, type Mode, type Policy, type Rule } from '../../../src/model/policy.js';
import type { PerimeterVerdict, Verdict } from '../../../src/model/verdict.js';
import type { Inventory } from '../../../src/model/workload.js';
import { describeService, pendingVerdictOf, verdictOf, type Side } from '../../../src/policy/decide.js';
import {
  classifyEndpoint,
  inGroup,
  inReservedGroup,
  isReservedGroup,
  selectEnv,
  type Endpoint,
  type Resolver,
  type SelectEnv,
} from '../../../src/policy/select.js';

function member(policy: Policy, name: string, ep: Endpoint, env: SelectEnv): boolean {
  if (isReservedGroup(name)) return inReservedGroup(name, ep);
  const group = policy.groups.find((g) => g.name === name);
  return group !== undefined && inGroup(group, ep, env);
}

function modeOf(policy: Policy, ep: Endpoint, env: SelectEnv): Mode {
  const modes: Mode[] = [];
  const seen = new Set<string>();
  for (const g of policy.groups) {
    if (seen.has(g.name)) continue;
    seen.add(g.name);
    if (g.mode !== undefined && member(policy, g.name, ep, env)) modes.push(g.mode);
  }
  return strictestMode(modes) ?? policy.defaultMode;
}

function portsAdmit(rule: Rule, conn: Connection): boolean {
  if (rule.ports.length === 0) return true;
  const port = conn.server.port;
  return rule.ports.some(
    (p) =>
      (p.proto === 'any' || p.proto === conn.ipProto) &&
      (p.first === undefined || (port >= p.first && port <= (p.last ?? p.first))),
  );
}

function displayName(ep: Endpoint): string {
  if (ep.kind === 'workload') return ep.workload.name;
  if (ep.kind === 'node') return `node ${ep.node.name}`;
  return ep.ip;
}

export function referenceDecide(
  policy: Policy,
  inventory: Inventory,
  conn: Connection,
  dns?: Resolver,
  now: () => number = Date.now,
): Verdict {
  const at = conn.at ?? now();
  const env = selectEnv(inventory, dns);
  const client = classifyEndpoint(inventory, conn.client.ip, at);
  const server = classifyEndpoint(inventory, conn.server.ip, at);
  const rules = policy.rules.filter((r) => !r.disabled).sort(compareRules);

  let matched: Rule | undefined;
  let pending = false;
  for (const rule of rules) {
    if (!portsAdmit(rule, conn)) continue;
    if (!rule.from.some((n) => member(policy, n, client, env))) continue;
    if (!rule.to.some((n) => member(policy, n, server, env))) continue;
    const apps = rule.applications.map((a) => a.toLowerCase());
    const anyApp = apps.length === 0 || apps.includes('any');
    if (!anyApp && !(conn.app !== undefined && apps.includes(conn.app.toLowerCase()))) {
      if (!conn.appPending) continue;
      pending = true;
    }
    matched = rule;
    break;
  }

  const sides: Side[] = [];
  if (client.kind === 'workload') {
    sides.push({ workload: client.workload.id, name: client.workload.name, side: 'egress', mode: modeOf(policy, client, env) });
  }
  if (server.kind === 'workload') {
    sides.push({ workload: server.workload.id, name: server.workload.name, side: 'ingress', mode: modeOf(policy, server, env) });
  }
  const facts = {
    rule: matched,
    client: displayName(client),
    server: displayName(server),
    service: describeService(conn.ipProto, conn.server.port),
    sides,
    defaultMode: policy.defaultMode,
  };
  const strictest = strictestMode(sides.map((s) => s.mode)) ?? policy.defaultMode;

  if (pending && matched) {
    return {
      pending: true,
      allowed: true,
      enforced: false,
      ruleId: matched.id,
      mode: strictest,
      reason: pendingVerdictOf({ ...facts, rule: matched }).reason,
      violation: false,
      perimeters: sides.map((s) => ({ workload: s.workload, side: s.side, mode: s.mode, allowed: true, violation: false, learn: false })),
    };
  }

  const ruleId = matched ? matched.id : 'default';
  const reason = verdictOf(facts).reason;
  if (sides.length === 0) {
    return { allowed: true, enforced: false, ruleId, mode: policy.defaultMode, reason, violation: false, perimeters: [] };
  }
  const perimeters: PerimeterVerdict[] = sides.map((s) => {
    let allowed: boolean;
    let violation: boolean;
    let learn = false;
    if (matched?.action === 'allow') {
      allowed = true;
      violation = false;
    } else if (matched?.action === 'deny') {
      allowed = s.mode !== 'protect';
      violation = true;
    } else if (s.mode === 'discover') {
      allowed = true;
      violation = false;
      learn = true;
    } else {
      allowed = s.mode === 'monitor';
      violation = true;
    }
    return { workload: s.workload, side: s.side, mode: s.mode, allowed, violation, learn };
  });
  return {
    allowed: perimeters.every((p) => p.allowed),
    enforced: perimeters.some((p) => p.mode === 'protect'),
    ruleId,
    mode: strictest,
    reason,
    violation: perimeters.some((p) => p.violation),
    perimeters,
  };
}
