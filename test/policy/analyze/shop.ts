// The shop example, loaded and analysed once per test file.
import { loadInventory } from '../../../src/inventory/load.js';
import { compile } from '../../../src/policy/compile.js';
import { loadPolicy } from '../../../src/policy/document/load.js';
import { analyzeReach, type Reachability } from '../../../src/policy/analyze/reach.js';
import type { Policy } from '../../../src/model/policy.js';
import type { Inventory } from '../../../src/model/workload.js';

export const SHOP_POLICY = 'examples/shop/policy';
export const SHOP_INVENTORY = 'examples/shop/inventory.yaml';
export const SHOP_APPLICATIONS = ['HTTP', 'TLS', 'DNS', 'PostgreSQL', 'Redis', 'AMQP'];

export async function loadShop(policyPath = SHOP_POLICY): Promise<{ policy: Policy; inventory: Inventory; reach: Reachability }> {
  // The example's applications, named here so the tests do not depend on which probes are registered.
  const { policy } = await loadPolicy([policyPath], { knownApplications: SHOP_APPLICATIONS });
  const { inventory } = await loadInventory(SHOP_INVENTORY);
  return { policy, inventory, reach: analyzeReach(policy, inventory, compile(policy, inventory)) };
}
