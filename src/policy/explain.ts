// Why a connection got its verdict: what each endpoint resolved to (kind, workload, groups, the
// mode and which group set it) and, when no rule matched, the nearest misses. What
// `palisade policy explain` prints; it reads the compiled policy and never decides on its own.

import type { Connection } from '../model/connection.js';
import type { Action, Mode, PortRange, Rule } from '../model/policy.js';
import type { Verdict } from '../model/verdict.js';
import type { CompiledView, Membership } from './compile.js';
import { describeService } from './decide.js';

export interface EndpointExplanation {
  /** Canonical address (or the text given, when it is no address). */
  ip: string;
  kind: 'workload' | 'node' | 'external';
  /** Workload id, for a workload. */
  workload?: string;
  /** Node name, for a node. */
  node?: string;
  /** Every group the endpoint is in at the connection's time, reserved ones included. */
  groups: string[];
  /** A workload's perimeter mode and the group that set it ("default" when none did). */
  mode?: Mode;
  modeFrom?: string;
}

/** A rule whose groups hold for both endpoints but whose ports or applications do not. */
export interface NearMiss {
  ruleId: string;
  priority: number;
  action: Action;
  why: string;
}

export interface Explanation {
  verdict: Verdict;
  client: EndpointExplanation;
  server: EndpointExplanation;
  /** The rule the verdict names, when one matched. */
  rule?: Rule;
  /** Only when no rule matched: the first few rules in decision order that nearly did. */
  nearMisses: NearMiss[];
}

/** Enough for a user to see the pattern without scrolling through a large policy. */
export const MAX_NEAR_MISSES = 5;

/** `any`, or the entries as written: `tcp/80`, `tcp/8000-8080`, `tcp/any`, `icmp type 8`. */
export function describePorts(ports: readonly PortRange[]): string {
  if (ports.length === 0) return 'any';
  return ports
    .map((p) => {
      if (p.proto === 'any' && p.first === undefined) return 'any';
      const icmp = p.proto === 'icmp' || p.proto === 'icmpv6';
      if (p.first === undefined) return icmp ? p.proto : `${p.proto}/any`;
      const span = p.last === undefined || p.last === p.first ? `${p.first}` : `${p.first}-${p.last}`;
      return icmp ? `${p.proto} type ${span}` : `${p.proto}/${span}`;
    })
    .join(', ');
}

function endpointOf(view: CompiledView, m: Membership): EndpointExplanation {
  const out: EndpointExplanation = { ip: m.ip, kind: m.kind, groups: view.groupNamesOf(m.bits) };
  const workload = view.workloadOf(m);
  if (workload) {
    out.workload = workload.id;
    const { mode, from } = view.modeOf(m.bits);
    out.mode = mode;
    out.modeFrom = from;
  }
  const node = view.nodeOf(m);
  if (node !== undefined) out.node = node;
  return out;
}

function whyMissed(view: CompiledView, r: number, conn: Connection, proto: number): string | undefined {
  const rule = view.rules[r] as Rule;
  if (!view.portsAdmit(r, proto, conn.server.port)) {
    return `its ports (${describePorts(rule.ports)}) do not include ${describeService(conn.ipProto, conn.server.port)}`;
  }
  const apps = view.applicationsOf(r);
  if (apps === undefined) return undefined;
  if (conn.app !== undefined && apps.includes(conn.app.toLowerCase())) return undefined;
  const session = conn.app === undefined ? 'the application was not identified' : `the session is ${conn.app}`;
  return `it names applications ${apps.join(', ')} and ${session}`;
}

export function explainDecision(
  view: CompiledView,
  conn: Connection,
  client: Membership,
  server: Membership,
  verdict: Verdict,
  rule: Rule | undefined,
): Explanation {
  const out: Explanation = { verdict, client: endpointOf(view, client), server: endpointOf(view, server), nearMisses: [] };
  if (rule) out.rule = rule;
  if (verdict.ruleId !== 'default') return out;
  const proto = view.protoCode(conn.ipProto);
  for (let r = 0; r < view.rules.length && out.nearMisses.length < MAX_NEAR_MISSES; r++) {
    if (!view.groupsHold(r, client.bits, server.bits)) continue;
    const why = whyMissed(view, r, conn, proto);
    const rule = view.rules[r] as Rule;
    if (why) out.nearMisses.push({ ruleId: rule.id, priority: rule.priority, action: rule.action, why });
  }
  return out;
}
