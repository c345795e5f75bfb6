// SSH (RFC 4253 section 4.2): both sides open with an identification line
// "SSH-protoversion-softwareversion SP comments CR LF". The extractor records each side's line.

import { line, literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** The identification line is at most 255 characters including CR LF. */
const MAX_LINE = 255;

function probe(data: Buffer): ProbeResult {
  const start = literal(data, 'SSH-');
  if (start !== 'match') return start;
  // protoversion is "2.0", or "1.99"/"1.5" from old peers, followed by "-".
  for (const v of ['2.0-', '1.99-', '1.5-']) {
    const r = literal(data, v, 4);
    if (r !== 'no') return r;
  }
  return 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const id = line(data, 0, MAX_LINE);
  if (id === undefined) return data.length < MAX_LINE;
  if (id.startsWith('SSH-')) {
    if (dir === 'c2s') meta.sshClient = id;
    else meta.sshServer = id;
  }
  return false;
}

export const ssh: ProtocolModule = {
  name: 'SSH',
  transports: ['tcp'],
  ports: [22, 2222],
  // Both sides open with their identification string, "SSH-".
  firstBytes: { c2s: [0x53], s2c: [0x53] },
  probe,
  extract,
};
