// rsync daemon protocol (rsyncd, port 873): both sides open with a greeting line
// "@RSYNCD: <protocol>[.<sub>] [digests]\n"; the client then names the module it wants.
// The extractor records each side's protocol version and the requested module.

import { line, literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const GREETING = '@RSYNCD: ';

function version(b: Buffer): string | 'need-more' | undefined {
  const start = literal(b, GREETING);
  if (start !== 'match') return start === 'need-more' ? 'need-more' : undefined;
  const text = line(b, 0, 256);
  if (text === undefined) return b.length < 256 ? 'need-more' : undefined;
  const m = /^@RSYNCD: (\d{2}(?:\.\d+)?)(?: [ -~]*)?$/.exec(text);
  return m?.[1];
}

function probe(data: Buffer): ProbeResult {
  const v = version(data);
  return v === 'need-more' ? 'need-more' : v === undefined ? 'no' : 'match';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const v = version(data);
  if (v === 'need-more') return true;
  if (v === undefined) return false;
  meta[dir === 'c2s' ? 'rsyncClientVersion' : 'rsyncServerVersion'] = v;
  if (dir === 's2c') return false;
  // The client's second line is the module name ("" or "#list" asks for the module list).
  const first = data.indexOf(0x0a);
  const module = line(data, first + 1, 256);
  if (module === undefined) return data.length < 512;
  meta.rsyncModule = module;
  return false;
}

export const rsync: ProtocolModule = {
  name: 'rsync',
  transports: ['tcp'],
  ports: [873],
  // Both sides open with the "@RSYNCD: " greeting.
  firstBytes: { c2s: [0x40], s2c: [0x40] },
  probe,
  extract,
};
