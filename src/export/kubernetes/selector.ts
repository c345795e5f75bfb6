// Kubernetes label selectors (matchLabels + matchExpressions): parsed and validated once when a
// NetworkPolicy is read, then matched against the labels of workloads and namespaces during the
// reachability computation.

import type { Labels } from '../../model/workload.js';
import { isFields } from './manifests.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values: readonly string[];
}

/** All requirements must hold; no requirement selects everything. matchLabels become `In` of one value. */
export interface LabelSelector {
  requirements: readonly SelectorRequirement[];
}

export const SELECT_ALL: LabelSelector = { requirements: [] };

/** A field problem found while parsing: the path below the selector and the reason. */
export interface FieldError {
  field: string;
  message: string;
}

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is no valid label key (an optional DNS subdomain prefix and `/`, then a name), or undefined. */
function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `key: Invalid value: ${JSON.stringify(key)}: the prefix before '/' must be a lower-case DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `key: Invalid value: ${JSON.stringify(key)}: the name must be 1-63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `value` is no valid label value (empty, or a name of at most 63 characters), or undefined. */
function labelValueError(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && NAME.test(value))) return undefined;
  return `values: Invalid value: ${JSON.stringify(value)}: a label value must be empty or at most 63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit`;
}

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/**
 * A selector from its manifest form. Errors name the field below the selector
 * (`matchLabels`, `matchExpressions[1].values`) and start with `selector error:`.
 */
export function parseSelector(raw: unknown): { selector: LabelSelector; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const requirements: SelectorRequirement[] = [];
  const fail = (field: string, message: string): void => {
    errors.push({ field, message: `selector error: ${message}` });
  };
  if (raw === null || raw === undefined) return { selector: SELECT_ALL, errors };
  if (!isFields(raw)) {
    fail('', 'a label selector must be a mapping');
    return { selector: SELECT_ALL, errors };
  }
  const matchLabels = raw['matchLabels'];
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isFields(matchLabels)) fail('matchLabels', 'must be a mapping of label keys to values');
    else {
      for (const [key, value] of Object.entries(matchLabels)) {
        const keyError = labelKeyError(key);
        if (keyError !== undefined) fail(`matchLabels`, keyError);
        if (typeof value !== 'string') {
          fail(`matchLabels.${key}`, 'a label value must be a string');
          continue;
        }
        const valueError = labelValueError(value);
        if (valueError !== undefined) fail(`matchLabels.${key}`, valueError);
        requirements.push({ key, operator: 'In', values: [value] });
      }
    }
  }
  const expressions = raw['matchExpressions'];
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions)) fail('matchExpressions', 'must be a list');
    else {
      expressions.forEach((expr: unknown, i) => {
        const at = `matchExpressions[${i}]`;
        if (!isFields(expr)) {
          fail(at, 'must be a mapping with key, operator and values');
          return;
        }
        const key = expr['key'];
        const operator = expr['operator'];
        const values = expr['values'] ?? [];
        if (typeof key !== 'string') return fail(`${at}.key`, 'must be a string');
        const keyError = labelKeyError(key);
        if (keyError !== undefined) fail(`${at}.key`, keyError);
        if (typeof operator !== 'string' || !OPERATORS.includes(operator as SelectorOperator)) {
          return fail(`${at}.operator`, `must be one of ${OPERATORS.join(', ')}`);
        }
        const op = operator as SelectorOperator;
        if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return fail(`${at}.values`, 'must be a list of strings');
        const strings = values as string[];
        if ((op === 'In' || op === 'NotIn') && strings.length === 0) return fail(`${at}.values`, `must not be empty for operator ${op}`);
        if ((op === 'Exists' || op === 'DoesNotExist') && strings.length > 0) return fail(`${at}.values`, `must be empty for operator ${op}`);
        for (const v of strings) {
          const valueError = labelValueError(v);
          if (valueError !== undefined) fail(`${at}.values`, valueError);
        }
        requirements.push({ key, operator: op, values: strings });
      });
    }
  }
  return { selector: { requirements }, errors };
}

function matchesRequirement(req: SelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  switch (req.operator) {
    case 'In':
      return has && req.values.includes(labels[req.key] as string);
    case 'NotIn':
      return !has || !req.values.includes(labels[req.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  return selector.requirements.every((req) => matchesRequirement(req, labels));
}
