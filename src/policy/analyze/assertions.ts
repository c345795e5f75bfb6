// Assertions for CI: expectations about what a policy allows, in a small YAML language, checked
// against the symbolic reachability (reach.ts), so "only payments may reach the cde" is proved
// for every port and application, not sampled. Parsing reports every problem with file:line;
// a failing assertion names one counterexample connection and the rule (or default) behind it.
//
// The language (examples/shop/assertions.yaml shows each kind):
//
//   assertions:
//     - name: <text>                     # optional; shown in reports
//       assume: protect                  # optional: judge as if every workload were in protect,
//                                        #   so only what rules allow counts as reachable
//       only:  { into: T, from?: S, ports?, apps? }   # whatever reaches T comes from S, on ports/apps
//       only:  { outOf: S, to?: T, ports?, apps? }    # whatever S reaches is in T, on ports/apps
//       deny:  { from: S, to: T, ports?, apps? }      # nothing of ports/apps from S reaches T
//       allow: { from: S, to: T, ports?, apps? }      # every S reaches every T on all of ports/apps
//                                                     #   (without ports/apps: on something)
//
//   An endpoint selector (S, T) is `any`, `external`, `workloads`, `nodes`, a map whose keys all
//   hold (group, workload, service, namespace, labels, namespaceLabels), or a list of those (any
//   holds). Ports are written as in rules (`tcp/443`, `udp/53`, `tcp/8000-8080`); apps are
//   protocol names. A connection of an endpoint to itself is never considered.

import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { LabelRequirement, SourcePos } from '../../model/policy.js';
import type { Inventory, Labels } from '../../model/workload.js';
import { suggestion, type Diagnostic } from '../diagnostics.js';
import type { ApplicationCatalog } from '../document/applications.js';
import { parseLabelExpressions } from '../document/labels.js';
import { parsePort } from '../document/ports.js';
import { diagnosticAt, valuePos, type PathSeg, type SourceDoc } from '../document/source.js';
import { matchesLabels } from '../select.js';
import type { ReachEndpoint, Reachability, Segment } from './reach.js';
import { ruleLocation } from './report.js';
import { cut, describeCell, ruleCells, sampleApp, type Cell } from './space.js';

export type EndpointTerm =
  | { kind: 'reserved'; name: 'any' | 'external' | 'workloads' | 'nodes' }
  | { kind: 'match'; group?: string; workload?: string; service?: string; namespace?: string; labels?: LabelRequirement[]; namespaceLabels?: LabelRequirement[] };

/** Any term holds. */
export type EndpointSelector = EndpointTerm[];

export type AssertionKind = 'only-into' | 'only-out-of' | 'deny' | 'allow';

export interface Assertion {
  name: string;
  kind: AssertionKind;
  from?: EndpointSelector;
  to?: EndpointSelector;
  /** The region the assertion is about; the whole space when it names no ports or apps. */
  region: Cell[];
  /** The assertion named ports or applications. */
  narrowed: boolean;
  assumeProtect: boolean;
  pos: SourcePos;
}

export interface Counterexample {
  from: string;
  to: string;
  /** `tcp/8080`. */
  port: string;
  /** Application, or undefined for a session never identified. */
  app: string | undefined;
  rule?: string;
  ruleAt?: string;
  reason: string;
}

export interface AssertionResult {
  assertion: Assertion;
  holds: boolean;
  /** Why it fails, in one sentence, when it does. */
  message?: string;
  counterexample?: Counterexample;
  /** Endpoint pairs that break it. */
  violations: number;
}

