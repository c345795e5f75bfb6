// Reading the parts both document formats share (selectors, groups, rule fields) from a
// document's plain value into model objects. The schema has already reported wrong shapes; this
// code skips what it cannot use, checks meaning (ports, labels, addresses, applications) and
// keeps out of the model anything that failed either.

import type { Action, Criterion, Group, Mode, PortRange, Rule, RuleSource, Selector, SourcePos } from '../../model/policy.js';
import { MODES } from '../../model/policy.js';
import { suggestion, type Diagnostic } from '../diagnostics.js';
import { checkAddress, normalizeFqdn } from './address.js';
import type { ApplicationCatalog } from './applications.js';
import type { GroupRef } from './assemble.js';
import { labelKeyProblem, labelValueProblem, parseLabelExpressions } from './labels.js';
import { parsePort } from './ports.js';
import { diagnosticAt, entryPos, innerPos, valuePos, type PathSeg, type SourceDoc } from './source.js';

export interface ReadContext {
  src: SourceDoc;
  diagnostics: Diagnostic[];
  /** Paths the schema rejected. */
  failed: readonly PathSeg[][];
  applications: ApplicationCatalog;
}

export type Fields = Record<string, unknown>;

export function isFields(v: unknown): v is Fields {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** True when the schema rejected something at or under `segs`. */
export function failedWithin(ctx: ReadContext, segs: readonly PathSeg[]): boolean {
  return ctx.failed.some((f) => f.length >= segs.length && segs.every((s, i) => String(f[i]) === String(s)));
}

function report(ctx: ReadContext, pos: SourcePos, code: string, message: string, hint?: string): void {
  ctx.diagnostics.push(diagnosticAt(pos, code, message, hint));
}

/** A field that may be one string or a list of strings, each with its path. */
export function stringsAt(value: unknown, segs: readonly PathSeg[]): { text: string; segs: PathSeg[] }[] {
  if (typeof value === 'string') return [{ text: value, segs: [...segs] }];
  if (!Array.isArray(value)) return [];
  const out: { text: string; segs: PathSeg[] }[] = [];
  value.forEach((item, i) => {
    if (typeof item === 'string') out.push({ text: item, segs: [...segs, i] });
  });
  return out;
}

function labelCriteria(
  ctx: ReadContext,
  value: unknown,
  segs: readonly PathSeg[],
  kind: 'label' | 'namespaceLabel',
): { criteria: Criterion[]; ok: boolean } {
  const criteria: Criterion[] = [];
  let ok = true;
  if (typeof value === 'string') {
    const parsed = parseLabelExpressions(value);
    if (parsed.ok) {
      for (const req of parsed.reqs) criteria.push({ kind, req });
    } else {
      for (const p of parsed.problems) report(ctx, innerPos(ctx.src, segs, p.offset), 'bad-selector', p.message, p.hint);
      ok = false;
    }
  } else if (isFields(value)) {
    for (const [key, raw] of Object.entries(value)) {
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') continue;
      const v = String(raw);
      const problem = labelKeyProblem(key) ?? labelValueProblem(v);
      if (problem !== undefined) {
        report(ctx, entryPos(ctx.src, [...segs, key]), 'bad-selector', problem);
        ok = false;
      } else {
        criteria.push({ kind, req: { key, op: 'eq', values: [v] } });
      }
    }
  }
  return { criteria, ok };
}

/** One selector: a label-expression string, or an object whose criteria must all hold. */
function readSelector(ctx: ReadContext, value: unknown, segs: readonly PathSeg[]): Selector | undefined {
  const pos = valuePos(ctx.src, segs);
  if (typeof value === 'string') {
    const { criteria, ok } = labelCriteria(ctx, value, segs, 'label');
    return ok && !failedWithin(ctx, segs) ? { criteria, pos } : undefined;
  }
  if (!isFields(value)) return undefined;
  const criteria: Criterion[] = [];
  let ok = true;
  // Criteria keep the order they were written in, so the model reads like the document.
  for (const [key, v] of Object.entries(value)) {
    const at = [...segs, key];
    if (key === 'labels' || key === 'namespaceLabels') {
      const r = labelCriteria(ctx, v, at, key === 'labels' ? 'label' : 'namespaceLabel');
      criteria.push(...r.criteria);
      ok &&= r.ok;
      continue;
    }
    if (typeof v !== 'string') continue;
    switch (key) {
      case 'namespace':
        criteria.push({ kind: 'namespace', name: v });
        break;
      case 'service':
        criteria.push({ kind: 'service', name: v });
        break;
      case 'image':
        criteria.push({ kind: 'image', glob: v });
        break;
      case 'node':
        criteria.push({ kind: 'node', name: v });
        break;
      case 'address': {
        const check = checkAddress(v);
        if (!check.ok) {
          report(ctx, valuePos(ctx.src, at), 'bad-address', check.message);
          ok = false;
        } else {
          if (check.warning !== undefined) {
            ctx.diagnostics.push(diagnosticAt(valuePos(ctx.src, at), 'bad-address', check.warning, undefined, 'warning'));
          }
          criteria.push({ kind: 'address', spec: v.trim() });
        }
        break;
      }
      case 'fqdn': {
        const fqdn = normalizeFqdn(v);
        if (!fqdn.ok) {
          report(ctx, valuePos(ctx.src, at), 'bad-fqdn', fqdn.message);
          ok = false;
        } else {
          criteria.push({ kind: 'fqdn', pattern: fqdn.pattern });
        }
        break;
      }
      default:
        break;
    }
  }
  return ok && !failedWithin(ctx, segs) ? { criteria, pos } : undefined;
}

function readMode(value: unknown): Mode | undefined {
  return MODES.find((m) => m === value);
}

/**
 * A group from its body (`selectors`, `mode`, `comment`). A selector that fails a check is left
 * out: the group then matches less, never more.
 */
export function readGroup(ctx: ReadContext, name: string, pos: SourcePos, body: unknown, segs: readonly PathSeg[]): Group {
  const group: Group = { name, selectors: [], pos };
  if (!isFields(body)) return group;
  const selectors = body['selectors'];
  if (Array.isArray(selectors)) {
    selectors.forEach((s, i) => {
      const selector = readSelector(ctx, s, [...segs, 'selectors', i]);
      if (selector !== undefined) group.selectors.push(selector);
    });
  }
  if (!Array.isArray(selectors) || selectors.length === 0) {
    ctx.diagnostics.push(
      diagnosticAt(pos, 'empty-group', `group "${name}" has no selectors and matches nothing`, undefined, 'warning'),
    );
  }
  const mode = readMode(body['mode']);
  if (mode !== undefined) group.mode = mode;
  if (typeof body['comment'] === 'string') group.comment = body['comment'];
  return group;
}

/** Group names written in `field` (one name or a list), each with its position. */
export function readRefs(ctx: ReadContext, body: Fields, field: string, segs: readonly PathSeg[]): GroupRef[] {
  const refs: GroupRef[] = [];
  for (const { text, segs: at } of stringsAt(body[field], [...segs, field])) {
    if (!refs.some((r) => r.name === text)) refs.push({ name: text, pos: valuePos(ctx.src, at) });
  }
  return refs;
}

function readPorts(ctx: ReadContext, body: Fields, segs: readonly PathSeg[]): PortRange[] | undefined {
  const ports: PortRange[] = [];
  let ok = true;
  for (const { text, segs: at } of stringsAt(body['ports'], [...segs, 'ports'])) {
    const parsed = parsePort(text);
    if (parsed.ok) ports.push(parsed.range);
    else {
      report(ctx, valuePos(ctx.src, at), 'bad-port', parsed.message, parsed.hint);
      ok = false;
    }
  }
  return ok ? ports : undefined;
}

function readApplications(ctx: ReadContext, body: Fields, segs: readonly PathSeg[]): string[] | undefined {
  const apps: string[] = [];
  let any = false;
  let ok = true;
  for (const { text, segs: at } of stringsAt(body['applications'], [...segs, 'applications'])) {
    if (text.toLowerCase() === 'any') {
      any = true;
      continue;
    }
    const name = ctx.applications.resolve(text);
    if (name === undefined) {
      const hint =
        ctx.applications.names.length === 0
          ? 'no application protocols are registered'
          : suggestion(text, ctx.applications.names);
      report(ctx, valuePos(ctx.src, at), 'unknown-application', `unknown application "${text}"`, hint);
      ok = false;
    } else if (!apps.includes(name)) {
      apps.push(name);
    }
  }
  if (!ok) return undefined;
  // `any` anywhere in the list means the rule does not depend on the application.
  return any ? [] : apps;
}

const ACTIONS: readonly Action[] = ['allow', 'deny'];
const SOURCES: readonly RuleSource[] = ['user', 'learned', 'imported'];

/**
 * A rule from its id, endpoints and body (`ports`, `applications`, `action`, `priority`,
 * `source`, `disabled`, `comment`). Undefined when anything in it failed a check; every problem
 * is reported either way.
 */
export function readRule(
  ctx: ReadContext,
  id: string,
  ends: { from: GroupRef[]; to: GroupRef[] },
  body: Fields,
  segs: readonly PathSeg[],
  pos: SourcePos,
): Rule | undefined {
  const ports = readPorts(ctx, body, segs);
  const applications = readApplications(ctx, body, segs);
  const action = ACTIONS.find((a) => a === body['action']);
  if (ports === undefined || applications === undefined || action === undefined || failedWithin(ctx, segs)) return undefined;
  const priority = typeof body['priority'] === 'number' ? body['priority'] : 0;
  const source = SOURCES.find((s) => s === body['source']) ?? 'user';
  const rule: Rule = {
    id,
    from: ends.from.map((r) => r.name),
    to: ends.to.map((r) => r.name),
    ports,
    applications,
    action,
    priority,
    source,
    pos,
  };
  if (body['disabled'] === true) rule.disabled = true;
  if (typeof body['comment'] === 'string') rule.comment = body['comment'];
  return rule;
}
