// The one error the packet path throws: input that cannot be read any further. Everything a
// reader can step over (a damaged pcapng block, a truncated last record) is counted instead.

export class CaptureError extends Error {
  /** Byte offset in the input where the damage starts. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'CaptureError';
    this.offset = offset;
  }
}
