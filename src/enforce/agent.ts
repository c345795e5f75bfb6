// The node agent: policy and inventory files → compile → the node's nftables table, kept in force
// and replaced atomically whenever the files change (or on SIGHUP), with the kernel's reports of
// blocked and violating attempts turned into violation records. The CLI (cli/agent.ts) drives it.

import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { AddressIndex } from '../inventory/attribute.js';
import { loadInventory } from '../inventory/load.js';
import { compile } from '../policy/compile.js';
import { formatDiagnostic, hasErrors } from '../policy/diagnostics.js';
import { loadPolicy } from '../policy/document/load.js';
import { applyScript, enableBridgeFiltering, removeTable, tableExists, type NftTarget } from './nft/apply.js';
import { compileRuleset, DEFAULT_LOG_GROUP, DEFAULT_LOG_PER_SECOND, DEFAULT_UDP_LISTEN, type Ruleset } from './nft/ruleset.js';
import { startWatchdog, type Watchdog } from './nft/watchdog.js';
import { violationOfDecision, watchViolations, type Violation, type ViolationSource } from './violations.js';
import { startProxyHost, type ProxyHost, type ProxyInput } from './proxy/host.js';
import { proxyPolicy, type ProxyPolicy } from './proxy/proxy.js';
import { startTap, type Tap, type TapStats } from './tap.js';
import type { ProxyStats } from './proxy/proxy.js';
import { connectionOf } from './proxy/decision.js';
import { pruneTracked, type TrackedConnection } from './conntrack.js';
import type { UdpStats } from './proxy/udp.js';
import type { Flow } from '../model/flow.js';

export type FailMode = 'open' | 'closed';

export interface AgentOptions {
  policyPaths: string[];
  inventoryPath: string;
  /** Enforce the perimeters of this node's workloads only; absent: every workload's. */
  node?: string;
  netns?: string;
  /** What the table does when the agent is gone: removed (open) or kept in force (closed). */
  fail: FailMode;
  /** Operator messages (stderr). */
  say: (line: string) => void;
  onViolation: (v: Violation) => void;
  /**
   * The inline L7 proxy's port: new TCP connections that need layer 7 where a side is in protect
   * are redirected to it. Absent: no proxy, and such rules do not match there (ruleset.ts).
   */
  l7Proxy?: { port: number };
  /**
   * The passive tap: the interface (in the agent's namespace) to capture on. Sessions without a
   * protect side are identified and decided there, and their violations reported with the
   * application; the kernel then logs drops only. `onFlow` receives every flow as it ends.
   */
  tap?: { interface: string; onFlow?: (f: Flow) => void };
}

