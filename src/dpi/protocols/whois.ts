// WHOIS (RFC 3912, port 43): the client sends one query line (a domain, address, AS number or
// handle, optionally after server flags) and the server answers with text and closes. The query
// alone is too plain to prove anything, so the probe also wants the answer's shape: "%"/"#"
// comment lines or the "key: value" records registries and RIRs publish.

import { line } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MAX_QUERY = 256;
/** The object asked for: a domain or handle (dot-separated labels), an address or prefix. */
const OBJECT = /^(?:[A-Za-z0-9_-]+\.)*[A-Za-z0-9_-]+(?:\/\d{1,3})?$|^[0-9A-Fa-f:]+(?:\/\d{1,3})?$/;
/** Words before it: server flags and their arguments ("-B", "-T inetnum", "n", "+", "="). */
const FLAG_WORD = /^[-+=]?[A-Za-z0-9,]*$/;
/** Record keys of domain registries, IANA and the RIRs. */
const RECORD = /^(?:Domain Name|domain|refer|inetnum|inet6num|NetRange|CIDR|aut-num|ASNumber|Registrar|whois|organisation|person|route|nic-hdl)\s*:/im;

/** The single query line, 'need-more' while it is open, undefined when this is not one. */
function query(b: Buffer): string | 'need-more' | undefined {
  const text = line(b, 0, MAX_QUERY);
  if (text === undefined) return b.length < MAX_QUERY && /^[ -~]*$/.test(b.toString('latin1')) ? 'need-more' : undefined;
  // Exactly one CRLF-terminated line: the client says nothing more.
  if (b.length !== text.length + 2 || b[text.length] !== 0x0d) return undefined;
  // Split rather than one regex over the whole line: a nested pattern would backtrack exponentially.
  const words = text.split(' ');
  const object = words.pop() ?? '';
  return OBJECT.test(object) && words.length <= 8 && words.every((w) => w.length > 0 && FLAG_WORD.test(w)) ? text : undefined;
}

function answerLooksRight(b: Buffer): ProbeResult {
  const head = b.toString('latin1', 0, Math.min(b.length, 2048));
  if (!/^[\t\r\n -~\u00a0-\u00ff]*$/.test(head)) return 'no';
  if (/^[%#]/.test(head) || RECORD.test(head)) return 'match';
  return b.length < 2048 ? 'need-more' : 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const asked = query(dir === 'c2s' ? data : ctx.other);
  if (asked === undefined) return dir === 'c2s' || ctx.other.length > 0 ? 'no' : 'need-more';
  if (asked === 'need-more') return 'need-more';
  const answer = dir === 's2c' ? data : ctx.other;
  if (answer.length === 0) return 'need-more';
  return answerLooksRight(answer);
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir === 'c2s') {
    const q = query(data);
    if (q === 'need-more') return true;
    if (q !== undefined) meta.whoisQuery = q.split(' ').pop();
    return false;
  }
  // A thin registry answer points at the registrar's server ("refer:" or "Registrar WHOIS Server:").
  const referral = /^(?:refer|whois|Registrar WHOIS Server)\s*:\s*(\S+)/im.exec(data.toString('latin1', 0, Math.min(data.length, 4096)))?.[1];
  if (referral !== undefined) meta.whoisReferral = referral;
  return referral === undefined && data.length < 4096;
}

export const whois: ProtocolModule = {
  name: 'WHOIS',
  transports: ['tcp'],
  ports: [43],
  probe,
  extract,
};
