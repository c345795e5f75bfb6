// Byte ranges waiting for their neighbours, shared by IP defragmentation and TCP reassembly. Both
// follow the same overlap rule: the first copy of a byte wins, later copies are dropped.

export interface Segment {
  /** Offset of the first byte in the datagram or stream. */
  off: number;
  data: Buffer;
}

/**
 * Inserts the parts of [off, off + data.length) that `list` (sorted, non-overlapping) does not
 * cover yet, copying them out of the packet. Returns the number of bytes added.
 */
export function insertFirstWins(list: Segment[], off: number, data: Buffer): number {
  const end = off + data.length;
  let from = off;
  let added = 0;
  let i = 0;
  while (i < list.length && from < end) {
    const g = list[i] as Segment;
    const gEnd = g.off + g.data.length;
    if (gEnd <= from) {
      i++;
      continue;
    }
    if (g.off >= end) break;
    if (g.off > from) {
      list.splice(i, 0, { off: from, data: Buffer.from(data.subarray(from - off, g.off - off)) });
      added += g.off - from;
      i++;
    }
    from = gEnd;
    i++;
  }
  if (from < end) {
    list.splice(i, 0, { off: from, data: Buffer.from(data.subarray(from - off)) });
    added += end - from;
  }
  return added;
}
