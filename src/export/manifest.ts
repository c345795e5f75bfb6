// The objects every writer produces and how they are written out: one YAML stream, or one file per
// object in a directory. Kept apart from the writers so each writer is only about its target.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** Marks what Palisade wrote, so a cluster operator can find (and prune) it. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'palisade' };

/** `Kind namespace/name` or `Kind name` for cluster-scoped objects. */
export function describeManifest(m: Manifest): string {
  return m.metadata.namespace === undefined ? `${m.kind} ${m.metadata.name}` : `${m.kind} ${m.metadata.namespace}/${m.metadata.name}`;
}

/** A multi-document YAML stream, objects in the order given. */
export function manifestsToYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => `---\n${stringify(m, { lineWidth: 0 })}`).join('');
}

/** One file per object, `<kind>-<namespace>-<name>.yaml`, lower case; returns the paths written. */
export function writeManifestDir(dir: string, manifests: readonly Manifest[]): string[] {
  mkdirSync(dir, { recursive: true });
  return manifests.map((m) => {
    const name = [m.kind, m.metadata.namespace, m.metadata.name].filter((p) => p !== undefined).join('-').toLowerCase();
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, stringify(m, { lineWidth: 0 }));
    return path;
  });
}

/** A Kubernetes object name (DNS-1123 subdomain) from free text, never empty, at most 253 characters. */
export function objectName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253)
    .replace(/[^a-z0-9]+$/g, '');
  return name === '' ? 'unnamed' : name;
}

/** Names made unique by a numeric suffix, in the order asked. */
export function uniqueNames(): (name: string) => string {
  const used = new Set<string>();
  return (name) => {
    let out = name;
    for (let i = 2; used.has(out); i++) out = `${name}-${i}`;
    used.add(out);
    return out;
  };
}