const RESERVED = ['any', 'external', 'workloads', 'nodes'] as const;
const TERM_KEYS = ['group', 'workload', 'service', 'namespace', 'labels', 'namespaceLabels'] as const;
const ASSERTION_KEYS = ['name', 'assume', 'only', 'deny', 'allow'] as const;
const BODY_KEYS: Record<string, readonly string[]> = {
  only: ['into', 'outOf', 'from', 'to', 'ports', 'apps'],
  deny: ['from', 'to', 'ports', 'apps'],
  allow: ['from', 'to', 'ports', 'apps'],
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ParseContext {
  src: SourceDoc;
  groups: readonly string[];
  apps: ApplicationCatalog;
  diagnostics: Diagnostic[];
}

function problem(ctx: ParseContext, path: PathSeg[], message: string, hint?: string): void {
  ctx.diagnostics.push(diagnosticAt(valuePos(ctx.src, path), 'bad-assertion', message, hint));
}

function unknownKeys(ctx: ParseContext, value: Record<string, unknown>, allowed: readonly string[], path: PathSeg[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problem(ctx, [...path, key], `unknown field "${key}"`, suggestion(key, allowed) ?? `expected ${allowed.join(', ')}`);
  }
}

function labelsOf(ctx: ParseContext, value: unknown, path: PathSeg[]): LabelRequirement[] | undefined {
  if (typeof value !== 'string') {
    problem(ctx, path, 'must be a label expression such as "app=web, tier!=db"');
    return undefined;
  }
  const parsed = parseLabelExpressions(value);
  if (parsed.ok) return parsed.reqs;
  for (const p of parsed.problems) problem(ctx, path, p.message, p.hint);
  return undefined;
}

function termOf(ctx: ParseContext, value: unknown, path: PathSeg[]): EndpointTerm | undefined {
  if (typeof value === 'string') {
    const name = RESERVED.find((r) => r === value);
    if (name !== undefined) return { kind: 'reserved', name };
    problem(ctx, path, `unknown endpoint "${value}"`, suggestion(value, RESERVED) ?? `write one of ${RESERVED.join(', ')}, or a map such as { group: ${value} }`);
    return undefined;
  }
  if (!isObj(value) || Object.keys(value).length === 0) {
    problem(ctx, path, `must be ${RESERVED.join(', ')} or a map with ${TERM_KEYS.join(', ')}`);
    return undefined;
  }
  unknownKeys(ctx, value, TERM_KEYS, path);
  const term: Extract<EndpointTerm, { kind: 'match' }> = { kind: 'match' };
  for (const key of ['group', 'workload', 'service', 'namespace'] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') problem(ctx, [...path, key], 'must be a non-empty string');
    else if (key === 'group' && !ctx.groups.includes(v)) problem(ctx, [...path, key], `unknown group "${v}"`, suggestion(v, ctx.groups));
    else term[key] = v;
  }
  if (value['labels'] !== undefined) {
    const reqs = labelsOf(ctx, value['labels'], [...path, 'labels']);
    if (reqs) term.labels = reqs;
  }
  if (value['namespaceLabels'] !== undefined) {
    const reqs = labelsOf(ctx, value['namespaceLabels'], [...path, 'namespaceLabels']);
    if (reqs) term.namespaceLabels = reqs;
  }
  return term;
}

function selectorOf(ctx: ParseContext, value: unknown, path: PathSeg[]): EndpointSelector | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) {
    problem(ctx, path, 'an empty list selects nothing');
    return undefined;
  }
  const terms = items.map((item, i) => termOf(ctx, item, Array.isArray(value) ? [...path, i] : path));
  return terms.every((t) => t !== undefined) ? (terms as EndpointTerm[]) : undefined;
}

function regionOf(ctx: ParseContext, body: Record<string, unknown>, path: PathSeg[]): { region: Cell[]; narrowed: boolean } | undefined {
  const list = (key: string): string[] | undefined => {
    const v = body[key];
    if (v === undefined) return [];
    const items = Array.isArray(v) ? v : [v];
    if (items.every((x) => typeof x === 'string')) return items as string[];
    problem(ctx, [...path, key], `must be a string or a list of strings`);
    return undefined;
  };
  const portTexts = list('ports');
  const appTexts = list('apps');
  if (portTexts === undefined || appTexts === undefined) return undefined;
  let ok = true;
  const ports = portTexts.flatMap((text, i) => {
    const p = parsePort(text);
    if (p.ok) return [p.range];
    problem(ctx, Array.isArray(body['ports']) ? [...path, 'ports', i] : [...path, 'ports'], p.message, p.hint);
    ok = false;
    return [];
  });
  const apps = appTexts.flatMap((text, i) => {
    if (text.toLowerCase() === 'any') return ['any'];
    const name = ctx.apps.resolve(text);
    if (name !== undefined) return [name];
    problem(ctx, Array.isArray(body['apps']) ? [...path, 'apps', i] : [...path, 'apps'], `unknown application "${text}"`, suggestion(text, ctx.apps.names));
    ok = false;
    return [];
  });
  return ok ? { region: ruleCells(ports, apps), narrowed: portTexts.length > 0 || appTexts.length > 0 } : undefined;
}

