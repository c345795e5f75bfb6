// NATS client protocol: the server speaks first with "INFO {json}", the client answers
// "CONNECT {json}" and then PUB/SUB/PING lines. The extractor reads the server's version and the
// client's name, language and library version from those JSON objects.

import { line, literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** INFO and CONNECT objects are small; the server's max_control_line defaults to 4 KB. */
const MAX_LINE = 4096;

/** The JSON object of an "<op> {json}" control line; 'need-more' while the line is open. */
function controlObject(b: Buffer, op: string): Record<string, unknown> | 'need-more' | undefined {
  const start = literal(b, `${op} `, 0, true);
  if (start !== 'match') return start === 'need-more' ? 'need-more' : undefined;
  const text = line(b, 0, MAX_LINE);
  if (text === undefined) return b.length < MAX_LINE && (b.length === op.length + 1 || b[op.length + 1] === 0x7b) ? 'need-more' : undefined;
  const json = text.slice(op.length + 1).trim();
  if (!json.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (dir === 's2c') {
    const info = controlObject(data, 'INFO');
    if (info === 'need-more') return 'need-more';
    return info !== undefined && typeof info.server_id === 'string' ? 'match' : 'no';
  }
  const connect = controlObject(data, 'CONNECT');
  if (connect === 'need-more') return 'need-more';
  if (connect === undefined) return 'no';
  // CONNECT's fields: verbose and pedantic are required by the protocol, lang/version are sent by every client.
  return ['verbose', 'pedantic', 'lang', 'version', 'protocol'].some((k) => k in connect) ? 'match' : 'no';
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const object = controlObject(data, dir === 's2c' ? 'INFO' : 'CONNECT');
  if (object === 'need-more') return true;
  if (object === undefined) return false;
  if (dir === 's2c') {
    const version = text(object.version);
    if (version !== undefined) meta.natsServerVersion = version;
    return false;
  }
  const name = text(object.name);
  const lang = text(object.lang);
  const version = text(object.version);
  if (name !== undefined) meta.natsClientName = name;
  if (lang !== undefined) meta.natsClientLang = lang;
  if (version !== undefined) meta.natsClientVersion = version;
  return false;
}

export const nats: ProtocolModule = {
  name: 'NATS',
  transports: ['tcp'],
  ports: [4222],
  // The server opens with INFO, the client with CONNECT, in either case.
  firstBytes: { c2s: [0x43, 0x63], s2c: [0x49, 0x69] },
  probe,
  extract,
};
