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
  /** Made once, so that answering allocates nothing. */
  attribution: Attribution;
}

/** Everything known of one address: the leases of it, and the node that has it. */
interface Address {
  holders: Holder[];
  node: Attribution | undefined;
}

export type Attribution = { kind: 'workload'; workload: Workload } | { kind: 'node'; node: Node } | { kind: 'external' };

const EXTERNAL: Attribution = { kind: 'external' };

export class AddressIndex {
  /** Keyed by canonical address. */
  private readonly addresses = new Map<string, Address>();

  constructor(inventory: Inventory) {
    for (const workload of inventory.workloads) {
      for (const lease of workload.addresses) {
        const ip = canonicalIp(lease.ip);
        if (ip === undefined) continue;
        const attribution: Attribution = { kind: 'workload', workload };
        this.address(ip).holders.push({ workload, start: leaseStart(lease), end: leaseEnd(lease), attribution });
      }
    }
    for (const node of inventory.nodes) {
      for (const a of node.addresses) {
        const ip = canonicalIp(a);
        if (ip === undefined) continue;
        const address = this.address(ip);
        address.node ??= { kind: 'node', node };
      }
    }
  }

  private address(ip: string): Address {
    let address = this.addresses.get(ip);
    if (address === undefined) {
      address = { holders: [], node: undefined };
      this.addresses.set(ip, address);
    }
    return address;
  }

  /** Who held `ip` at `at` (ms since the epoch): the lease that started latest, first listed on a tie. */
  at(ip: string, at: number): Attribution {
    // Addresses in flows are nearly always written canonically already: canonicalise only on a miss.
    let address = this.addresses.get(ip);
    if (address === undefined) {
      const canon = canonicalIp(ip);
      address = canon === undefined || canon === ip ? undefined : this.addresses.get(canon);
      if (address === undefined) return EXTERNAL;
    }
    let best: Holder | undefined;
    for (const h of address.holders) {
      if (h.start <= at && at < h.end && (best === undefined || h.start > best.start)) best = h;
    }
    if (best !== undefined) return best.attribution;
    return address.node ?? EXTERNAL;
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
