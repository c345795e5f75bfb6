// The packet path's public face: what DPI, the live tap and the CLI import. Internals (segments,
// the reassembly receiver plumbing) stay behind it.

export { CaptureError } from './errors.js';
export { CaptureParser, captureChunks, readCapture, type CaptureInput, type CaptureRecord, type CaptureStats } from './capture.js';
export {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  decodeLink,
  type LinkInfo,
} from './link.js';
export { decodeFrame, type DecodeDrop, type InnerFlow, type Packet } from './decode.js';
export { formatIp } from './address.js';
export { DEFAULT_DEFRAG_LIMITS, Defragmenter, type DefragLimits, type DefragStats } from './defrag.js';
export { DEFAULT_REASSEMBLY_LIMITS, type ReassemblyLimits, type ReassemblyStats } from './reassembly.js';
export {
  DEFAULT_SESSION_LIMITS,
  SessionTable,
  type Direction,
  type EndReason,
  type Endpoint,
  type RoleEvidence,
  type Session,
  type SessionLimits,
  type SessionSink,
  type SessionStats,
} from './session.js';
export { PacketPipeline, runPipeline, type DecodeStats, type PipelineOptions, type PipelineStats } from './pipeline.js';
