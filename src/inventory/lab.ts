// Workload identity for the lab: the scenario's inventory file says which workloads exist and
// where; the lab builds one pod per workload at the address it holds now, and writes back an
// inventory of what it built, in Palisade's own format, for attribution of the lab's traffic.

import { readFile, writeFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Workload } from '../model/workload.js';
import { formatDiagnostic } from '../policy/diagnostics.js';
import { leaseEnd, leaseStart } from '../policy/select.js';
import { loadInventory } from './load.js';

export interface LabWorkload {
  workload: Workload;
  /** The address the workload holds at the time the lab is built. */
  address: string;
}

/** The address a workload holds at a moment: the lease that covers it (IPv4, for the lab). */
export function addressAt(w: Workload, at: Date): string | undefined {
  const t = at.getTime();
  return w.addresses.find((lease) => leaseStart(lease) <= t && t < leaseEnd(lease) && lease.ip.includes('.'))?.ip;
}

/** Reads a scenario's inventory and gives each workload the address it holds now. */
export async function readScenarioWorkloads(file: string, at = new Date()): Promise<LabWorkload[]> {
  const { inventory, diagnostics } = await loadInventory(file);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`scenario inventory is invalid:\n${errors.map(formatDiagnostic).join('\n')}`);
  return inventory.workloads.map((workload) => {
    const address = addressAt(workload, at);
    if (address === undefined) throw new Error(`${file}: workload ${workload.id} holds no IPv4 address now`);
    return { workload, address };
  });
}

/**
 * The lab's inventory: the scenario file as written (namespaces, nodes, services, labels), with
 * each workload's addresses replaced by the one the lab gave it. The lease is left open (no since),
 * so that a capture recorded in one run of the lab is attributed by the inventory of another.
 * Pods the lab adds that are no workload (customers, the attacker, the external provider) stay out.
 */
export async function writeLabInventory(scenarioFile: string, built: readonly LabWorkload[], out: string): Promise<void> {
  const doc = parseDocument(await readFile(scenarioFile, 'utf8'));
  const byId = new Map(built.map((b) => [b.workload.id, b.address]));
  const workloads = doc.get('workloads');
  if (!isSeq(workloads)) throw new Error(`${scenarioFile}: no workloads list`);
  for (const item of workloads.items) {
    if (!isMap(item)) continue;
    const id = `${String(item.get('namespace'))}/${String(item.get('name'))}`;
    const address = byId.get(id);
    if (address === undefined) continue;
    item.set('addresses', doc.createNode([address], { flow: true }));
    // A comment about the scenario's leases no longer describes the one address the lab gave.
    const key = item.items.find((pair) => isScalar(pair.key) && pair.key.value === 'addresses')?.key;
    if (isScalar(key)) key.commentBefore = null;
  }
  doc.commentBefore = ` Written by \`palisade lab up\` from ${scenarioFile}: the workloads as the lab built them,\n one pod per workload at the address below.`;
  await writeFile(out, doc.toString({ lineWidth: 0 }));
}
