// NeuVector security rules (NvSecurityRule, NvClusterSecurityRule) → a Palisade policy: the import
// half of neuvector.ts and its inverse. Targets and rule selectors become groups, ingress and
// egress entries become rules; every problem names the file, line and field.

import { parseAddressSpec } from '../model/address.js';
import type { Criterion, Group, Mode, Policy, Rule } from '../model/policy.js';
import { parsePort } from '../policy/document/ports.js';
import { isFields, type ManifestObject } from './kubernetes/manifests.js';
import type { Problem } from './kubernetes/problems.js';
import { NV_ANY_VALUE, NV_KEYS, NV_MODES, NV_RESERVED } from './neuvector.js';

const KINDS = ['NvSecurityRule', 'NvClusterSecurityRule'];
const RESERVED_BY_NV = new Map(Object.entries(NV_RESERVED).map(([palisade, nv]) => [nv, palisade]));
const MODE_BY_NV = new Map(Object.entries(NV_MODES).map(([mode, nv]) => [nv.toLowerCase(), mode as Mode]));

interface Reader {
  obj: ManifestObject;
  problems: Problem[];
}

function fail(r: Reader, field: string, message: string): undefined {
  const at = r.obj.locate(field);
  const meta = r.obj.body['metadata'];
  const name = isFields(meta) && typeof meta['name'] === 'string' ? meta['name'] : r.obj.where;
  r.problems.push({ severity: 'error', file: r.obj.file, ...(at ?? (r.obj.line !== undefined ? { line: r.obj.line } : {})), object: `${r.obj.kind} ${name}`, field, message });
  return undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A selector's criteria as Palisade criteria: same-key label equalities are one `in`. */
function readCriteria(r: Reader, raw: unknown, field: string): Criterion[] | undefined {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return fail(r, field, 'must be a list of criteria');
  const out: Criterion[] = [];
  let valid = true;
  raw.forEach((c: unknown, i) => {
    const at = `${field}[${i}]`;
    const key = isFields(c) ? str(c['key']) : undefined;
    const value = isFields(c) ? str(c['value']) : undefined;
    const op = isFields(c) ? str(c['op']) : undefined;
    if (key === undefined || value === undefined || (op !== '=' && op !== '!=')) {
      valid = false;
      return fail(r, at, 'a criterion needs key, value and op "=" or "!="');
    }
    if (key === NV_KEYS.namespace || key === NV_KEYS.service || key === NV_KEYS.image || key === NV_KEYS.node || key === NV_KEYS.address) {
      if (op !== '=') {
        valid = false;
        return fail(r, `${at}.op`, `Palisade has no negated ${key} criterion`);
      }
      if (key === NV_KEYS.namespace) out.push({ kind: 'namespace', name: value });
      else if (key === NV_KEYS.service) out.push({ kind: 'service', name: value });
      else if (key === NV_KEYS.image) out.push({ kind: 'image', glob: value });
      else if (key === NV_KEYS.node) out.push({ kind: 'node', name: value });
      else out.push(parseAddressSpec(value) !== undefined ? { kind: 'address', spec: value } : { kind: 'fqdn', pattern: value });
      return;
    }
    if (op === '=' && value === NV_ANY_VALUE) {
      out.push({ kind: 'label', req: { key, op: 'exists', values: [] } });
      return;
    }
    const same = op === '=' ? out.find((x) => x.kind === 'label' && x.req.key === key && (x.req.op === 'eq' || x.req.op === 'in')) : undefined;
    if (same !== undefined && same.kind === 'label') same.req = { key, op: 'in', values: [...same.req.values, value] };
    else out.push({ kind: 'label', req: { key, op: op === '=' ? 'eq' : 'neq', values: [value] } });
  });
  return valid ? out : undefined;
}

function readSelector(r: Reader, raw: unknown, field: string, groups: Map<string, Group>): string | undefined {
  if (!isFields(raw)) return fail(r, field, 'must be a mapping with name and criteria');
  const name = str(raw['name']);
  if (name === undefined || name === '') return fail(r, `${field}.name`, 'missing or not a string');
  const reserved = RESERVED_BY_NV.get(name);
  if (reserved !== undefined) return reserved;
  const criteria = readCriteria(r, raw['criteria'], `${field}.criteria`);
  if (criteria === undefined) return undefined;
  const known = groups.get(name);
  if (known === undefined) groups.set(name, { name, selectors: [{ criteria }], pos: { file: r.obj.file, line: r.obj.locate(field)?.line ?? r.obj.line ?? 1, col: 1, path: field } });
  else if (JSON.stringify(known.selectors[0]?.criteria) !== JSON.stringify(criteria)) return fail(r, `${field}.criteria`, `group ${name} is defined with other criteria elsewhere`);
  return name;
}

function readEntry(r: Reader, raw: unknown, field: string): Omit<Rule, 'from' | 'to'> | undefined {
  if (!isFields(raw)) return fail(r, field, 'must be a mapping');
  const id = str(raw['name']);
  if (id === undefined || id === '') return fail(r, `${field}.name`, 'missing or not a string');
  const action = raw['action'];
  if (action !== 'allow' && action !== 'deny') return fail(r, `${field}.action`, 'must be allow or deny');
  const portsText = str(raw['ports']) ?? 'any';
  const ports = [];
  if (portsText.trim().toLowerCase() !== 'any') {
    for (const p of portsText.split(',')) {
      const parsed = parsePort(p);
      if (!parsed.ok) return fail(r, `${field}.ports`, parsed.message);
      ports.push(parsed.range);
    }
  }
  const apps = raw['applications'] ?? ['any'];
  if (!Array.isArray(apps) || apps.some((a) => typeof a !== 'string')) return fail(r, `${field}.applications`, 'must be a list of application names');
  const applications = (apps as string[]).map((a) => a.toLowerCase()).filter((a) => a !== 'any');
  const priority = raw['priority'] ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority)) return fail(r, `${field}.priority`, 'must be an integer');
  const line = r.obj.locate(field)?.line ?? r.obj.line ?? 1;
  return { id, ports, applications, action, priority, source: 'imported', pos: { file: r.obj.file, line, col: 1, path: field } };
}

