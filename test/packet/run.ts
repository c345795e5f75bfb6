// Feeds hand-built frames through the pipeline and records what the sink saw, in order.

import { PacketPipeline, type PipelineOptions, type PipelineStats, type Session } from '../../src/packet/index.js';
import { emptyCaptureStats } from '../../src/packet/capture.js';

export type Event =
  | { kind: 'data'; id: number; dir: string; text: string }
  | { kind: 'gap'; id: number; dir: string; bytes: number }
  | { kind: 'end'; id: number; reason: string };

export interface Run {
  events: Event[];
  sessions: Session[];
  stats: PipelineStats;
  /** The in-order bytes of one session and direction, gaps shown as "[gap N]". */
  stream(id: number, dir: 'c2s' | 's2c'): string;
}

/** frames: [ts in microseconds, Ethernet frame]. */
export function run(frames: [number, Buffer][], opts: PipelineOptions = {}, linkType = 1): Run {
  const events: Event[] = [];
  const sessions: Session[] = [];
  const pipeline = new PacketPipeline(
    {
      onPayload: (s, dir, data) => {
        events.push({ kind: 'data', id: s.id, dir, text: data.toString('latin1') });
      },
      onGap: (s, dir, bytes) => {
        events.push({ kind: 'gap', id: s.id, dir, bytes });
      },
      onEnd: (s, reason) => {
        events.push({ kind: 'end', id: s.id, reason });
        sessions.push(s);
      },
    },
    opts,
  );
  let offset = 0;
  for (const [ts, data] of frames) {
    pipeline.record({ linkType, ts, data, origLen: data.length, offset, interfaceId: 0 });
    offset += data.length;
  }
  pipeline.finish();
  return {
    events,
    sessions,
    stats: pipeline.stats(emptyCaptureStats()),
    stream(id, dir) {
      return events
        .map((e) => (e.id !== id || e.kind === 'end' || e.dir !== dir ? '' : e.kind === 'data' ? e.text : `[gap ${e.bytes}]`))
        .join('');
    },
  };
}
