// Where events go, as the operator writes it: the `events` section of the agent's configuration
// (YAML or JSON) becomes typed sink settings here, once, with every mistake reported by field.
//
// API: readEventsConfig(text, source) or parseEventsConfig(value, path) → EventsConfig, throwing
//      EventsConfigError (all errors at once); openSinks(config.sinks) → EventSink[];
//      openEvents(config) → EventPipeline. The section:
//        window: 10s                      # merge window (ms number or 500ms / 10s / 2m / 1h)
//        rateLimit: { perSecond: 20, burst: 100 }
//        maxKeys: 10000                   # aggregation keys tracked at once
//        maxPorts: 64                     # server ports listed per event
//        sinks:
//          - { type: jsonl, path: /var/log/palisade/events.jsonl, maxBytes: 10485760, keep: 5 }
//          - { type: syslog, host: 127.0.0.1, port: 514, transport: udp, facility: local0 }
//          - { type: webhook, url: https://soar.example/hook, batchSize: 10, timeout: 5s,
//              maxAttempts: 5, maxQueue: 1000, headers: { authorization: Bearer ... } }

import { parse as parseYaml } from 'yaml';
import { suggestion } from '../policy/diagnostics.js';
import { DEFAULT_AGGREGATE_OPTIONS, type AggregateOptions } from './aggregate.js';
import { JsonLinesSink, type JsonLinesOptions } from './jsonl-sink.js';
import { EventPipeline, type PipelineOptions } from './pipeline.js';
import type { EventSink } from './sink.js';
import { FACILITIES, type Facility } from './syslog.js';
import { SyslogSink, type SyslogOptions } from './syslog-sink.js';
import { WebhookSink, type WebhookOptions } from './webhook-sink.js';

export type SinkConfig =
  | ({ type: 'jsonl' } & Pick<JsonLinesOptions, 'path'> & Partial<JsonLinesOptions>)
  | ({ type: 'syslog' } & Pick<SyslogOptions, 'host' | 'port' | 'transport'> & Partial<Pick<SyslogOptions, 'facility' | 'appName' | 'maxQueue'>>)
  | ({ type: 'webhook' } & Pick<WebhookOptions, 'url'> &
      Partial<Pick<WebhookOptions, 'batchSize' | 'timeoutMs' | 'maxAttempts' | 'maxQueue' | 'headers'>>);

export interface EventsConfig {
  aggregate: Omit<AggregateOptions, 'clock'>;
  sinks: SinkConfig[];
}

export class EventsConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('\n'));
    this.name = 'EventsConfigError';
  }
}

