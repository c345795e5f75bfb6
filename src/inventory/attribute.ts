// Address → workload at a time, indexed: attribution of flows (inspect, learn, replay) asks this
// for every flow, so it is a map lookup plus a short scan of the leases one address ever had.
// Same answer as policy/select.ts classifyEndpoint, which states the rule plainly.

import { canonicalIp } from '../model/address.js';
import type { Flow } from '../model/flow.js';
import type { Inventory, Node, Workload } from '../model/workload.js';
import { leaseEnd, leaseStart } from '../policy/select.js';

interface Holder {
  workload: Workload;
  start: number;
  end: number;
}

export type Attribution = { kind: 'workload'; workload: Workload } | { kind: 'node'; node: Node } | { kind: 'external' };

const EXTERNAL: Attribution = { kind: 'external' };

export class AddressIndex {
  private readonly holders = new Map<string, Holder[]>();
  private readonly nodes = new Map<string, Attribution>();

  constructor(inventory: Inventory) {
    for (const workload of inventory.workloads) {
      for (const lease of workload.addresses) {
        const ip = canonicalIp(lease.ip);
        if (ip === undefined) continue;
        const list = this.holders.get(ip) ?? [];
        list.push({ workload, start: leaseStart(lease), end: leaseEnd(lease) });
        this.holders.set(ip, list);
      }
    }
    for (const node of inventory.nodes) {
      for (const a of node.addresses) {
        const ip = canonicalIp(a);
        if (ip !== undefined && !this.nodes.has(ip)) this.nodes.set(ip, { kind: 'node', node });
      }
    }
  }

  /** Who held `ip` at `at` (ms since the epoch): the lease that started latest, first listed on a tie. */
  at(ip: string, at: number): Attribution {
    const canon = this.holders.has(ip) || this.nodes.has(ip) ? ip : canonicalIp(ip);
    if (canon === undefined) return EXTERNAL;
    let best: Holder | undefined;
    for (const h of this.holders.get(canon) ?? []) {
      if (h.start <= at && at < h.end && (best === undefined || h.start > best.start)) best = h;
    }
    if (best) return { kind: 'workload', workload: best.workload };
    return this.nodes.get(canon) ?? EXTERNAL;
  }

  /** Sets client.workload and server.workload on a flow from the time of its first packet. */
  attribute(flow: Flow): Flow {
    const t = Date.parse(flow.firstSeen);
    const c = this.at(flow.client.ip, t);
    const s = this.at(flow.server.ip, t);
    if (c.kind === 'workload') flow.client.workload = c.workload.id;
    if (s.kind === 'workload') flow.server.workload = s.workload.id;
    return flow;
  }
}
