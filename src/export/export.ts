// One entry to every export target: policy + inventory → manifests (validated) and the losses of
// the target. The CLI and the server call this; each target's writer lives in its own file.

import type { Policy } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { writeCalico } from './calico.js';
import { writeCilium } from './cilium.js';
import { writeIstio } from './istio.js';
import { writeNeuVector } from './neuvector.js';
import { writeNetworkPolicies, type ExportResult } from './networkpolicy.js';
import { distinctLosses, type Target } from './report.js';
import { validateManifests } from './validate.js';

export type { ExportResult } from './networkpolicy.js';

type Writer = (policy: Policy, inventory: Inventory, compiled: CompiledPolicy) => ExportResult;

const WRITERS: Record<Target, Writer> = {
  networkpolicy: writeNetworkPolicies,
  neuvector: writeNeuVector,
  cilium: writeCilium,
  calico: writeCalico,
  istio: writeIstio,
};

/** Thrown when a writer produced a manifest its API would refuse: a bug in the writer, not in the input. */
export class InvalidManifestError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`export produced ${problems.length} invalid manifest${problems.length === 1 ? '' : 's'} (a bug in the writer):\n${problems.join('\n')}`);
    this.name = 'InvalidManifestError';
  }
}

export function exportPolicy(target: Target, policy: Policy, inventory: Inventory, compiled: CompiledPolicy): ExportResult {
  const result = WRITERS[target](policy, inventory, compiled);
  const problems = validateManifests(result.manifests);
  if (problems.length > 0) throw new InvalidManifestError(problems);
  return { manifests: result.manifests, losses: distinctLosses(result.losses) };
}
