// Packet evidence out of an event: the frames of a PacketSample as a classic pcap file (microsecond
// timestamps, little-endian) that tcpdump and Wireshark open, and that src/packet reads back.
//
// API: pcapFromSample(sample) → Buffer.

import type { PacketSample } from './event.js';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const SNAPLEN = 65535;

/** The sample's frames as one pcap file; a sample without frames gives a header-only file. */
export function pcapFromSample(sample: PacketSample): Buffer {
  const frames = sample.frames.map((f) => ({ ...f, bytes: Buffer.from(f.data, 'base64') }));
  const size = GLOBAL_HEADER + frames.reduce((n, f) => n + RECORD_HEADER + f.bytes.length, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(PCAP_MAGIC_US, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  // thiszone and sigfigs stay zero: timestamps are UTC.
  out.writeUInt32LE(SNAPLEN, 16);
  out.writeUInt32LE(sample.linkType, 20);
  let pos = GLOBAL_HEADER;
  for (const f of frames) {
    out.writeUInt32LE(Math.floor(f.tsUs / 1e6), pos);
    out.writeUInt32LE(f.tsUs % 1e6, pos + 4);
    out.writeUInt32LE(f.bytes.length, pos + 8);
    out.writeUInt32LE(Math.max(f.origLen, f.bytes.length), pos + 12);
    f.bytes.copy(out, pos + RECORD_HEADER);
    pos += RECORD_HEADER + f.bytes.length;
  }
  return out;
}