function assertionOf(ctx: ParseContext, value: unknown, path: PathSeg[]): Assertion | undefined {
  if (!isObj(value)) {
    problem(ctx, path, 'an assertion must be a map with one of only, deny, allow');
    return undefined;
  }
  unknownKeys(ctx, value, ASSERTION_KEYS, path);
  const kinds = (['only', 'deny', 'allow'] as const).filter((k) => value[k] !== undefined);
  const pos = valuePos(ctx.src, path);
  if (kinds.length !== 1) {
    problem(ctx, path, kinds.length === 0 ? 'an assertion needs one of only, deny, allow' : `an assertion has one kind, not ${kinds.join(' and ')}`);
    return undefined;
  }
  const kind = kinds[0] as 'only' | 'deny' | 'allow';
  const name = value['name'];
  if (name !== undefined && typeof name !== 'string') problem(ctx, [...path, 'name'], 'must be a string');
  const assume = value['assume'];
  if (assume !== undefined && assume !== 'protect') problem(ctx, [...path, 'assume'], `unknown assumption ${JSON.stringify(assume)}`, 'the only one is protect');
  const bodyPath = [...path, kind];
  const body = value[kind];
  if (!isObj(body)) {
    problem(ctx, bodyPath, `must be a map with ${(BODY_KEYS[kind] as readonly string[]).join(', ')}`);
    return undefined;
  }
  unknownKeys(ctx, body, BODY_KEYS[kind] as readonly string[], bodyPath);
  const side = (key: string): EndpointSelector | undefined | null => (body[key] === undefined ? null : selectorOf(ctx, body[key], [...bodyPath, key]));
  let assertionKind: AssertionKind;
  let from: EndpointSelector | undefined | null;
  let to: EndpointSelector | undefined | null;
  const need = (key: string, got: EndpointSelector | undefined | null): boolean => {
    if (got === null) problem(ctx, bodyPath, `${kind} needs ${key}`);
    return got !== null && got !== undefined;
  };
  let complete: boolean;
  if (kind === 'only') {
    const into = body['into'] !== undefined;
    const outOf = body['outOf'] !== undefined;
    if (into === outOf) {
      problem(ctx, bodyPath, into ? 'only takes into or outOf, not both' : 'only needs into (who may reach it) or outOf (what it may reach)');
      return undefined;
    }
    if (into && body['to'] !== undefined) problem(ctx, [...bodyPath, 'to'], 'with into, name the allowed sources in from');
    if (outOf && body['from'] !== undefined) problem(ctx, [...bodyPath, 'from'], 'with outOf, name the allowed destinations in to');
    assertionKind = into ? 'only-into' : 'only-out-of';
    to = into ? side('into') : side('to');
    from = into ? side('from') : side('outOf');
    complete = into ? need('into', to) && from !== undefined : need('outOf', from) && to !== undefined;
  } else {
    assertionKind = kind;
    from = side('from');
    to = side('to');
    complete = [need('from', from), need('to', to)].every(Boolean);
  }
  const region = regionOf(ctx, body, bodyPath);
  if (!complete || region === undefined) return undefined;
  const a: Assertion = {
    name: typeof name === 'string' ? name : `${kind} #${(path[path.length - 1] as number) + 1}`,
    kind: assertionKind,
    region: region.region,
    narrowed: region.narrowed,
    assumeProtect: assume === 'protect',
    pos,
  };
  if (from) a.from = from;
  if (to) a.to = to;
  return a;
}

