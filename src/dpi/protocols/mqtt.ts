// MQTT 3.1, 3.1.1 and 5.0: the client opens with CONNECT (protocol name "MQTT" or "MQIsdp",
// level 3/4/5, connect flags, keep-alive, client id); the server answers CONNACK. The extractor
// reads the client id, and the topics of the SUBSCRIBE and PUBLISH packets that follow.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const CONNECT = 0x10;
const CONNACK = 0x20;
const PUBLISH = 3;
const SUBSCRIBE = 0x82;
/** Topics kept per flow; more would let a client grow the metadata without bound. */
const MAX_TOPICS = 16;

/** The variable-length "remaining length" (1-4 bytes, 7 bits each) at `at`. */
function remainingLength(b: Buffer, at: number): { value: number; next: number } | 'need-more' | undefined {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const c = b[at + i];
    if (c === undefined) return 'need-more';
    value += (c & 0x7f) * 128 ** i;
    if ((c & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

/** A UTF-8 string with a u16 length prefix. */
function mqttString(b: Buffer, at: number): { text: string; next: number } | undefined {
  if (at + 2 > b.length) return undefined;
  const len = b.readUInt16BE(at);
  if (at + 2 + len > b.length) return undefined;
  return { text: b.toString('utf8', at + 2, at + 2 + len), next: at + 2 + len };
}

interface Connect {
  level: number;
  clientId?: string;
}

function parseConnect(b: Buffer): Connect | 'need-more' | undefined {
  if (b.length === 0) return 'need-more';
  if (b[0] !== CONNECT) return undefined;
  const rl = remainingLength(b, 1);
  if (rl === 'need-more') return 'need-more';
  if (rl === undefined || rl.value < 10 || rl.value > 65536) return undefined;
  const at = rl.next;
  if (b.length < at + 2) return 'need-more';
  const nameLength = b.readUInt16BE(at);
  if (nameLength !== 4 && nameLength !== 6) return undefined;
  if (b.length < at + 2 + nameLength + 4) return 'need-more';
  const name = b.toString('latin1', at + 2, at + 2 + nameLength);
  const level = b[at + 2 + nameLength] as number;
  const flags = b[at + 3 + nameLength] as number;
  const valid = (name === 'MQTT' && (level === 4 || level === 5)) || (name === 'MQIsdp' && level === 3);
  // Bit 0 of the connect flags is reserved and must be 0; a Will QoS of 3 is invalid.
  if (!valid || (flags & 0x01) !== 0 || (flags & 0x18) === 0x18) return undefined;
  let next = at + 6 + nameLength;
  if (level === 5) {
    const props = remainingLength(b, next);
    if (props === 'need-more') return { level };
    if (props === undefined) return undefined;
    next = props.next + props.value;
  }
  const id = mqttString(b, next);
  return id === undefined ? { level } : { level, clientId: id.text };
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  if (dir === 'c2s') {
    const c = parseConnect(data);
    return c === 'need-more' ? 'need-more' : c === undefined ? 'no' : 'match';
  }
  // CONNACK: remaining length 2 (3.x) or more (5.0 properties), session-present flag 0 or 1.
  if (data.length < 4) return data.length === 0 || data[0] === CONNACK ? 'need-more' : 'no';
  if (data[0] !== CONNACK || (data[2] as number) > 1) return 'no';
  const connect = parseConnect(ctx.other);
  if (connect === 'need-more' || connect === undefined) return connect === 'need-more' && data[1] === 2 ? 'need-more' : 'no';
  const code = data[3] as number;
  if (connect.level === 5) return (data[1] as number) >= 3 && (code === 0 || code >= 0x80) ? 'match' : 'no';
  return data[1] === 2 && code <= 5 ? 'match' : 'no';
}

/** Topics named by SUBSCRIBE and PUBLISH packets in the client's stream, after CONNECT. */
function topics(b: Buffer, level: number): string[] {
  const out: string[] = [];
  let at = 0;
  for (let n = 0; n < 64 && at < b.length && out.length < MAX_TOPICS; n++) {
    const type = b[at] as number;
    const rl = remainingLength(b, at + 1);
    if (rl === 'need-more' || rl === undefined) break;
    const end = Math.min(rl.next + rl.value, b.length);
    if (type >> 4 === PUBLISH) {
      const topic = mqttString(b, rl.next);
      if (topic !== undefined && topic.next <= end) out.push(topic.text);
    } else if (type === SUBSCRIBE) {
      let i = rl.next + 2;
      if (level === 5) {
        const props = remainingLength(b, i);
        i = props === 'need-more' || props === undefined ? end : props.next + props.value;
      }
      while (i < end && out.length < MAX_TOPICS) {
        const filter = mqttString(b, i);
        if (filter === undefined || filter.next >= end) break;
        out.push(filter.text);
        i = filter.next + 1;
      }
    }
    at = rl.next + rl.value;
  }
  return out;
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const c = parseConnect(data);
  if (c === 'need-more') return true;
  if (c === undefined) return false;
  meta.mqttVersion = c.level === 5 ? '5.0' : c.level === 4 ? '3.1.1' : '3.1';
  if (c.clientId !== undefined) meta.mqttClientId = c.clientId;
  const rl = remainingLength(data, 1);
  if (rl === 'need-more' || rl === undefined) return true;
  const found = topics(data.subarray(rl.next + rl.value), c.level);
  if (found.length > 0) meta.mqttTopics = [...new Set(found)];
  // Keep reading while the stream is short enough that later packets may still name topics.
  return found.length < MAX_TOPICS && data.length < 4096;
}

export const mqtt: ProtocolModule = {
  name: 'MQTT',
  transports: ['tcp'],
  ports: [1883, 8883],
  // The server's first packet is CONNACK.
  firstBytes: { s2c: [CONNACK] },
  probe,
  extract,
};
