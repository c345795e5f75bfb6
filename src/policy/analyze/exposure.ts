// Blast radius: the reach graph read as lateral movement. From each workload, what it can reach
// directly and through any chain of allowed connections (SCCs of the class graph, closed over
// with bitsets), who can reach it, including from external, all weighted by sensitivity labels.
// Riskiest first: what an attacker gains from one foothold, and how easily they get one.

import type { Inventory, Labels } from '../../model/workload.js';
import type { Reachability } from './reach.js';

export interface SensitivityWeight {
  key: string;
  /** Undefined: any value of the key. */
  value?: string;
  weight: number;
}

export const DEFAULT_WEIGHTS: readonly SensitivityWeight[] = [
  { key: 'pci', value: 'cde', weight: 10 },
  { key: 'data', value: 'sensitive', weight: 5 },
];

/** `pci=cde:10` or `tier:3` (any value of the key). */
export function parseWeight(text: string): SensitivityWeight | string {
  const m = /^([^=:\s]+)(?:=([^:\s]+))?:([0-9]+)$/.exec(text.trim());
  if (m === null) return 'expected label=value:weight or label:weight, e.g. pci=cde:10';
  const w: SensitivityWeight = { key: m[1] as string, weight: Number(m[3]) };
  if (m[2] !== undefined) w.value = m[2];
  return w;
}

export interface ExposureOptions {
  weights: readonly SensitivityWeight[];
  /** Being reachable from external counts as this many workloads reaching it. */
  externalWeight: number;
}

export interface WorkloadExposure {
  workload: string;
  service: string;
  mode: string;
  /** 1 plus the weights of its labels and its namespace's labels. */
  sensitivity: number;
  reaches: { direct: number; transitive: number; external: boolean };
  reachedBy: { direct: number; transitive: number; external: 'direct' | 'transitive' | 'no' };
  /** Sum of the sensitivity of every workload it can reach, directly or not. */
  blastRadius: number;
  /** blastRadius + sensitivity × (workloads reaching it transitively + externalWeight when external does). */
  risk: number;
  /** The most sensitive workloads in its blast radius (at most five). */
  sensitiveReached: string[];
}

export const EXPOSURE_FORMATS = ['text', 'json'] as const;
export type ExposureFormat = (typeof EXPOSURE_FORMATS)[number];

function sensitivityOf(labels: Labels, nsLabels: Labels, weights: readonly SensitivityWeight[]): number {
  let s = 1;
  for (const w of weights) {
    const holds = (l: Labels): boolean => Object.hasOwn(l, w.key) && (w.value === undefined || l[w.key] === w.value);
    if (holds(labels) || holds(nsLabels)) s += w.weight;
  }
  return s;
}

/** Strongly connected components, sinks first (Tarjan, without recursion). */
function components(n: number, out: readonly number[][]): { comp: Int32Array; order: number[][] } {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const order: number[][] = [];
  let next = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1] as [number, number];
      const [v, i] = frame;
      if (i === 0 && index[v] === -1) {
        index[v] = low[v] = next++;
        stack.push(v);
        onStack[v] = 1;
      }
      const succ = out[v] as number[];
      if (i < succ.length) {
        frame[1] = i + 1;
        const w = succ[i] as number;
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v] as number, index[w] as number);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          comp[w] = order.length;
          members.push(w);
        } while (w !== v);
        order.push(members);
      }
    }
  }
  return { comp, order };
}

const has = (bits: Uint32Array, i: number): boolean => ((bits[i >>> 5] as number) & (1 << (i & 31))) !== 0;
const set = (bits: Uint32Array, i: number): void => {
  bits[i >>> 5] = (bits[i >>> 5] as number) | (1 << (i & 31));
};
const orInto = (into: Uint32Array, from: Uint32Array): void => {
  for (let k = 0; k < into.length; k++) into[k] = (into[k] as number) | (from[k] as number);
};