const SINK_TYPES = ['jsonl', 'syslog', 'webhook'] as const;
const SECTION_FIELDS = ['window', 'rateLimit', 'maxKeys', 'maxPorts', 'sinks'];
const RATE_FIELDS = ['perSecond', 'burst'];
const SINK_FIELDS: Record<SinkConfig['type'], string[]> = {
  jsonl: ['type', 'path', 'maxBytes', 'keep'],
  syslog: ['type', 'host', 'port', 'transport', 'facility', 'appName', 'maxQueue'],
  webhook: ['type', 'url', 'batchSize', 'timeout', 'maxAttempts', 'maxQueue', 'headers'],
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Reads fields off one mapping, recording an error per bad field under its path. */
class Fields {
  constructor(
    private readonly value: Record<string, unknown>,
    private readonly path: string,
    private readonly errors: string[],
  ) {}

  static of(value: unknown, path: string, errors: string[], known: string[]): Fields | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push(`${path}: expected a mapping, got ${describe(value)}`);
      return undefined;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (known.includes(key)) continue;
      const hint = suggestion(key, known);
      errors.push(`${path}.${key}: unknown field${hint ? ` (${hint})` : `; known: ${known.join(', ')}`}`);
    }
    return new Fields(record, path, errors);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.value[key];
  }

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  error(key: string, message: string): undefined {
    this.errors.push(`${this.at(key)}: ${message}`);
    return undefined;
  }

  string(key: string, required: boolean): string | undefined {
    const v = this.value[key];
    if (v === undefined) return required ? this.error(key, 'required') : undefined;
    if (typeof v !== 'string' || v === '') return this.error(key, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  integer(key: string, min: number, max: number, required = false): number | undefined {
    const v = this.value[key];
    if (v === undefined) return required ? this.error(key, 'required') : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return this.error(key, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
    }
    return v;
  }

  number(key: string, min: number, max: number): number | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return this.error(key, `expected a number from ${min} to ${max}, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
    const hint = typeof v === 'string' ? suggestion(v, choices) : undefined;
    return this.error(key, `expected one of ${choices.join(', ')}, got ${describe(v)}${hint ? ` (${hint})` : ''}`);
  }

  /** Milliseconds: a number, or a number with a unit (ms, s, m, h). */
  duration(key: string, min: number, max: number): number | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(v) : null;
    const ms = typeof v === 'number' ? v : m ? Number(m[1]) * (DURATION_UNITS[m[2] as string] as number) : NaN;
    if (!Number.isFinite(ms) || ms < min || ms > max) {
      return this.error(key, `expected a duration from ${min}ms to ${max}ms (a number of ms, or like 500ms, 10s, 2m), got ${describe(v)}`);
    }
    return ms;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

const MAX_QUEUE = 1_000_000;
const DAY_MS = 86_400_000;

function sinkConfig(value: unknown, path: string, errors: string[]): SinkConfig | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: expected a mapping with a type, got ${describe(value)}`);
    return undefined;
  }
  const type = (value as Record<string, unknown>).type;
  const kind = SINK_TYPES.find((t) => t === type);
  if (kind === undefined) {
    const hint = typeof type === 'string' ? suggestion(type, SINK_TYPES) : undefined;
    const what = type === undefined ? 'required' : `unknown sink type ${describe(type)}`;
    errors.push(`${path}.type: ${what}, one of ${SINK_TYPES.join(', ')}${hint ? ` (${hint})` : ''}`);
    return undefined;
  }
  const f = Fields.of(value, path, errors, SINK_FIELDS[kind]) as Fields;
  const before = errors.length;
  let sink: SinkConfig | undefined;
  if (kind === 'jsonl') {
    const file = f.string('path', true);
    const maxBytes = f.integer('maxBytes', 0, Number.MAX_SAFE_INTEGER);
    const keep = f.integer('keep', 0, 1000);
    if (file !== undefined) sink = { type: 'jsonl', path: file, ...defined({ maxBytes, keep }) };
  } else if (kind === 'syslog') {
    const host = f.string('host', true);
    const port = f.integer('port', 1, 65535, true);
    const transport = f.oneOf('transport', ['udp', 'tcp'] as const) ?? 'udp';
    const facility = f.oneOf('facility', Object.keys(FACILITIES) as Facility[]);
    const appName = f.string('appName', false);
    const maxQueue = f.integer('maxQueue', 1, MAX_QUEUE);
    if (host !== undefined && port !== undefined) sink = { type: 'syslog', host, port, transport, ...defined({ facility, appName, maxQueue }) };
  } else {
    const url = f.string('url', true);
    if (url !== undefined && !isHttpUrl(url)) f.error('url', `expected an http:// or https:// URL, got ${describe(url)}`);
    const batchSize = f.integer('batchSize', 1, 10_000);
    const timeoutMs = f.duration('timeout', 1, DAY_MS);
    const maxAttempts = f.integer('maxAttempts', 1, 100);
    const maxQueue = f.integer('maxQueue', 1, MAX_QUEUE);
    const headers = stringMap(f, 'headers');
    if (url !== undefined) sink = { type: 'webhook', url, ...defined({ batchSize, timeoutMs, maxAttempts, maxQueue, headers }) };
  }
  return errors.length === before ? sink : undefined;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function stringMap(f: Fields, key: string): Record<string, string> | undefined {
  const v = f.raw(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return f.error(key, `expected a mapping of names to strings, got ${describe(v)}`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v)) {
    if (typeof value === 'string') out[name] = value;
    else f.error(`${key}.${name}`, `expected a string, got ${describe(value)}`);
  }
  return out;
}

/** The entries whose value is set, so defaults of the sink apply to the others. */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validates an events section (already parsed from YAML or JSON); `path` prefixes error messages. */
export function parseEventsConfig(value: unknown, path = 'events'): EventsConfig {
  const errors: string[] = [];
  const section = value === undefined || value === null ? {} : value;
  const f = Fields.of(section, path, errors, SECTION_FIELDS);
  if (f === undefined) throw new EventsConfigError(errors);
  const windowMs = f.duration('window', 0, DAY_MS) ?? DEFAULT_AGGREGATE_OPTIONS.windowMs;
  let rate = DEFAULT_AGGREGATE_OPTIONS.rate;
  let burst = DEFAULT_AGGREGATE_OPTIONS.burst;
  if (f.has('rateLimit')) {
    const r = Fields.of(f.raw('rateLimit'), f.at('rateLimit'), errors, RATE_FIELDS);
    rate = r?.number('perSecond', 0, 1_000_000) ?? rate;
    burst = r?.integer('burst', 0, 1_000_000) ?? burst;
  }
  const maxKeys = f.integer('maxKeys', 1, 10_000_000) ?? DEFAULT_AGGREGATE_OPTIONS.maxKeys;
  const maxPorts = f.integer('maxPorts', 1, 65_536) ?? DEFAULT_AGGREGATE_OPTIONS.maxPorts;
  const sinks: SinkConfig[] = [];
  const list = f.raw('sinks');
  if (list !== undefined && !Array.isArray(list)) f.error('sinks', `expected a list, got ${describe(list)}`);
  if (Array.isArray(list)) {
    list.forEach((item, i) => {
      const sink = sinkConfig(item, `${path}.sinks[${i}]`, errors);
      if (sink) sinks.push(sink);
    });
  }
  if (errors.length > 0) throw new EventsConfigError(errors);
  return { aggregate: { windowMs, rate, burst, maxKeys, maxPorts }, sinks };
}

/** Parses the text of an events section (YAML, of which JSON is a part); `source` names it in errors. */
export function readEventsConfig(text: string, source: string): EventsConfig {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new EventsConfigError([`${source}: ${(error as Error).message.split('\n')[0]}`]);
  }
  return parseEventsConfig(value, source);
}

export function openSinks(sinks: readonly SinkConfig[]): EventSink[] {
  return sinks.map((s): EventSink => {
    if (s.type === 'jsonl') return new JsonLinesSink(s);
    if (s.type === 'syslog') return new SyslogSink(s);
    return new WebhookSink(s);
  });
}

/** The pipeline the configuration describes, its sinks open. */
export function openEvents(config: EventsConfig, options: Partial<Pick<PipelineOptions, 'onError' | 'clock' | 'tickMs'>> = {}): EventPipeline {
  return new EventPipeline({ ...config.aggregate, ...options }, openSinks(config.sinks));
}
