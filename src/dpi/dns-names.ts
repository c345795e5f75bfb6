// Address → DNS names, learned from the answers seen on the wire. fqdn groups resolve through it
// (policy/select.ts Resolver), and learning names external endpoints with it. Bounded: an
// adversary can send any number of answers.

import type { DnsAnswer } from '../model/flow.js';

const MAX_NAMES_PER_ADDRESS = 16;

export class DnsNames {
  /** Insertion order doubles as age: the oldest address is evicted first. */
  private readonly names = new Map<string, string[]>();

  constructor(private readonly maxAddresses = 100_000) {}

  /**
   * Records A/AAAA answers, following CNAME chains back to the queried names. TTLs are not
   * applied: a flow to an address can start long after the answer that named it.
   */
  learn(answers: readonly DnsAnswer[]): void {
    const aliasOf = new Map<string, string>();
    for (const a of answers) if (a.type === 'CNAME') aliasOf.set(a.value.toLowerCase(), a.name.toLowerCase());
    for (const a of answers) {
      if (a.type !== 'A' && a.type !== 'AAAA') continue;
      const chain = [a.name.toLowerCase()];
      for (let n = aliasOf.get(chain[0] as string); n !== undefined && chain.length < 8 && !chain.includes(n); n = aliasOf.get(n)) {
        chain.push(n);
      }
      this.add(a.value, chain);
    }
  }

  private add(ip: string, names: string[]): void {
    const prev = this.names.get(ip);
    if (prev) this.names.delete(ip);
    this.names.set(ip, prev ? [...new Set([...names, ...prev])].slice(0, MAX_NAMES_PER_ADDRESS) : names);
    if (this.names.size > this.maxAddresses) {
      const oldest = this.names.keys().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
  }

  /** Names the address was given by DNS. */
  namesOf(ip: string): readonly string[] {
    return this.names.get(ip) ?? [];
  }

  get size(): number {
    return this.names.size;
  }
}