/** The policy or inventory has errors: nothing was applied. */
export class InvalidInput extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} problem(s) in the policy or inventory; nothing applied`);
    this.name = 'InvalidInput';
  }
}

export interface Built {
  ruleset: Ruleset;
  index: AddressIndex;
  /** The decision engine's view of the same policy (the tap decides with it). */
  decisions: ProxyPolicy;
  /** What the L7 proxy decides with: the same policy and inventory. */
  input: ProxyInput;
}

/**
 * Reads and compiles the files into the node's ruleset. A policy or inventory with errors is
 * never compiled: InvalidInput lists every problem.
 */
export async function buildRuleset(opts: Pick<AgentOptions, 'policyPaths' | 'inventoryPath' | 'node' | 'l7Proxy' | 'tap'>, now = Date.now(), inForce?: Built): Promise<Built> {
  const [{ policy, diagnostics }, inv] = await Promise.all([loadPolicy(opts.policyPaths), loadInventory(opts.inventoryPath)]);
  const all = [...diagnostics, ...inv.diagnostics];
  if (hasErrors(all)) throw new InvalidInput(all.filter((d) => d.severity === 'error').map(formatDiagnostic));
  const compiled = compile(policy, inv.inventory, { now: () => now });
  const ruleset = compileRuleset(policy, inv.inventory, compiled, {
    ...(opts.node !== undefined ? { node: opts.node } : {}),
    now,
    logGroup: DEFAULT_LOG_GROUP,
    logPerSecond: DEFAULT_LOG_PER_SECOND,
    ...(opts.l7Proxy !== undefined ? { proxy: { port: opts.l7Proxy.port, udp: { ...DEFAULT_UDP_LISTEN, keep: inForce?.input.udp ?? [] } } } : {}),
    ...(opts.tap !== undefined ? { alertLogs: false } : {}),
  });
  const input: ProxyInput = { policy, inventory: inv.inventory, udp: ruleset.udpDestinations };
  const index = new AddressIndex(inv.inventory);
  return { ruleset, index, input, decisions: proxyPolicy(compiled, index) };
}

/** Notes shown one per line; a generated policy can have thousands, so the rest are counted. */
const MAX_NOTES = 10;

function sayNotes(r: Ruleset, say: (line: string) => void): void {
  for (const note of r.notes.slice(0, MAX_NOTES)) say(`note: ${note}`);
  if (r.notes.length > MAX_NOTES) say(`note: ${r.notes.length - MAX_NOTES} more notes like these`);
}

function summary(r: Ruleset, ms: number): string {
  const s = r.stats;
  return `${s.rules} rules in force (${s.nftRules} nft rules, ${s.sets} sets, ${s.elements} set elements) for ${s.localWorkloads} workloads, applied in ${ms} ms`;
}

/**
 * Whether the table in force would drop the connection if it were new: a side on this node in
 * protect refuses it whatever its application (one a rule naming applications could still let
 * through is not refused here: its application was never seen).
 */
function tableRefuses(built: Built, c: TrackedConnection, now: number): boolean {
  const v = built.decisions.decide(connectionOf(c.proto, c.client, c.server, now, undefined, true));
  return !v.allowed && v.pending !== true && v.perimeters.some((p) => !p.allowed && p.mode === 'protect' && built.ruleset.local.has(p.workload));
}

/**
 * Once a table is in force: the tracked connections it refuses are removed from conntrack, so
 * they end (their next packet is dropped as a new connection and reported) instead of riding
 * the established fast path until they close.
 */
async function cutRefused(target: NftTarget, built: Built, say: (line: string) => void): Promise<void> {
  const now = Date.now();
  try {
    const r = await pruneTracked(target, (c) => !tableRefuses(built, c, now));
    if (r.removed > 0) say(`${r.removed} tracked connection${r.removed === 1 ? '' : 's'} the policy no longer allows ${r.removed === 1 ? 'was' : 'were'} cut`);
    if (r.over > 0) say(`warning: ${r.over} more tracked connections the policy no longer allows stay until the next reload`);
  } catch (err) {
    say(`warning: ${(err as Error).message}: connections the policy no longer allows stay open until they end`);
  }
}

/** Compiles and applies once; the table stays in force. */
export async function applyOnce(opts: Omit<AgentOptions, 'fail' | 'onViolation'>): Promise<Ruleset> {
  const target: NftTarget = opts.netns !== undefined ? { netns: opts.netns } : {};
  const started = Date.now();
  // No process stays to proxy: connections that need layer 7 are not redirected.
  const built = await buildRuleset({ ...opts, l7Proxy: undefined });
  const { ruleset } = built;
  sayNotes(ruleset, opts.say);
  await bridgeFiltering(target, opts.say);
  await applyScript(ruleset.text, target);
  await cutRefused(target, built, opts.say);
  opts.say(summary(ruleset, Date.now() - started));
  return ruleset;
}

async function bridgeFiltering(target: NftTarget, say: (line: string) => void): Promise<void> {
  try {
    await enableBridgeFiltering(target);
  } catch (err) {
    say(`warning: ${(err as Error).message}; bridged pod-to-pod traffic is not filtered`);
  }
}

/** How long file changes settle before a reload: editors write a file in several steps. */
const DEBOUNCE_MS = 200;

/** What the agent's parts have counted, for an operator (SIGUSR1). */
export interface AgentStatus {
  rules: Ruleset['stats'];
  proxy?: ProxyStats & { udp?: UdpStats };
  tap?: TapStats;
}

export interface Agent {
  /**
   * Reloads now; resolves when the attempt is over. A file change leaves the table alone when the
   * files compile to the ruleset already in force (editors and tools rewrite files unchanged);
   * `force` (SIGHUP) replaces it anyway.
   */
  reload(opts?: { force?: boolean }): Promise<void>;
  status(): Promise<AgentStatus>;
  /** Stops watching; removes the table (fail open) or leaves it in force (fail closed). */
  stop(): Promise<void>;
}

/**
 * Applies the ruleset and keeps it current. Rejects, with nothing applied, when the first load
 * fails (InvalidInput, or NftError when the kernel refuses it); later failures keep the ruleset
 * in force and are reported through `say`.
 */
export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const target: NftTarget = opts.netns !== undefined ? { netns: opts.netns } : {};
  let current = await buildRuleset(opts);
  sayNotes(current.ruleset, opts.say);
  await bridgeFiltering(target, opts.say);
  // The violation reader listens before the table exists, so no report of it is missed.
  const violations: ViolationSource = await watchViolations({
    ...target,
    tags: () => current.ruleset.tags,
    index: () => current.index,
    onViolation: opts.onViolation,
  });
  const started = Date.now();
  // The proxy listens before the table redirects anything to it.
  let proxy: ProxyHost | undefined;
  let tap: Tap | undefined;
  try {
    if (opts.tap !== undefined) {
      tap = await startTap({
        interface: opts.tap.interface,
        ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
        policy: () => current.decisions,
        onViolation: opts.onViolation,
        ...(opts.tap.onFlow !== undefined ? { onFlow: opts.tap.onFlow } : {}),
      });
      opts.say(`passive tap on ${opts.tap.interface}: sessions without a protect side are identified and decided there`);
    }
    if (opts.l7Proxy !== undefined) {
      proxy = await startProxyHost({
        port: opts.l7Proxy.port,
        ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
        input: current.input,
        onDecision: (d) => {
          const v = violationOfDecision(d);
          if (v !== undefined) opts.onViolation(v);
        },
        say: opts.say,
      });
      opts.say(`L7 proxy listening on port ${proxy.port}${current.ruleset.stats.redirectingRules > 0 ? `; ${current.ruleset.stats.redirectingRules} rules naming applications redirect to it` : ''}`);
    }
    await applyScript(current.ruleset.text, target);
  } catch (err) {
    await proxy?.stop();
    await tap?.stop();
    await violations.stop();
    throw err;
  }
  // Connections from before (an agent restarted under a changed policy) meet this table too.
  await cutRefused(target, current, opts.say);
  opts.say(summary(current.ruleset, Date.now() - started));
  const watchdog: Watchdog | undefined = opts.fail === 'open' ? startWatchdog(target) : undefined;

  // One reload at a time; changes during a reload cause one more afterwards.
  let running: Promise<void> | undefined;
  let again: { force: boolean } | undefined;
  const reloadOnce = async (force: boolean): Promise<void> => {
    const t0 = Date.now();
    try {
      const next = await buildRuleset(opts, Date.now(), current);
      if (!force && next.ruleset.text === current.ruleset.text && (await tableExists(target))) {
        // Same table: replacing it would only reset its counters (and cost a full load at scale).
        // The proxy still takes the new policy, which may differ where this node's table does not.
        current = next;
        await proxy?.update(next.input, { revisit: true });
        opts.say(`reloaded: the files compile to the ruleset in force (${next.ruleset.stats.rules} rules); the table stays as it is`);
        return;
      }
      // The proxy listens for the new UDP destinations (and still the old ones, whose ports no new
      // destination takes) before the new table sends datagrams there; after the switch only the
      // new ones stay.
      const both = [...current.input.udp, ...next.input.udp.filter((d) => !current.input.udp.some((c) => c.listen === d.listen))];
      try {
        await proxy?.update({ ...next.input, udp: both });
        await applyScript(next.ruleset.text, target);
      } catch (err) {
        await proxy?.update(current.input).catch(() => undefined);
        throw err;
      }
      current = next;
      await proxy?.update(next.input, { revisit: true });
      await cutRefused(target, next, opts.say);
      sayNotes(next.ruleset, opts.say);
      opts.say(`reloaded: ${summary(next.ruleset, Date.now() - t0)}`);
    } catch (err) {
      const problems = err instanceof InvalidInput ? err.problems : [(err as Error).message];
      for (const p of problems) opts.say(p);
      opts.say('reload failed: the previous ruleset stays in force');
    }
  };
  const reload = (how: { force?: boolean } = {}): Promise<void> => {
    const force = how.force === true;
    if (running !== undefined) {
      again = { force: force || again?.force === true };
      return running;
    }
    running = (async () => {
      let next: { force: boolean } | undefined = { force };
      while (next !== undefined) {
        again = undefined;
        await reloadOnce(next.force);
        next = again;
      }
      running = undefined;
    })();
    return running;
  };

  const watchers = await watchFiles([...opts.policyPaths, opts.inventoryPath], () => void reload());
  let stopping: Promise<void> | undefined;
  // Enforcement goes on without the reader, but the operator must know reports stopped.
  const readerEnded = (): void => {
    if (stopping === undefined) opts.say('warning: the nflog reader (tcpdump) ended: violations are no longer reported');
  };
  void violations.ended.then(readerEnded);
  void tap?.ended.then(() => {
    if (stopping === undefined) opts.say('warning: the passive tap (tcpdump) ended: monitor and discover sessions are no longer reported');
  });
  void proxy?.ended.then((reason) => {
    if (stopping === undefined) opts.say(`warning: ${reason}: connections that need layer 7 are refused (fail closed)`);
  });
  return {
    reload,
    async status() {
      const out: AgentStatus = { rules: current.ruleset.stats };
      const p = await proxy?.stats().catch(() => undefined);
      if (p !== undefined) out.proxy = p;
      if (tap !== undefined) out.tap = tap.stats();
      return out;
    },
    stop() {
      stopping ??= (async () => {
        for (const w of watchers.watchers) w.close();
        clearTimeout(watchers.timer());
        await running;
        await violations.stop();
        await tap?.stop();
        if (opts.fail === 'open') {
          await removeTable(target);
          opts.say('stopped: table removed (fail open)');
        } else opts.say(`stopped: table kept in force (fail closed)${proxy !== undefined ? '; connections that need layer 7 are refused until an agent is back' : ''}`);
        await proxy?.stop();
        watchdog?.disarm();
      })();
      return stopping;
    },
  };
}

/**
 * Watches the files and directories the agent reads. A file is watched through its directory,
 * because editors and deploy tools replace files by renaming a new one over them.
 */
async function watchFiles(paths: string[], changed: () => void): Promise<{ watchers: FSWatcher[]; timer: () => NodeJS.Timeout | undefined }> {
  let timer: NodeJS.Timeout | undefined;
  const settle = (): void => {
    clearTimeout(timer);
    timer = setTimeout(changed, DEBOUNCE_MS);
  };
  const watchers: FSWatcher[] = [];
  for (const path of paths.map((p) => resolve(p))) {
    const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
    if (isDir) watchers.push(watch(path, { recursive: true }, settle));
    else {
      const name = basename(path);
      watchers.push(watch(dirname(path), (_event, file) => (file === null || file === name ? settle() : undefined)));
    }
  }
  return { watchers, timer: () => timer };
}
