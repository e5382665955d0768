// Layout of one packet record in a batch buffer, shared by the native addon (writer), the
// dispatcher (reader and re-writer into shard batches) and the shard workers (reader).
// All fields are little-endian u32 so a record header is one aligned 16-byte block.
//
//   offset 0  caplen      bytes of packet data that follow the header
//   offset 4  origlen     length on the wire (>= caplen when the snaplen cut it)
//   offset 8  tsSec       seconds since the epoch (u32: good until 2106)
//   offset 12 tsNsec      nanoseconds within the second
//   offset 16 data[caplen], then zero padding up to the next multiple of 8
export const RECORD_HEADER_BYTES = 16;
export const RECORD_ALIGN = 8;

/** Bytes one record of `caplen` data bytes occupies in a batch, header and padding included. */
export function recordSize(caplen: number): number {
  return RECORD_HEADER_BYTES + ((caplen + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1));
}
