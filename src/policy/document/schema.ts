// The published JSON Schema (schema/palisade-policy.schema.json) is the one description of the
// document shape: editors complete from it and the loader validates with it through ajv. Each
// ajv error becomes a Diagnostic at the YAML node it names; semantic checks come later.

import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics.js';
import { suggestion } from '../diagnostics.js';
import { diagnosticAt, entryPos, valuePos, type PathSeg, type SourceDoc } from './source.js';

/** The document kinds the schema defines, by their definition name. */
export type SchemaDefinition = 'policyDocument' | 'groupDocument' | 'ruleDocument' | 'compactDocument';

// Same relative place from src/policy/document and from dist/policy/document.
const SCHEMA_URL = new URL('../../../schema/palisade-policy.schema.json', import.meta.url);

/** The schema as published, parsed. */
export function policySchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
}

/** The ajv options the loader uses; tests compile the published schema with the same ones. */
export function newAjv(): Ajv {
  return new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
}

let compiled: { ajv: Ajv; id: string } | undefined;

function validatorFor(definition: SchemaDefinition): ValidateFunction {
  if (compiled === undefined) {
    const schema = policySchema();
    const ajv = newAjv();
    ajv.addSchema(schema);
    compiled = { ajv, id: String(schema['$id']) };
  }
  const validate = compiled.ajv.getSchema(`${compiled.id}#/definitions/${definition}`);
  if (validate === undefined) throw new Error(`schema has no definition ${definition}`);
  return validate;
}

/** Splits an ajv instance path into keys and indexes, using the value to tell them apart. */
function pathSegs(value: unknown, instancePath: string): PathSeg[] {
  if (instancePath === '') return [];
  const segs: PathSeg[] = [];
  let at = value;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(at)) {
      segs.push(Number(key));
      at = at[Number(key)];
    } else {
      segs.push(key);
      at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
    }
  }
  return segs;
}

function typeName(t: unknown): string {
  const names: Record<string, string> = {
    string: 'a string',
    array: 'a list',
    object: 'a map',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
  };
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => names[String(x)] ?? String(x)).join(' or ');
}

function describe(e: ErrorObject): { message: string; hint?: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { message: `missing required field "${String(p['missingProperty'])}"` };
    case 'type':
      return { message: `must be ${typeName(p['type'])}` };
    case 'enum': {
      const allowed = (p['allowedValues'] as unknown[]).map(String);
      const hint = typeof e.data === 'string' ? suggestion(e.data, allowed) : undefined;
      const message = `"${String(e.data)}" is not one of ${allowed.join(', ')}`;
      return hint === undefined ? { message } : { message, hint };
    }
    case 'const':
      return { message: `must be "${String(p['allowedValue'])}"` };
    case 'pattern':
      return {
        message: `"${String(e.data)}" is not a valid name`,
        hint: 'use letters, digits, ".", "_" and "-", starting and ending with a letter or digit',
      };
    case 'minLength':
      return { message: 'must not be empty' };
    case 'minItems':
      return { message: 'must not be an empty list' };
    case 'minProperties':
      return { message: 'must not be empty' };
    default:
      return { message: e.message ?? `fails schema rule ${e.keyword}` };
  }
}

export interface SchemaResult {
  diagnostics: Diagnostic[];
  /** Paths (as segment lists) of the values that failed, so the converter can drop what holds them. */
  failed: PathSeg[][];
}

/** Validates one document's plain value against a definition of the schema. */
export function validateAgainstSchema(src: SourceDoc, value: unknown, definition: SchemaDefinition): SchemaResult {
  const validate = validatorFor(definition);
  if (validate(value)) return { diagnostics: [], failed: [] };
  const diagnostics: Diagnostic[] = [];
  const failed: PathSeg[][] = [];
  for (const e of validate.errors ?? []) {
    const segs = pathSegs(value, e.instancePath);
    if (e.keyword === 'additionalProperties') {
      const field = String((e.params as Record<string, unknown>)['additionalProperty']);
      const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
      const at = [...segs, field];
      failed.push(at);
      diagnostics.push(diagnosticAt(entryPos(src, at), 'unknown-field', `unknown field "${field}"`, suggestion(field, Object.keys(props))));
      continue;
    }
    if (e.propertyName !== undefined) {
      // propertyNames: the key itself is bad, point at it.
      const at = [...segs, e.propertyName];
      failed.push(at);
      const { message, hint } = describe({ ...e, data: e.propertyName });
      diagnostics.push(diagnosticAt(entryPos(src, at), 'schema', message, hint));
      continue;
    }
    if (e.keyword === 'propertyNames') continue;
    failed.push(segs);
    const { message, hint } = describe(e);
    diagnostics.push(diagnosticAt(valuePos(src, segs), 'schema', message, hint));
  }
  return { diagnostics, failed };
}
