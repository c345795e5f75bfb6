// Text of one policy file → Draft: YAML parsing with positions, then per document the format is
// told from apiVersion/kind, the schema applied, and the document read by its format. Pure; the
// file system is load.ts's business.
//
// Diagnostic codes of policy documents (stable; tests and tools key on them):
//   yaml-syntax          the YAML (or JSON) itself is malformed
//   unreadable           a path given to loadPolicy cannot be read
//   no-documents         a directory given to loadPolicy holds no policy file (warning)
//   unknown-api-version  apiVersion missing or neither palisade.dev/v1 nor v1
//   unknown-kind         kind missing or not Policy, Group or Rule
//   schema               a value has the wrong type or shape, or a required field is missing
//   unknown-field        a field the format does not define (with did-you-mean)
//   unknown-group        a rule names a group defined nowhere (with did-you-mean)
//   duplicate-group      a group name defined twice (points at the first too)
//   duplicate-id         a rule id used twice (points at the first too)
//   reserved-group       a user definition of any, workloads, nodes or external
//   conflicting-mode     two documents set different default modes
//   bad-port             a port entry that does not parse or is out of range
//   bad-selector         a label expression or label map entry that does not parse
//   bad-address          an address that is not an IP, CIDR or range (warning: CIDR host bits)
//   bad-fqdn             an fqdn that is not a DNS name or *.suffix
//   bad-target           a compact rule without exactly one of toTarget and fromTarget
//   unknown-application  an application name the protocol registry does not know
//   empty-group          a group without selectors (warning: it matches nothing)

import { LineCounter, parseAllDocuments, visit, type Document } from 'yaml';
import type { Policy, SourcePos } from '../../model/policy.js';
import { suggestion, type Diagnostic } from '../diagnostics.js';
import { applicationCatalog, type ApplicationCatalog } from './applications.js';
import { assemble, emptyDraft, type Draft } from './assemble.js';
import { COMPACT_API_VERSION, readCompactDocument } from './compact.js';
import { isFields, type Fields } from './fields.js';
import { PALISADE_API_VERSION, PALISADE_KINDS, readPalisadeDocument, type PalisadeKind } from './palisade.js';
import { validateAgainstSchema, type SchemaDefinition } from './schema.js';
import { diagnosticAt, valuePos, type SourceDoc } from './source.js';

export interface ParseOptions {
  /** Application names rules may use; the DPI protocol registry when absent. */
  knownApplications?: readonly string[];
}

// Bounds the expansion of YAML aliases, so a small hostile file cannot become a huge value.
const MAX_ALIAS_COUNT = 100;

const API_VERSIONS = [PALISADE_API_VERSION, COMPACT_API_VERSION];

type Format = PalisadeKind | 'compact';

const DEFINITION: Record<Format, SchemaDefinition> = {
  Policy: 'policyDocument',
  Group: 'groupDocument',
  Rule: 'ruleDocument',
  compact: 'compactDocument',
};

/** Tells the format of a document, or reports why it has none we know. */
function formatOf(src: SourceDoc, doc: Fields, draft: Draft): Format | undefined {
  const apiVersion = doc['apiVersion'];
  const kind = doc['kind'];
  const fail = (code: string, segs: string[], message: string, hint?: string): undefined => {
    draft.diagnostics.push(diagnosticAt(valuePos(src, segs), code, message, hint));
    return undefined;
  };
  if (apiVersion === undefined) {
    return fail('unknown-api-version', [], 'missing apiVersion', `use ${PALISADE_API_VERSION}, or v1 for the compact format`);
  }
  if (apiVersion === COMPACT_API_VERSION) {
    if (kind === undefined) return 'compact';
    return fail('unknown-kind', ['kind'], `kind "${String(kind)}" of apiVersion v1 is not a policy document`, `use apiVersion ${PALISADE_API_VERSION}`);
  }
  if (apiVersion !== PALISADE_API_VERSION) {
    return fail(
      'unknown-api-version',
      ['apiVersion'],
      `unknown apiVersion "${String(apiVersion)}"`,
      suggestion(String(apiVersion), API_VERSIONS) ?? `use ${PALISADE_API_VERSION}, or v1 for the compact format`,
    );
  }
  if (kind === undefined) return fail('unknown-kind', [], 'missing kind', `use one of ${PALISADE_KINDS.join(', ')}`);
  const known = PALISADE_KINDS.find((k) => k === kind);
  if (known !== undefined) return known;
  return fail(
    'unknown-kind',
    ['kind'],
    `unknown kind "${String(kind)}"`,
    suggestion(String(kind), PALISADE_KINDS) ?? `use one of ${PALISADE_KINDS.join(', ')}`,
  );
}

function yamlProblems(file: string, doc: Document, draft: Draft): boolean {
  for (const [list, severity] of [[doc.errors, 'error'], [doc.warnings, 'warning']] as const) {
    for (const e of list) {
      const at = e.linePos?.[0] ?? { line: 1, col: 1 };
      const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      draft.diagnostics.push({ code: 'yaml-syntax', severity, file, line: at.line, col: at.col, path: '', message });
    }
  }
  return doc.errors.length > 0;
}

/** Where the first alias without an anchor before it is, if there is one. */
function unresolvedAliasPos(src: SourceDoc): SourcePos | undefined {
  let offset: number | undefined;
  visit(src.doc, {
    Alias(_, node) {
      if (node.resolve(src.doc) !== undefined) return undefined;
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  if (offset === undefined) return undefined;
  const { line, col } = src.lines.linePos(offset);
  return { file: src.file, line, col, path: '' };
}

function readDocument(src: SourceDoc, draft: Draft, applications: ApplicationCatalog): void {
  let value: unknown;
  try {
    value = src.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // The yaml library throws here only for alias abuse (too many, or a cycle).
    const message = e instanceof Error ? e.message : String(e);
    draft.diagnostics.push(diagnosticAt(unresolvedAliasPos(src) ?? valuePos(src, []), 'yaml-syntax', message));
    return;
  }
  if (value === null || value === undefined) return;
  if (!isFields(value)) {
    draft.diagnostics.push(diagnosticAt(valuePos(src, []), 'schema', 'a policy document must be a map'));
    return;
  }
  const format = formatOf(src, value, draft);
  if (format === undefined) return;
  const { diagnostics, failed } = validateAgainstSchema(src, value, DEFINITION[format]);
  draft.diagnostics.push(...diagnostics);
  const ctx = { src, diagnostics: draft.diagnostics, failed, applications };
  if (format === 'compact') readCompactDocument(ctx, draft, value);
  else readPalisadeDocument(ctx, draft, format, value);
}

/** Reads every document of one file's text into a Draft, reporting every problem found. */
export function readPolicyText(text: string, file: string, applications: ApplicationCatalog): Draft {
  const draft = emptyDraft();
  const lines = new LineCounter();
  for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: true })) {
    if (yamlProblems(file, doc, draft)) continue;
    readDocument({ file, doc, lines }, draft, applications);
  }
  return draft;
}

/** Parses the text of one policy file (any number of documents, either format) into a Policy. */
export function parsePolicyText(text: string, file: string, opts?: ParseOptions): { policy: Policy; diagnostics: Diagnostic[] } {
  return assemble([readPolicyText(text, file, applicationCatalog(opts?.knownApplications))]);
}
