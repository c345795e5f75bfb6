// An event as an RFC 5424 syslog message: the key fields as structured data under the SD-ID
// palisade@32473 (32473 is the example enterprise number of RFC 5612) for SIEM parsers, and the
// whole event as JSON in the message part. Pure; the syslog sink moves the bytes.
//
// API: formatSyslog(event, options) → string (ASCII unless a name holds UTF-8);
//      octetCounted(message) → RFC 6587 frame for TCP.

import type { Event } from './event.js';
import { eventJson } from './sink.js';

export const SD_ID = 'palisade@32473';

export const FACILITIES = {
  user: 1,
  daemon: 3,
  auth: 4,
  authpriv: 10,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

export interface SyslogFormat {
  facility: Facility;
  hostname: string;
  appName: string;
  procId: string;
  /** Longer messages carry only the event id in the message part; the structured data stays. */
  maxBytes: number;
}

const SEVERITY = { error: 3, warning: 4, notice: 5, info: 6 } as const;

/** Findings that block are errors; what was stopped is a warning; what was only seen is a notice. */
export function syslogSeverity(e: Event): number {
  if (e.action === 'allow') return SEVERITY.info;
  const stopped = e.action === 'block' || e.action === 'drop';
  if (e.kind !== 'violation') return stopped ? SEVERITY.error : SEVERITY.warning;
  return stopped ? SEVERITY.warning : SEVERITY.notice;
}

/** RFC 5424 header fields: printable US-ASCII, no spaces, bounded, "-" when empty. */
function headerField(text: string, max: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** SD-PARAM value: `"`, `\` and `]` escaped (RFC 5424 §6.3.3); control characters become spaces. */
function paramValue(value: string | number): string {
  return String(value)
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/["\\\]]/g, (c) => `\\${c}`);
}

function structuredData(e: Event): string {
  const params: [string, string | number | undefined][] = [
    ['id', e.id],
    ['kind', e.kind],
    ['action', e.action],
    ['mode', e.mode],
    ['rule', e.ruleId],
    ['proto', e.ipProto],
    ['app', e.app],
    ['src', e.client.ip],
    ['spt', e.client.port],
    ['srcWorkload', e.client.workload],
    ['srcNamespace', e.client.namespace],
    ['dst', e.server.ip],
    ['dpt', e.server.port],
    ['dstWorkload', e.server.workload],
    ['dstNamespace', e.server.namespace],
    ['dstPorts', e.serverPorts ? e.serverPorts.ports.join(',') + (e.serverPorts.truncated ? ',...' : '') : undefined],
    ['count', e.count],
    ['firstSeen', e.firstSeen],
    ['lastSeen', e.lastSeen],
    ['finding', e.finding?.name],
    ['severity', e.finding?.severity],
  ];
  const body = params
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([name, value]) => `${name}="${paramValue(value)}"`)
    .join(' ');
  return `[${SD_ID} ${body}]`;
}

function timestamp(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '-' : new Date(t).toISOString();
}

export function formatSyslog(e: Event, f: SyslogFormat): string {
  const pri = FACILITIES[f.facility] * 8 + syslogSeverity(e);
  const header = [
    `<${pri}>1`,
    timestamp(e.lastSeen),
    headerField(f.hostname, 255),
    headerField(f.appName, 48),
    headerField(f.procId, 128),
    headerField(e.kind, 32),
  ].join(' ');
  const head = `${header} ${structuredData(e)} `;
  // The packet sample is evidence for a pcap file, not for a log line.
  const full = head + eventJson({ ...e, sample: undefined });
  if (Buffer.byteLength(full) <= f.maxBytes) return full;
  return head + eventJson({ id: e.id, truncated: true });
}

/** RFC 6587 octet-counting frame: the message's length in bytes, a space, the message. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message);
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}
