// The model's groups and rules written back as a Palisade policy document (YAML), with notes as
// comments above each item: what `palisade learn` proposes for review. The text is produced here
// rather than by a YAML library so comments sit exactly where a reviewer expects them; the output
// reads back through loadPolicy to the same groups and rules.

import type { Criterion, Group, LabelRequirement, Mode, PortRange, Rule, Selector } from '../../model/policy.js';
import { PALISADE_API_VERSION } from './palisade.js';

export interface NotedGroup {
  group: Group;
  notes?: readonly string[];
}

export interface NotedRule {
  rule: Rule;
  notes?: readonly string[];
}

export interface PolicyText {
  name: string;
  /** Comment lines at the top of the file. */
  header?: readonly string[];
  /** Omitted when the document is meant to be loaded beside another that sets it. */
  mode?: Mode;
  groups: readonly NotedGroup[];
  rules: readonly NotedRule[];
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const YAML_WORDS = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

/** A scalar: plain when YAML reads it back as the same string, else JSON-quoted (valid YAML). */
export function scalar(text: string): string {
  return PLAIN.test(text) && !YAML_WORDS.test(text) ? text : JSON.stringify(text);
}

const comment = (indent: string, lines: readonly string[] = []): string[] =>
  lines.flatMap((l) => l.split('\n')).map((l) => `${indent}# ${l}`.trimEnd());

export function formatPort(p: PortRange): string {
  if (p.proto === 'any') return 'any';
  if (p.first === undefined) return p.proto === 'icmp' || p.proto === 'icmpv6' ? p.proto : `${p.proto}/any`;
  return p.first === p.last || p.last === undefined ? `${p.proto}/${p.first}` : `${p.proto}/${p.first}-${p.last}`;
}

function labelExpression(r: LabelRequirement): string {
  if (r.op === 'eq') return `${r.key}=${r.values[0] ?? ''}`;
  if (r.op === 'neq') return `${r.key}!=${r.values[0] ?? ''}`;
  if (r.op === 'exists') return r.key;
  return `${r.key} in (${r.values.join(', ')})`;
}

/** Equality-only labels as a map (easiest to review), anything else as one expression string. */
function labelSet(reqs: readonly LabelRequirement[]): string {
  if (reqs.every((r) => r.op === 'eq')) return `{ ${reqs.map((r) => `${scalar(r.key)}: ${scalar(r.values[0] ?? '')}`).join(', ')} }`;
  return scalar(reqs.map(labelExpression).join(', '));
}

/** One flow mapping; like the format itself it holds one criterion of each kind besides labels. */
function selectorText(s: Selector): string {
  const fields: string[] = [];
  const labels = s.criteria.flatMap((c) => (c.kind === 'label' ? [c.req] : []));
  const nsLabels = s.criteria.flatMap((c) => (c.kind === 'namespaceLabel' ? [c.req] : []));
  const single = (c: Criterion): string | undefined => {
    switch (c.kind) {
      case 'namespace':
        return `namespace: ${scalar(c.name)}`;
      case 'service':
        return `service: ${scalar(c.name)}`;
      case 'image':
        return `image: ${scalar(c.glob)}`;
      case 'node':
        return `node: ${scalar(c.name)}`;
      case 'address':
        return `address: ${scalar(c.spec)}`;
      case 'fqdn':
        return `fqdn: ${scalar(c.pattern)}`;
      default:
        return undefined;
    }
  };
  for (const c of s.criteria) {
    const f = single(c);
    if (f !== undefined) fields.push(f);
  }
  if (labels.length > 0) fields.push(`labels: ${labelSet(labels)}`);
  if (nsLabels.length > 0) fields.push(`namespaceLabels: ${labelSet(nsLabels)}`);
  return `{ ${fields.join(', ')} }`;
}

const list = (items: readonly string[]): string => `[${items.map(scalar).join(', ')}]`;

function groupLines(g: NotedGroup): string[] {
  const out = [...comment('  ', g.notes), `  - name: ${scalar(g.group.name)}`];
  if (g.group.mode !== undefined) out.push(`    mode: ${g.group.mode}`);
  if (g.group.selectors.length > 0) out.push('    selectors:', ...g.group.selectors.map((s) => `    - ${selectorText(s)}`));
  if (g.group.comment !== undefined) out.push(`    comment: ${JSON.stringify(g.group.comment)}`);
  return out;
}

function ruleLines(r: NotedRule): string[] {
  const rule = r.rule;
  const out = [...comment('  ', r.notes), `  - id: ${scalar(rule.id)}`, `    from: ${list(rule.from)}`, `    to: ${list(rule.to)}`];
  if (rule.ports.length > 0) out.push(`    ports: ${list(rule.ports.map(formatPort))}`);
  if (rule.applications.length > 0) out.push(`    applications: ${list(rule.applications)}`);
  out.push(`    action: ${rule.action}`);
  if (rule.priority !== 0) out.push(`    priority: ${rule.priority}`);
  out.push(`    source: ${rule.source}`);
  if (rule.disabled === true) out.push('    disabled: true');
  if (rule.comment !== undefined) out.push(`    comment: ${JSON.stringify(rule.comment)}`);
  return out;
}

export function writePolicyText(doc: PolicyText): string {
  const out = [...comment('', doc.header), `apiVersion: ${PALISADE_API_VERSION}`, 'kind: Policy', 'metadata:', `  name: ${scalar(doc.name)}`, 'spec:'];
  if (doc.mode !== undefined) out.push(`  mode: ${doc.mode}`);
  out.push(doc.groups.length > 0 ? '  groups:' : '  groups: []');
  for (const g of doc.groups) out.push(...groupLines(g));
  out.push(doc.rules.length > 0 ? '  rules:' : '  rules: []');
  for (const r of doc.rules) out.push(...ruleLines(r));
  return `${out.join('\n')}\n`;
}
