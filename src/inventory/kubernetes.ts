// The live inventory of a Kubernetes cluster: watches pods, namespaces, services and nodes and
// keeps an Inventory whose address leases end when a pod goes away or changes its IP, so flows
// replayed later are still attributed to whoever held the address at the time. Objects are read
// by the same code as kubectl's JSON (kubectl.ts), so a pod is named the same way either way.

import { KubeConfig, Watch } from '@kubernetes/client-node';
import { LineCounter, parseDocument } from 'yaml';
import type { AddressLease, Inventory, Namespace, Node, Service, Workload } from '../model/workload.js';
import { formatDiagnostic } from '../policy/diagnostics.js';
import { isPlain, type Plain, type Reader } from './read.js';
import { readKubectlList } from './kubectl.js';

export type WatchedKind = 'Pod' | 'Namespace' | 'Service' | 'Node';

/** One event of a Kubernetes watch stream, as the API server sends it. */
export interface WatchEvent {
  type: string;
  object: unknown;
}

export interface LiveOptions {
  /** Clock for lease starts and ends (ms since the epoch). */
  now?: () => number;
  /** How long a deleted pod's workload is kept, so late flows still find who held the address. */
  retainMs?: number;
  /** Ended leases kept per workload. */
  maxLeases?: number;
}

interface PodState {
  raw: Plain;
  workload: Workload;
  /** When the pod was deleted; the workload is dropped `retainMs` later. */
  gone?: number;
}

const keyOf = (meta: Plain): string => `${typeof meta['namespace'] === 'string' ? meta['namespace'] : 'default'}/${String(meta['name'])}`;

/** Reads objects as if they were one `kubectl get -o json` List; problems come back as text. */
function readObjects(items: unknown[]): { inventory: Inventory; problems: string[] } {
  const text = JSON.stringify({ kind: 'List', items });
  const lines = new LineCounter();
  const r: Reader = { src: { file: 'watch', doc: parseDocument(text, { lineCounter: lines }), lines }, diagnostics: [] };
  const { inventory } = readKubectlList(r, { kind: 'List', items });
  return { inventory, problems: r.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d)) };
}

export class LiveInventory {
  private readonly pods = new Map<string, PodState>();
  private readonly services = new Map<string, Plain>();
  private readonly namespaces = new Map<string, Plain>();
  private readonly nodes = new Map<string, Plain>();
  private readonly now: () => number;
  private readonly retainMs: number;
  private readonly maxLeases: number;

  constructor(opts: LiveOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.retainMs = opts.retainMs ?? 3_600_000;
    this.maxLeases = opts.maxLeases ?? 16;
  }

  /**
   * Applies one watch event. Returns the problems found in the object (it is then ignored), or
   * an empty list. This is the handler the cluster watch calls, and what tests feed recorded
   * streams through.
   */
  handle(kind: WatchedKind, event: WatchEvent): string[] {
    if (event.type === 'BOOKMARK') return [];
    if (event.type === 'ERROR') return [`watch of ${kind} reported an error: ${JSON.stringify(event.object).slice(0, 200)}`];
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') return [`unknown watch event type "${event.type}"`];
    const obj = event.object;
    if (!isPlain(obj) || !isPlain(obj['metadata']) || typeof obj['metadata']['name'] !== 'string') return [`${kind} event without metadata.name`];
    const item: Plain = { ...obj, kind };
    const key = kind === 'Namespace' || kind === 'Node' ? String(obj['metadata']['name']) : keyOf(obj['metadata']);
    const at = this.now();
    this.prune(at);
    if (kind === 'Pod') return this.pod(key, item, event.type === 'DELETED', at);
    const store = kind === 'Service' ? this.services : kind === 'Namespace' ? this.namespaces : this.nodes;
    if (event.type === 'DELETED') store.delete(key);
    else store.set(key, item);
    // A Service picks pods by label: its coming and going can rename the service of pods.
    if (kind === 'Service') this.rederive(at);
    return [];
  }

  private pod(key: string, raw: Plain, deleted: boolean, at: number): string[] {
    const prev = this.pods.get(key);
    if (deleted) {
      if (prev !== undefined) {
        endLeases(prev.workload.addresses, [], at);
        prev.gone = at;
      }
      return [];
    }
    const { inventory, problems } = readObjects([...this.services.values(), raw]);
    const next = inventory.workloads[0];
    if (next === undefined || problems.length > 0) return problems.length > 0 ? problems : [`pod ${key} could not be read`];
    this.pods.set(key, { raw, workload: this.merge(prev?.workload, next, at) });
    return [];
  }

