// Big-endian header fields read by byte arithmetic. Buffer#readUInt16BE and friends validate
// their offset through a wrapped helper on every call (Node 20), a cost the packet path would pay
// a dozen times per packet. Callers have checked the length first: these never look at bounds.

export function be16(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}

export function be32(b: Uint8Array, at: number): number {
  return (b[at] as number) * 0x1000000 + (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number));
}
