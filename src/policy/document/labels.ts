// Label expressions as written in selectors (`app=web, tier!=db, pci, env in (prod, staging)`)
// parsed into the model's LabelRequirement. Keys and values follow Kubernetes label syntax, so
// what a team writes here also holds for the pods it describes. Pure; errors carry the offset
// of the bad term inside the string, so diagnostics point at it.

import type { LabelRequirement } from '../../model/policy.js';

export type LabelParse =
  | { ok: true; reqs: LabelRequirement[] }
  | { ok: false; problems: { offset: number; message: string; hint?: string }[] };

const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key prefix "${prefix}" is not a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `"${key}" is not a label key (letters, digits, "-", "_", "." inside, at most 63)`;
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is. Empty is valid. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `"${value}" is not a label value (letters, digits, "-", "_", "." inside, at most 63)`;
  }
  return undefined;
}

interface Term {
  text: string;
  offset: number;
}

/** Splits at commas outside parentheses; an unbalanced parenthesis is reported at its offset. */
function splitTerms(text: string): { terms: Term[]; unbalanced?: number } {
  const terms: Term[] = [];
  let depth = 0;
  let open = -1;
  let start = 0;
  const push = (end: number): void => {
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    terms.push({ text: raw.trim(), offset: start + lead });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth < 0) return { terms, unbalanced: i };
    } else if (c === ',' && depth === 0) {
      push(i);
      start = i + 1;
    }
  }
  if (depth !== 0) return { terms, unbalanced: open };
  push(text.length);
  return { terms };
}

type TermParse = { ok: true; req: LabelRequirement } | { ok: false; offset: number; message: string; hint?: string };

const EQUALITY = /^([^=!\s(),]+)\s*(==|=|!=)\s*(.*)$/;
const SET = /^([^=!\s(),]+)\s+(in|notin)\s*\((.*)\)$/;

function checkKey(key: string, offset: number): TermParse | undefined {
  const problem = labelKeyProblem(key);
  return problem === undefined ? undefined : { ok: false, offset, message: problem };
}

function parseTerm(term: Term): TermParse {
  const { text, offset } = term;
  if (text === '') return { ok: false, offset, message: 'empty label expression' };
  if (text.startsWith('!')) {
    return { ok: false, offset, message: `"${text}" (label absent) is not supported`, hint: 'select on a value with k!=v instead' };
  }
  const eq = EQUALITY.exec(text);
  if (eq !== null) {
    const [, key = '', op, rawValue = ''] = eq;
    const bad = checkKey(key, offset);
    if (bad !== undefined) return bad;
    const value = rawValue.trim();
    const valueOffset = offset + text.length - rawValue.length;
    const problem = labelValueProblem(value);
    if (problem !== undefined) return { ok: false, offset: valueOffset, message: problem };
    return { ok: true, req: { key, op: op === '!=' ? 'neq' : 'eq', values: [value] } };
  }
  const set = SET.exec(text);
  if (set !== null) {
    const [, key = '', op, inner = ''] = set;
    const bad = checkKey(key, offset);
    if (bad !== undefined) return bad;
    if (op === 'notin') {
      return { ok: false, offset, message: `"notin" is not supported`, hint: `write one ${key}!=v per value` };
    }
    const innerOffset = offset + text.indexOf('(') + 1;
    const values: string[] = [];
    let at = 0;
    for (const part of inner.split(',')) {
      const value = part.trim();
      const valueOffset = innerOffset + at + (part.length - part.trimStart().length);
      at += part.length + 1;
      if (value === '') return { ok: false, offset: valueOffset, message: `empty value in "${text}"` };
      const problem = labelValueProblem(value);
      if (problem !== undefined) return { ok: false, offset: valueOffset, message: problem };
      if (!values.includes(value)) values.push(value);
    }
    return { ok: true, req: { key, op: 'in', values } };
  }
  if (/^\S+$/.test(text) && !/[=!()]/.test(text)) {
    const bad = checkKey(text, offset);
    if (bad !== undefined) return bad;
    return { ok: true, req: { key: text, op: 'exists', values: [] } };
  }
  return {
    ok: false,
    offset,
    message: `cannot read label expression "${text}"`,
    hint: 'write k=v, k!=v, k or k in (a, b)',
  };
}

/** Parses a comma-separated list of label expressions; reports every bad term. */
export function parseLabelExpressions(text: string): LabelParse {
  const { terms, unbalanced } = splitTerms(text);
  if (unbalanced !== undefined) {
    return { ok: false, problems: [{ offset: unbalanced, message: `unbalanced parenthesis in "${text}"` }] };
  }
  const reqs: LabelRequirement[] = [];
  const problems: { offset: number; message: string; hint?: string }[] = [];
  for (const term of terms) {
    const r = parseTerm(term);
    if (r.ok) reqs.push(r.req);
    else problems.push(r.hint === undefined ? { offset: r.offset, message: r.message } : { offset: r.offset, message: r.message, hint: r.hint });
  }
  return problems.length === 0 ? { ok: true, reqs } : { ok: false, problems };
}
