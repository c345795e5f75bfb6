// Every manifest a writer produced is checked against its API schema before anything is written:
// the kubernetes-models packages for the core, Cilium and Istio types, our own JSON Schemas
// (schema/crd, from the CRDs' published OpenAPI) for Calico and NeuVector. A failure is a writer
// bug, reported with the object's name and every schema error.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy } from '@kubernetes-models/cilium/cilium.io/v2';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1';
import { Ajv, type ValidateFunction } from 'ajv';
import { describeManifest, type Manifest } from './manifest.js';

type ModelCheck = (m: Manifest) => void;

const MODELS: Record<string, ModelCheck> = {
  'networking.k8s.io/v1 NetworkPolicy': (m) => new NetworkPolicy(m as never).validate(),
  'cilium.io/v2 CiliumNetworkPolicy': (m) => new CiliumNetworkPolicy(m as never).validate(),
  'cilium.io/v2 CiliumClusterwideNetworkPolicy': (m) => new CiliumClusterwideNetworkPolicy(m as never).validate(),
  'security.istio.io/v1 AuthorizationPolicy': (m) => new AuthorizationPolicy(m as never).validate(),
};

/** Our schemas, by apiVersion and kind, compiled on first use. */
const SCHEMA_FILES: Record<string, string> = {
  'projectcalico.org/v3 NetworkPolicy': 'calico-networkpolicy.json',
  'projectcalico.org/v3 GlobalNetworkPolicy': 'calico-networkpolicy.json',
  'neuvector.com/v1 NvSecurityRule': 'neuvector-nvsecurityrule.json',
  'neuvector.com/v1 NvClusterSecurityRule': 'neuvector-nvsecurityrule.json',
};

const compiled = new Map<string, ValidateFunction>();

function schemaCheck(file: string): ModelCheck {
  return (m) => {
    let validate = compiled.get(file);
    if (validate === undefined) {
      const path = fileURLToPath(new URL(`../../schema/crd/${file}`, import.meta.url));
      validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path, 'utf8')) as object);
      compiled.set(file, validate);
    }
    if (!validate(m)) {
      throw new Error((validate.errors ?? []).map((e) => `${e.instancePath === '' ? '(object)' : e.instancePath} ${e.message ?? 'is invalid'}`).join('; '));
    }
  };
}

/** Every problem of every manifest, one line each (`NetworkPolicy shop/x: ...`); empty when all are valid. */
export function validateManifests(manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  for (const m of manifests) {
    const key = `${m.apiVersion} ${m.kind}`;
    const file = SCHEMA_FILES[key];
    const check = MODELS[key] ?? (file !== undefined ? schemaCheck(file) : undefined);
    if (check === undefined) {
      problems.push(`${describeManifest(m)}: no schema for ${key}`);
      continue;
    }
    try {
      check(m);
    } catch (e) {
      problems.push(`${describeManifest(m)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return problems;
}
