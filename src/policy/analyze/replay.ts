// What-if replay: recorded flows (captures, Flow JSON lines, Hubble exports, read by
// dpi/sources.ts) decided by a candidate policy, as it would decide them live. Each flow is
// attributed at its own time (AddressIndex), fqdn groups resolve through the DNS answers seen in
// the same inputs, and the outcomes add up per service pair: what would be blocked or alerted.

import type { Flow } from '../../model/flow.js';
import type { Connection } from '../../model/connection.js';
import type { Verdict } from '../../model/verdict.js';
import type { AddressIndex, Attribution } from '../../inventory/attribute.js';
import type { CompiledPolicy, Resolver } from '../compile.js';
import { describeService } from '../decide.js';

export interface ReplayRecord {
  flow: string;
  firstSeen: string;
  ipProto: Flow['ipProto'];
  client: { ip: string; port: number; endpoint: string };
  server: { ip: string; port: number; endpoint: string };
  app: string;
  verdict: Verdict;
}

export type ReplayOutcome = 'allowed' | 'alerted' | 'blocked';

export interface PairSummary {
  from: string;
  to: string;
  flows: number;
  allowed: number;
  /** Let through with a violation event (a deny or no rule, no side in protect). */
  alerted: number;
  blocked: number;
  /** Services (`tcp/5432`) and the rules that decided, each once. */
  services: string[];
  rules: string[];
}

/** The service-level name of an endpoint: `namespace/service`, `node/<name>` or `external`. */
function endpointName(a: Attribution): string {
  if (a.kind === 'workload') return `${a.workload.namespace}/${a.workload.service}`;
  return a.kind === 'node' ? `node/${a.node.name}` : 'external';
}

export function outcomeOf(v: Verdict): ReplayOutcome {
  return !v.allowed ? 'blocked' : v.violation ? 'alerted' : 'allowed';
}

export class Replay {
  private readonly pairs = new Map<string, PairSummary & { serviceSet: Set<string>; ruleSet: Set<string> }>();

  constructor(
    private readonly compiled: CompiledPolicy,
    private readonly addresses: AddressIndex,
    private readonly dns: Resolver,
  ) {}

  /** Decides one flow and counts it for its pair. */
  add(flow: Flow): ReplayRecord {
    const at = Date.parse(flow.firstSeen);
    const conn: Connection = {
      ipProto: flow.ipProto,
      client: { ip: flow.client.ip, port: flow.client.port },
      server: { ip: flow.server.ip, port: flow.server.port },
      at,
    };
    // Only payload identification satisfies a rule that names applications (DESIGN.md).
    if (flow.appConfidence === 'dpi' && flow.app !== 'unknown') conn.app = flow.app.toLowerCase();
    const verdict = this.compiled.decide(conn, this.dns);
    const from = endpointName(this.addresses.at(flow.client.ip, at));
    const to = endpointName(this.addresses.at(flow.server.ip, at));
    const key = `${from}\0${to}`;
    let pair = this.pairs.get(key);
    if (pair === undefined) {
      pair = { from, to, flows: 0, allowed: 0, alerted: 0, blocked: 0, services: [], rules: [], serviceSet: new Set(), ruleSet: new Set() };
      this.pairs.set(key, pair);
    }
    pair.flows++;
    pair[outcomeOf(verdict)]++;
    pair.serviceSet.add(describeService(flow.ipProto, flow.server.port));
    pair.ruleSet.add(verdict.ruleId);
    return {
      flow: flow.id,
      firstSeen: flow.firstSeen,
      ipProto: flow.ipProto,
      client: { ip: flow.client.ip, port: flow.client.port, endpoint: from },
      server: { ip: flow.server.ip, port: flow.server.port, endpoint: to },
      app: conn.app ?? 'unknown',
      verdict,
    };
  }

  /** Pairs with something blocked first, then alerted, then by name. */
  summary(): PairSummary[] {
    return [...this.pairs.values()]
      .map(({ serviceSet, ruleSet, ...p }) => ({ ...p, services: [...serviceSet].sort(), rules: [...ruleSet].sort() }))
      .sort((a, b) => b.blocked - a.blocked || b.alerted - a.alerted || (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  }
}

export function formatReplaySummary(pairs: readonly PairSummary[]): string {
  const rows = pairs.map((p) => {
    const counts = [`${p.blocked} blocked`, `${p.alerted} alerted`, `${p.allowed} allowed`].join(', ');
    return `${p.from} → ${p.to} on ${p.services.join(', ')}: ${counts} (rules: ${p.rules.join(', ')})`;
  });
  const total = (k: 'flows' | 'blocked' | 'alerted'): number => pairs.reduce((s, p) => s + p[k], 0);
  const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  rows.push(`${n(total('flows'), 'flow')} in ${n(pairs.length, 'pair')}: ${total('blocked')} would be blocked, ${total('alerted')} alerted`);
  return `${rows.join('\n')}\n`;
}