/** Parses an assertion file's text; every problem is reported, with its position. */
export function parseAssertions(text: string, file: string, groups: readonly string[], apps: ApplicationCatalog): { assertions: Assertion[]; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const ctx: ParseContext = { src: { file, doc, lines }, groups, apps, diagnostics: [] };
  for (const e of doc.errors) {
    const at = e.linePos?.[0];
    ctx.diagnostics.push(diagnosticAt({ file, line: at?.line ?? 1, col: at?.col ?? 1, path: '' }, 'yaml-syntax', e.message.split('\n')[0] as string));
  }
  if (ctx.diagnostics.length > 0) return { assertions: [], diagnostics: ctx.diagnostics };
  const root: unknown = doc.toJS();
  if (!isMap(doc.contents) || !isObj(root) || !isSeq((doc.contents.get('assertions', true) as unknown) ?? null)) {
    problem(ctx, [], 'an assertion file is a map with a list under "assertions"');
    return { assertions: [], diagnostics: ctx.diagnostics };
  }
  unknownKeys(ctx, root, ['assertions'], []);
  const list = root['assertions'] as unknown[];
  const assertions = list.flatMap((v, i) => assertionOf(ctx, v, ['assertions', i]) ?? []);
  return { assertions, diagnostics: ctx.diagnostics };
}

export async function loadAssertions(file: string, groups: readonly string[], apps: ApplicationCatalog): Promise<{ assertions: Assertion[]; diagnostics: Diagnostic[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { assertions: [], diagnostics: [diagnosticAt({ file, line: 1, col: 1, path: '' }, 'unreadable', `cannot read: ${why}`)] };
  }
  return parseAssertions(text, file, groups, apps);
}

function termHolds(term: EndpointTerm, e: ReachEndpoint, nsLabels: (ns: string) => Labels): boolean {
  if (term.kind === 'reserved') {
    if (term.name === 'any') return true;
    if (term.name === 'external') return e.kind === 'external';
    return term.name === 'workloads' ? e.kind === 'workload' : e.kind === 'node';
  }
  if (term.group !== undefined && !e.groups.includes(term.group)) return false;
  const needsWorkload = term.workload !== undefined || term.service !== undefined || term.namespace !== undefined || term.labels !== undefined || term.namespaceLabels !== undefined;
  if (!needsWorkload) return true;
  const w = e.workload;
  if (w === undefined) return false;
  if (term.workload !== undefined && w.id !== term.workload && w.name !== term.workload) return false;
  if (term.service !== undefined && w.service !== term.service && `${w.namespace}/${w.service}` !== term.service) return false;
  if (term.namespace !== undefined && w.namespace !== term.namespace) return false;
  if (term.labels !== undefined && !term.labels.every((r) => matchesLabels(w.labels, r))) return false;
  const ns = nsLabels(w.namespace);
  return term.namespaceLabels === undefined || term.namespaceLabels.every((r) => matchesLabels(ns, r));
}

function why(seg: Segment, client: ReachEndpoint, server: ReachEndpoint): string {
  const modes = [client, server].filter((e) => e.kind === 'workload').map((e) => `${e.id} is in ${e.mode}`).join(', ');
  const at = ruleLocation(seg.rule);
  const rule = seg.rule === undefined ? 'no rule matches' : `rule ${seg.rule.id}${at === undefined ? '' : ` (${at})`} ${seg.rule.action === 'allow' ? 'allows it' : 'denies it'}`;
  if (seg.allowed) return seg.unenforced ? `${rule}; let through because no side is in protect (${modes})` : rule;
  return seg.rule === undefined ? `${rule}; blocked by protect (${modes})` : `${rule}; blocked (${modes})`;
}

/** Port 0 is no port a client can connect to: the next one stands for the range when there is one. */
function samplePort(cell: Cell): number {
  const transport = cell.proto === 'tcp' || cell.proto === 'udp' || cell.proto === 'sctp';
  return transport && cell.first === 0 && cell.last > 0 ? 1 : cell.first;
}

function example(seg: Segment, cell: Cell, client: ReachEndpoint, server: ReachEndpoint): Counterexample {
  const c: Counterexample = {
    from: client.id,
    to: server.id,
    port: describeCell({ proto: cell.proto, first: samplePort(cell), last: samplePort(cell) }),
    app: sampleApp(cell.apps),
    reason: why(seg, client, server),
  };
  if (seg.rule) c.rule = seg.rule.id;
  const at = ruleLocation(seg.rule);
  if (at !== undefined) c.ruleAt = at;
  return c;
}

