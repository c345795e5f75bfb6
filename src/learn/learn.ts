// Learning end to end: flows in, a reviewable policy text out. Without an existing policy every
// flow feeds the graph; with one (merge), only flows that no rule of it decides are learned from,
// user rules are left as written, and learned rules that decided nothing are reported stale.

import type { Connection } from '../model/connection.js';
import type { Flow } from '../model/flow.js';
import type { Policy, Rule } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import { compile, type CompiledPolicy, type Resolver } from '../policy/compile.js';
import { writePolicyText, type NotedGroup, type NotedRule } from '../policy/document/write.js';
import { GraphBuilder, type ServiceGraph } from './graph.js';
import { formatDuration, propose, safeName, type Proposal } from './propose.js';

/** What decide is asked about a recorded flow: the application only when DPI identified it. */
export function connectionOf(flow: Flow): Connection {
  const conn: Connection = {
    ipProto: flow.ipProto,
    client: { ip: flow.client.ip, port: flow.client.port },
    server: { ip: flow.server.ip, port: flow.server.port },
    at: Date.parse(flow.firstSeen),
  };
  if (flow.appConfidence === 'dpi' && flow.app !== 'unknown') conn.app = flow.app.toLowerCase();
  return conn;
}

export interface LearnOptions {
  stableAfterMs: number;
  /** Policy to merge into: its rules are kept, only what it does not decide is learned. */
  existing?: Policy;
  /** Names external addresses; fqdn groups of the existing policy resolve through it. */
  dns: Resolver;
  name?: string;
}

export interface LearnResult {
  graph: ServiceGraph;
  proposal: Proposal;
  /** Learned rules of the existing policy that decided no flow of the input. */
  stale: Rule[];
  /** Flows an existing rule already decided. */
  covered: number;
  text: string;
}

export class Learner {
  private readonly builder: GraphBuilder;
  private readonly compiled: CompiledPolicy | undefined;
  private readonly used = new Map<string, number>();
  private covered = 0;

  constructor(private readonly inventory: Inventory, private readonly opts: LearnOptions) {
    this.builder = new GraphBuilder(inventory);
    if (opts.existing !== undefined) this.compiled = compile(opts.existing, inventory);
  }

  add(flow: Flow): void {
    if (this.compiled !== undefined) {
      const v = this.compiled.decide(connectionOf(flow), this.opts.dns);
      if (v.ruleId !== 'default') {
        this.used.set(v.ruleId, (this.used.get(v.ruleId) ?? 0) + 1);
        this.covered++;
        return;
      }
    }
    this.builder.add(flow);
  }

  result(): LearnResult {
    const graph = this.builder.graph(this.opts.dns);
    const existing = this.opts.existing;
    const proposal = propose(graph, this.inventory, {
      stableAfterMs: this.opts.stableAfterMs,
      existingGroups: new Set(existing?.groups.map((g) => g.name) ?? []),
      existingRules: new Set(existing?.rules.map((r) => r.id) ?? []),
    });
    const stale = (existing?.rules ?? []).filter((r) => r.source === 'learned' && r.disabled !== true && !this.used.has(r.id));
    return { graph, proposal, stale, covered: this.covered, text: this.render(graph, proposal, stale) };
  }

  private render(graph: ServiceGraph, proposal: Proposal, stale: readonly Rule[]): string {
    const window = graph.flows > 0 ? `${new Date(graph.start).toISOString()} to ${new Date(graph.end).toISOString()}` : 'no flows';
    const stable = proposal.groups.filter((g) => g.stability?.stable === true).map((g) => g.group.name);
    const header = [
      'Proposed by palisade learn from observed traffic: review before enforcing.',
      `observed: ${graph.flows} flow(s), ${window}; ${graph.unattributed} without a known workload on either side`,
      `stable after ${formatDuration(this.opts.stableAfterMs)} without a new connection: ${stable.length > 0 ? stable.join(', ') : 'none yet'}`,
    ];
    if (this.opts.existing !== undefined) {
      header.push(`merge: ${this.covered} flow(s) already decided by the existing policy; only what it lacks is below`);
      for (const r of stale) header.push(`stale: learned rule "${r.id}" decided no observed flow`);
    }
    const groups: NotedGroup[] = proposal.groups.map((g) => ({ group: g.group, notes: g.notes }));
    const rules: NotedRule[] = proposal.rules.map((r) => ({ rule: r.rule, notes: r.notes }));
    const text = { name: safeName(this.opts.name ?? 'learned'), header, groups, rules };
    // Beside an existing policy the default mode is already set there; setting it twice may clash.
    return writePolicyText(this.opts.existing === undefined ? { ...text, mode: 'discover' } : text);
  }
}
