// Diagnostics as SARIF 2.1.0, the format code-scanning tools (GitHub, GitLab, IDEs) read, so
// `palisade policy check --format sarif` findings show up on the lines of the policy files they
// are about. One run, one rule per code, artifact URIs relative to a base directory.

import { relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, Severity } from './diagnostics.js';
import { LINT_CODES } from './lint/lint.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const SRCROOT = '%SRCROOT%';

/** Codes of loading (policy documents and inventory files), as their loaders document them. */
const LOAD_CODES: readonly { code: string; summary: string }[] = [
  { code: 'yaml-syntax', summary: 'The YAML or JSON itself is malformed.' },
  { code: 'unreadable', summary: 'A file or directory cannot be read.' },
  { code: 'no-documents', summary: 'A directory holds no policy file.' },
  { code: 'unknown-api-version', summary: 'apiVersion is missing or not one Palisade reads.' },
  { code: 'unknown-kind', summary: 'kind is missing or not Policy, Group or Rule.' },
  { code: 'schema', summary: 'A value has the wrong type or shape, or a required field is missing.' },
  { code: 'unknown-field', summary: 'A field the format does not define.' },
  { code: 'unknown-group', summary: 'A rule names a group defined nowhere.' },
  { code: 'duplicate-group', summary: 'A group name is defined twice.' },
  { code: 'duplicate-id', summary: 'A rule id is used twice.' },
  { code: 'reserved-group', summary: 'A definition of a reserved group (any, workloads, nodes, external).' },
  { code: 'conflicting-mode', summary: 'Two documents set different default modes.' },
  { code: 'bad-port', summary: 'A port entry does not parse or is out of range.' },
  { code: 'bad-selector', summary: 'A label expression does not parse.' },
  { code: 'bad-address', summary: 'An address is not an IP, CIDR or range.' },
  { code: 'bad-fqdn', summary: 'An fqdn is not a DNS name or *.suffix.' },
  { code: 'bad-target', summary: 'A compact rule without exactly one of toTarget and fromTarget.' },
  { code: 'unknown-application', summary: 'An application name the protocol registry does not know.' },
  { code: 'empty-group', summary: 'A group without selectors matches nothing.' },
  { code: 'unknown-format', summary: 'An inventory file in neither Palisade\'s format nor kubectl\'s JSON.' },
  { code: 'bad-time', summary: 'A lease time that is not ISO 8601 with a zone, or ends before it starts.' },
  { code: 'duplicate-workload', summary: 'Two workloads of the inventory share one id.' },
  { code: 'address-conflict', summary: 'One address is held by two workloads at the same time.' },
];

export type SarifLevel = 'error' | 'warning' | 'note';

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

export interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  defaultConfiguration: { level: SarifLevel };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId: string };
      region: { startLine: number; startColumn: number };
    };
    logicalLocations?: { fullyQualifiedName: string }[];
  }[];
}

export interface SarifRun {
  tool: { driver: { name: string; version: string; informationUri: string; rules: SarifRule[] } };
  originalUriBaseIds: Record<string, { uri: string }>;
  results: SarifResult[];
}

const LEVEL: Record<Severity, SarifLevel> = { error: 'error', warning: 'warning', info: 'note' };

/** `shadowed-rule` → `ShadowedRule`: SARIF's readable rule name. */
function pascal(code: string): string {
  return code.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
}

/** The path from the base directory, with forward slashes and each segment URI-escaped. */
function artifactUri(file: string, baseDir: string): string {
  return relative(baseDir, file).split(sep).map(encodeURIComponent).join('/');
}

export interface SarifOptions {
  /** Artifact URIs are relative to this directory (the %SRCROOT% base). */
  baseDir: string;
  version: string;
}

export function toSarif(diagnostics: readonly Diagnostic[], opts: SarifOptions): SarifLog {
  const rules: SarifRule[] = [
    ...LINT_CODES.map((c) => ({ id: c.code, name: pascal(c.code), shortDescription: { text: c.summary }, defaultConfiguration: { level: LEVEL[c.severity] } })),
    ...LOAD_CODES.map((c) => ({ id: c.code, name: pascal(c.code), shortDescription: { text: c.summary }, defaultConfiguration: { level: 'error' as const } })),
  ];
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results: SarifResult[] = diagnostics.map((d) => {
    let ruleIndex = index.get(d.code);
    if (ruleIndex === undefined) {
      // A code added by a loader after this table was written still gets a rule of its own.
      ruleIndex = rules.push({ id: d.code, name: pascal(d.code), shortDescription: { text: d.code }, defaultConfiguration: { level: LEVEL[d.severity] } }) - 1;
      index.set(d.code, ruleIndex);
    }
    const text = d.hint === undefined ? d.message : `${d.message} (${d.hint})`;
    const result: SarifResult = { ruleId: d.code, ruleIndex, level: LEVEL[d.severity], message: { text }, locations: [] };
    if (d.file !== '') {
      const location: SarifResult['locations'][number] = {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(d.file, opts.baseDir), uriBaseId: SRCROOT },
          region: { startLine: Math.max(1, d.line), startColumn: Math.max(1, d.col) },
        },
      };
      if (d.path !== '') location.logicalLocations = [{ fullyQualifiedName: d.path }];
      result.locations.push(location);
    }
    return result;
  });
  const base = pathToFileURL(opts.baseDir).href;
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'palisade', version: opts.version, informationUri: 'https://palisade.dev/', rules } },
        originalUriBaseIds: { [SRCROOT]: { uri: base.endsWith('/') ? base : `${base}/` } },
        results,
      },
    ],
  };
}