/** A cell of `allowed` segments outside `permitted`, as a counterexample, or undefined. */
function firstOutside(segs: readonly Segment[], permitted: readonly Cell[], client: ReachEndpoint, server: ReachEndpoint): Counterexample | undefined {
  for (const seg of segs) {
    const outside = cut([seg], permitted).outside[0];
    if (outside !== undefined) return example(seg, outside, client, server);
  }
  return undefined;
}

/** Proves or refutes each assertion against the reachability of one policy and inventory. */
export function checkAssertions(reach: Reachability, inventory: Inventory, assertions: readonly Assertion[]): AssertionResult[] {
  const nsMap = new Map(inventory.namespaces.map((n) => [n.name, n.labels]));
  const nsLabels = (ns: string): Labels => nsMap.get(ns) ?? {};
  const select = (sel: EndpointSelector | undefined): ReachEndpoint[] => (sel === undefined ? [...reach.endpoints] : reach.endpoints.filter((e) => sel.some((t) => termHolds(t, e, nsLabels))));
  return assertions.map((a) => {
    const passes = (seg: Segment): boolean => seg.allowed && !(a.assumeProtect && seg.unenforced);
    const allowedSegs = (client: ReachEndpoint, server: ReachEndpoint): Segment[] => (reach.segments(client.cls, server.cls) ?? []).filter(passes);
    const froms = select(a.from);
    const tos = select(a.to);
    const empty = a.from !== undefined && froms.length === 0 ? 'from' : a.to !== undefined && tos.length === 0 ? 'to' : undefined;
    if (empty !== undefined) return { assertion: a, holds: false, violations: 0, message: `${empty} selects no endpoint of the inventory; the assertion would hold vacuously` };
    let counterexample: Counterexample | undefined;
    let violations = 0;
    const note = (c: Counterexample | undefined): void => {
      if (c === undefined) return;
      violations++;
      counterexample ??= c;
    };
    if (a.kind === 'only-into' || a.kind === 'only-out-of') {
      // The scoped side is every endpoint on the other end; the named side may use the region only.
      const inScope = new Set(a.kind === 'only-into' ? froms : tos);
      const fixed = a.kind === 'only-into' ? tos : froms;
      for (const f of fixed) {
        for (const other of reach.endpoints) {
          if (other === f) continue;
          const [client, server] = a.kind === 'only-into' ? [other, f] : [f, other];
          const permitted = inScope.has(other) ? a.region : [];
          note(firstOutside(allowedSegs(client, server), permitted, client, server));
        }
      }
    } else {
      for (const client of froms) {
        for (const server of tos) {
          if (client === server || reach.segments(client.cls, server.cls) === undefined) continue;
          const all = reach.segments(client.cls, server.cls) as readonly Segment[];
          if (a.kind === 'deny') {
            const hit = allowedSegs(client, server).map((seg) => ({ seg, cell: cut([seg], a.region).inside[0] })).find((x) => x.cell !== undefined);
            note(hit && example(hit.seg, hit.cell as Cell, client, server));
          } else if (a.narrowed) {
            const blocked = all.filter((s) => !passes(s)).map((seg) => ({ seg, cell: cut([seg], a.region).inside[0] })).find((x) => x.cell !== undefined);
            note(blocked && example(blocked.seg, blocked.cell as Cell, client, server));
          } else if (allowedSegs(client, server).length === 0) {
            const seg = all[0] as Segment;
            note(example(seg, seg, client, server));
          }
        }
      }
    }
    const result: AssertionResult = { assertion: a, holds: violations === 0, violations };
    if (counterexample !== undefined) {
      result.counterexample = counterexample;
      result.message = describeFailure(a, counterexample, violations);
    }
    return result;
  });
}

function describeFailure(a: Assertion, c: Counterexample, violations: number): string {
  const app = c.app === undefined ? 'application not identified' : c.app;
  const verb = a.kind === 'allow' ? 'is not allowed' : 'is allowed';
  const more = violations > 1 ? ` (${violations} endpoint pairs in all)` : '';
  return `${c.from} → ${c.to} on ${c.port} (${app}) ${verb}: ${c.reason}${more}`;
}
