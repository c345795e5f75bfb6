// Sink: one JSON object per line, appended to a file that log shippers and `jq` read. Synchronous
// writes keep lines whole and in order; the pipeline's rate limit keeps them few.
//
// API: new JsonLinesSink({ path, maxBytes?, keep? }). With maxBytes, a file that would grow past it
//      is renamed path.1 (path.1 → path.2, ...; `keep` rotated files are kept) and a new one begun.
//      close() fsyncs, so a closed sink's events survive a crash of the host.

import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Event } from './event.js';
import { eventJson, type EventSink } from './sink.js';

export interface JsonLinesOptions {
  path: string;
  /** Rotate before the file would pass this size; 0 = never rotate. */
  maxBytes: number;
  /** Rotated files kept beside the current one. */
  keep: number;
}

/** Events name workloads and may quote payload: not for every user of the host to read. */
const FILE_MODE = 0o640;

export const DEFAULT_JSONL_OPTIONS = { maxBytes: 0, keep: 5 } as const;

export class JsonLinesSink implements EventSink {
  private readonly options: JsonLinesOptions;
  private fd: number | undefined;
  private size: number;

  constructor(options: Pick<JsonLinesOptions, 'path'> & Partial<JsonLinesOptions>) {
    this.options = { ...DEFAULT_JSONL_OPTIONS, ...options };
    mkdirSync(dirname(this.options.path), { recursive: true });
    this.fd = openSync(this.options.path, 'a', FILE_MODE);
    this.size = fstatSync(this.fd).size;
  }

  write(event: Event): void {
    if (this.fd === undefined) throw new Error(`${this.options.path}: event sink is closed`);
    const line = Buffer.from(`${eventJson(event)}\n`);
    const fd = this.options.maxBytes > 0 && this.size > 0 && this.size + line.length > this.options.maxBytes ? this.rotate() : this.fd;
    this.size += writeSync(fd, line);
  }

  async close(): Promise<void> {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Starts a new file and returns its descriptor. */
  private rotate(): number {
    const { path, keep } = this.options;
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (keep === 0) rmSync(path, { force: true });
    else {
      rmSync(`${path}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) renameIfPresent(`${path}.${i}`, `${path}.${i + 1}`);
      renameSync(path, `${path}.1`);
    }
    this.fd = openSync(path, 'a', FILE_MODE);
    this.size = 0;
    return this.fd;
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