export function analyzeExposure(reach: Reachability, opts: ExposureOptions, inventory?: Inventory): WorkloadExposure[] {
  const n = reach.classes.length;
  const words = (n + 31) >>> 5;
  const isWorkload = reach.classes.map((c) => c.kind === 'workload');
  const nsLabels = new Map((inventory?.namespaces ?? []).map((ns) => [ns.name, ns.labels]));
  const sens = reach.endpoints.map((e) => (e.workload === undefined ? 0 : sensitivityOf(e.workload.labels, nsLabels.get(e.workload.namespace) ?? {}, opts.weights)));
  const size = new Float64Array(n);
  const classSens = new Float64Array(n);
  reach.classes.forEach((c, i) => {
    if (!isWorkload[i]) return;
    size[i] = c.members.length;
    for (const m of c.members) classSens[i] = (classSens[i] as number) + (sens[m] as number);
  });

  // Lateral movement runs through workloads; externals and nodes only start it.
  const out: number[][] = reach.classes.map(() => []);
  const externalTargets = new Uint32Array(words);
  const reachesExternal = new Uint8Array(n);
  for (const e of reach.edges()) {
    if (isWorkload[e.client] && isWorkload[e.server]) out[e.client]?.push(e.server);
    else if (reach.classes[e.client]?.kind === 'external' && isWorkload[e.server]) set(externalTargets, e.server);
    else if (isWorkload[e.client] && reach.classes[e.server]?.kind === 'external') reachesExternal[e.client] = 1;
  }

  const { comp, order } = components(n, out);
  const closure = order.map(() => new Uint32Array(words));
  // Sinks come first, so every successor component is closed before its predecessors.
  order.forEach((members, ci) => {
    const bits = closure[ci] as Uint32Array;
    for (const v of members) {
      for (const w of out[v] as number[]) {
        set(bits, w);
        const cw = comp[w] as number;
        if (cw !== ci) orInto(bits, closure[cw] as Uint32Array);
      }
    }
  });
  const closureOf = (c: number): Uint32Array => closure[comp[c] as number] as Uint32Array;

  const externalReach = externalTargets.slice();
  for (let c = 0; c < n; c++) if (has(externalTargets, c)) orInto(externalReach, closureOf(c));
  const reachers = new Float64Array(n);
  const directReachers = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    if (!isWorkload[c]) continue;
    const bits = closureOf(c);
    for (let t = 0; t < n; t++) if (has(bits, t)) reachers[t] = (reachers[t] as number) + (size[c] as number);
    for (const t of new Set(out[c])) directReachers[t] = (directReachers[t] as number) + (size[c] as number);
  }

  const sensitive = reach.endpoints
    .map((e, i) => ({ e, s: sens[i] as number }))
    .filter((x) => x.e.kind === 'workload' && x.s > 1)
    .sort((a, b) => b.s - a.s || (a.e.id < b.e.id ? -1 : 1));

  const report: WorkloadExposure[] = [];
  reach.endpoints.forEach((e, i) => {
    if (e.kind !== 'workload') return;
    const c = e.cls;
    const bits = closureOf(c);
    const self = has(bits, c);
    const selfDirect = (out[c] as number[]).includes(c);
    let direct = 0;
    for (const t of new Set(out[c])) direct += size[t] as number;
    let transitive = 0;
    let blast = 0;
    for (let t = 0; t < n; t++) {
      if (!has(bits, t)) continue;
      transitive += size[t] as number;
      blast += classSens[t] as number;
    }
    const own = sens[i] as number;
    if (self) {
      transitive -= 1;
      blast -= own;
    }
    if (selfDirect) direct -= 1;
    const external = has(externalTargets, c) ? 'direct' : has(externalReach, c) ? 'transitive' : 'no';
    const reachedTransitive = (reachers[c] as number) - (self ? 1 : 0);
    const exposure = reachedTransitive + (external === 'no' ? 0 : opts.externalWeight);
    report.push({
      workload: e.id,
      service: e.service,
      mode: e.mode ?? 'discover',
      sensitivity: own,
      reaches: { direct, transitive, external: reachesExternal[c] === 1 },
      reachedBy: { direct: (directReachers[c] as number) - (selfDirect ? 1 : 0), transitive: reachedTransitive, external },
      blastRadius: blast,
      risk: blast + own * exposure,
      sensitiveReached: sensitive.filter((x) => x.e.id !== e.id && has(bits, x.e.cls)).slice(0, 5).map((x) => x.e.id),
    });
  });
  return report.sort((a, b) => b.risk - a.risk || (a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : 0));
}

export function formatExposure(report: readonly WorkloadExposure[], format: ExposureFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const rows = report.map((r) => {
    const from = r.reachedBy.external === 'no' ? 'not reachable from external' : `reachable from external (${r.reachedBy.external})`;
    const head = `${r.workload} [${r.mode}] risk ${r.risk}, sensitivity ${r.sensitivity}`;
    const reaches = `  reaches ${r.reaches.direct} workloads directly, ${r.reaches.transitive} transitively (blast radius ${r.blastRadius})${r.reaches.external ? ', and external' : ''}`;
    const by = `  reached by ${r.reachedBy.direct} workloads directly, ${r.reachedBy.transitive} transitively; ${from}`;
    const sens = r.sensitiveReached.length === 0 ? [] : [`  sensitive in reach: ${r.sensitiveReached.join(', ')}`];
    return [head, reaches, by, ...sens].join('\n');
  });
  return `${rows.join('\n')}\n`;
}