const sameEffect = (a: Rule, b: Omit<Rule, 'from' | 'to'>): boolean =>
  a.action === b.action && a.priority === b.priority && JSON.stringify([a.ports, a.applications]) === JSON.stringify([b.ports, b.applications]);

/**
 * Reads every NeuVector rule object among `objects` (others are skipped). Entries of one name
 * with the same effect are one rule with several sources or destinations.
 */
export function readNeuVector(objects: readonly ManifestObject[], problems: Problem[]): Policy {
  const groups = new Map<string, Group>();
  const rules: Rule[] = [];
  const addRule = (r: Reader, entry: Omit<Rule, 'from' | 'to'>, from: string, to: string, field: string): void => {
    const known = rules.find((x) => x.id === entry.id);
    if (known === undefined) rules.push({ ...entry, from: [from], to: [to] });
    else if (!sameEffect(known, entry)) fail(r, `${field}.name`, `rule ${entry.id} is defined twice with different ports, applications, action or priority`);
    else if (known.to.length === 1 && known.to[0] === to && !known.from.includes(from)) known.from.push(from);
    else if (known.from.length === 1 && known.from[0] === from && !known.to.includes(to)) known.to.push(to);
  };
  for (const obj of objects) {
    if (!KINDS.includes(obj.kind)) continue;
    const r: Reader = { obj, problems };
    const spec = obj.body['spec'];
    if (!isFields(spec)) {
      fail(r, 'spec', 'missing or not a mapping');
      continue;
    }
    const target = spec['target'];
    if (!isFields(target)) {
      fail(r, 'spec.target', 'missing or not a mapping');
      continue;
    }
    const targetName = readSelector(r, target['selector'], 'spec.target.selector', groups);
    if (targetName === undefined) continue;
    const modeText = str(target['policymode']);
    if (modeText !== undefined) {
      const mode = MODE_BY_NV.get(modeText.toLowerCase());
      const group = groups.get(targetName);
      if (mode === undefined) fail(r, 'spec.target.policymode', 'must be Discover, Monitor or Protect');
      else if (group !== undefined) group.mode = mode;
    }
    for (const direction of ['ingress', 'egress'] as const) {
      const list = spec[direction] ?? [];
      if (!Array.isArray(list)) {
        fail(r, `spec.${direction}`, 'must be a list of rules');
        continue;
      }
      list.forEach((raw: unknown, i) => {
        const field = `spec.${direction}[${i}]`;
        const entry = readEntry(r, raw, field);
        const other = isFields(raw) ? readSelector(r, raw['selector'], `${field}.selector`, groups) : undefined;
        if (entry === undefined || other === undefined) return;
        if (direction === 'ingress') addRule(r, entry, other, targetName, field);
        else addRule(r, entry, targetName, other, field);
      });
    }
  }
  return { groups: [...groups.values()], rules, defaultMode: 'discover' };
}
