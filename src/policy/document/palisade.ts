// Palisade's own documents, shaped like Kubernetes objects so the same YAML can be a CRD:
// `apiVersion: palisade.dev/v1`, `kind: Policy | Group | Rule`, `metadata`, `spec`. A Policy
// carries the default mode and any number of groups and rules; a Group or Rule document carries
// one, named by metadata.name. Each becomes part of a Draft.

import { MODES, type SourcePos } from '../../model/policy.js';
import type { Draft } from './assemble.js';
import { failedWithin, isFields, readGroup, readRefs, readRule, type Fields, type ReadContext } from './fields.js';
import { entryPos, valuePos, type PathSeg } from './source.js';

export type PalisadeKind = 'Policy' | 'Group' | 'Rule';
export const PALISADE_API_VERSION = 'palisade.dev/v1';
export const PALISADE_KINDS: readonly PalisadeKind[] = ['Policy', 'Group', 'Rule'];

function readRuleAt(ctx: ReadContext, draft: Draft, id: string, body: Fields, segs: PathSeg[], idSegs: PathSeg[], pos: SourcePos): void {
  const ends = { from: readRefs(ctx, body, 'from', segs), to: readRefs(ctx, body, 'to', segs) };
  const rule = failedWithin(ctx, idSegs) ? undefined : readRule(ctx, id, ends, body, segs, pos);
  draft.rules.push({ rule, id, pos, refs: [...ends.from, ...ends.to] });
}

function readPolicy(ctx: ReadContext, draft: Draft, spec: unknown): void {
  if (!isFields(spec)) return;
  const mode = MODES.find((m) => m === spec['mode']);
  if (mode !== undefined) draft.modes.push({ mode, pos: valuePos(ctx.src, ['spec', 'mode']) });
  const groups = spec['groups'];
  if (Array.isArray(groups)) {
    groups.forEach((item, i) => {
      const segs = ['spec', 'groups', i];
      if (!isFields(item) || typeof item['name'] !== 'string') return;
      const pos = entryPos(ctx.src, segs);
      draft.groups.push({ group: readGroup(ctx, item['name'], pos, item, segs), pos });
    });
  }
  const rules = spec['rules'];
  if (Array.isArray(rules)) {
    rules.forEach((item, i) => {
      const segs = ['spec', 'rules', i];
      if (!isFields(item) || typeof item['id'] !== 'string') return;
      readRuleAt(ctx, draft, item['id'], item, segs, [...segs, 'id'], entryPos(ctx.src, segs));
    });
  }
}

/** Reads one document of a Palisade kind; the schema has already been applied. */
export function readPalisadeDocument(ctx: ReadContext, draft: Draft, kind: PalisadeKind, doc: Fields): void {
  if (kind === 'Policy') {
    readPolicy(ctx, draft, doc['spec']);
    return;
  }
  const metadata = doc['metadata'];
  const name = isFields(metadata) ? metadata['name'] : undefined;
  const nameSegs = ['metadata', 'name'];
  if (typeof name !== 'string') return;
  const spec = doc['spec'];
  if (kind === 'Group') {
    const pos = valuePos(ctx.src, nameSegs);
    draft.groups.push({ group: readGroup(ctx, name, pos, spec, ['spec']), pos });
    return;
  }
  readRuleAt(ctx, draft, name, isFields(spec) ? spec : {}, ['spec'], nameSegs, valuePos(ctx.src, nameSegs));
}