  /**
   * The pod as read now, with the lease history carried over: a lease still held continues, one
   * whose IP is gone ends now, a new IP starts a lease now (or at the pod's start, the first time).
   */
  private merge(previous: Workload | undefined, next: Workload, at: number): Workload {
    const history: AddressLease[] = previous?.addresses.map((l) => ({ ...l })) ?? [];
    const nowIps = next.addresses.map((l) => l.ip);
    endLeases(history, nowIps, at);
    for (const lease of next.addresses) {
      if (history.some((l) => l.ip === lease.ip && l.until === undefined)) continue;
      // A pod's first address dates back to its start (the watch may report it late); a later
      // address starts when it is seen.
      const first = previous === undefined || previous.addresses.length === 0;
      const since = first && lease.since !== undefined ? lease.since : new Date(at).toISOString();
      history.push({ ip: lease.ip, since });
    }
    const ended = history.filter((l) => l.until !== undefined);
    const kept = [...ended.slice(Math.max(0, ended.length - this.maxLeases)), ...history.filter((l) => l.until === undefined)];
    return { ...next, addresses: kept };
  }

  private rederive(at: number): void {
    for (const [key, state] of this.pods) {
      if (state.gone !== undefined) continue;
      const { inventory } = readObjects([...this.services.values(), state.raw]);
      const next = inventory.workloads[0];
      if (next !== undefined && next.service !== state.workload.service) this.pods.set(key, { ...state, workload: { ...state.workload, service: next.service } });
    }
    this.prune(at);
  }

  private prune(at: number): void {
    for (const [key, state] of this.pods) if (state.gone !== undefined && at - state.gone > this.retainMs) this.pods.delete(key);
  }

  /** A snapshot: workloads (deleted ones with ended leases, for a while), namespaces, nodes, services. */
  inventory(): Inventory {
    const { inventory } = readObjects([...this.namespaces.values(), ...this.services.values(), ...this.nodes.values()]);
    const workloads = [...this.pods.values()].map((s) => s.workload);
    const namespaces: Namespace[] = inventory.namespaces;
    const nodes: Node[] = inventory.nodes;
    const services: Service[] = inventory.services;
    return { workloads, namespaces, nodes, services };
  }
}

function endLeases(leases: AddressLease[], stillHeld: readonly string[], at: number): void {
  const until = new Date(at).toISOString();
  for (const l of leases) if (l.until === undefined && !stillHeld.includes(l.ip)) l.until = until;
}

export interface WatchOptions {
  /** A kubeconfig file; without it the default (KUBECONFIG, ~/.kube/config, or in-cluster). */
  kubeconfig?: string;
  onProblem?: (message: string) => void;
  /** Delay before a watch that ended is started again. */
  retryMs?: number;
}

const PATHS: Record<WatchedKind, string> = { Pod: '/api/v1/pods', Namespace: '/api/v1/namespaces', Service: '/api/v1/services', Node: '/api/v1/nodes' };

/**
 * Watches the cluster into `live` until the returned stop function is called. A watch that ends
 * (the API server closes them every few minutes) starts again; it replays the current objects
 * as ADDED events, which the handler treats as updates.
 */
export async function watchCluster(live: LiveInventory, opts: WatchOptions = {}): Promise<() => void> {
  const config = new KubeConfig();
  if (opts.kubeconfig !== undefined) config.loadFromFile(opts.kubeconfig);
  else config.loadFromDefault();
  const watch = new Watch(config);
  const controllers = new Map<WatchedKind, AbortController>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const start = async (kind: WatchedKind): Promise<void> => {
    const restart = (err: unknown): void => {
      if (stopped) return;
      if (err !== null && err !== undefined) opts.onProblem?.(`watch of ${kind} ended: ${err instanceof Error ? err.message : String(err)}`);
      const t = setTimeout(() => {
        timers.delete(t);
        void start(kind);
      }, opts.retryMs ?? 2000);
      timers.add(t);
    };
    try {
      const ctl = await watch.watch(PATHS[kind], { allowWatchBookmarks: true }, (type: string, object: unknown) => {
        for (const p of live.handle(kind, { type, object })) opts.onProblem?.(p);
      }, restart);
      controllers.set(kind, ctl);
    } catch (err) {
      restart(err);
    }
  };
  await Promise.all((Object.keys(PATHS) as WatchedKind[]).map((k) => start(k)));
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    for (const c of controllers.values()) c.abort();
  };
}
