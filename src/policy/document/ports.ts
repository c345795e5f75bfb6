// The port entries of a rule as users write them (`tcp/80`, `udp/53`, `tcp/8000-8080`, `icmp/8`,
// `tcp/any`, `any`) parsed into the model's PortRange. Pure; used by both document formats.

import type { PortProto, PortRange } from '../../model/policy.js';

export type PortParse = { ok: true; range: PortRange } | { ok: false; message: string; hint?: string };

const PROTOS: readonly PortProto[] = ['tcp', 'udp', 'sctp', 'icmp', 'icmpv6'];

/** Highest port number, or highest ICMP type for icmp and icmpv6. */
function limitOf(proto: PortProto): number {
  return proto === 'icmp' || proto === 'icmpv6' ? 255 : 65535;
}

function parseNumber(text: string): number | undefined {
  return /^[0-9]{1,5}$/.test(text) ? Number(text) : undefined;
}

export function parsePort(written: string): PortParse {
  const text = written.trim().toLowerCase();
  if (text === 'any') return { ok: true, range: { proto: 'any' } };
  if (/^[0-9]+(-[0-9]+)?$/.test(text)) {
    return { ok: false, message: `port "${written}" has no protocol`, hint: `write tcp/${text} or udp/${text}` };
  }
  const slash = text.indexOf('/');
  const protoText = slash < 0 ? text : text.slice(0, slash);
  const proto = PROTOS.find((p) => p === protoText);
  if (proto === undefined) {
    return {
      ok: false,
      message: `unknown protocol "${protoText}" in port "${written}"`,
      hint: `use one of ${PROTOS.join(', ')} or any`,
    };
  }
  if (slash < 0) return { ok: true, range: { proto } };
  const rest = text.slice(slash + 1);
  if (rest === 'any') return { ok: true, range: { proto } };
  const what = proto === 'icmp' || proto === 'icmpv6' ? 'ICMP type' : 'port';
  const limit = limitOf(proto);
  const low = proto === 'icmp' || proto === 'icmpv6' ? 0 : 1;
  const dash = rest.indexOf('-');
  const first = parseNumber(dash < 0 ? rest : rest.slice(0, dash));
  const last = dash < 0 ? first : parseNumber(rest.slice(dash + 1));
  if (first === undefined || last === undefined) {
    return { ok: false, message: `bad ${what} "${rest}" in "${written}"`, hint: `write ${proto}/N, ${proto}/N-M or ${proto}/any` };
  }
  for (const n of [first, last]) {
    if (n < low || n > limit) return { ok: false, message: `${what} ${n} in "${written}" is outside ${low}-${limit}` };
  }
  if (first > last) return { ok: false, message: `${what} range "${rest}" in "${written}" runs backwards` };
  return { ok: true, range: { proto, first, last } };
}
