// Everything one shard does to a batch of packet records: decode, find the flow, account.
// The same class runs inside a worker thread or inline on the main thread (--workers 0).

import { RECORD_HEADER_BYTES, recordSize } from '../capture/batch-format';
import { DecodeCounters, decodePacket } from '../decode/decode';
import { newDecodedPacket } from '../decode/packet';
import { FlowEndReason, FlowRecord } from '../flow/flow-record';
import { flowHashOf } from '../flow/flow-hash';
import { FlowTable, FlowTableCounters, FlowTableOptions } from '../flow/flow-table';

/** Largest frame any link carries (64 KiB IP plus headers, with room for jumbo offload). */
export const MAX_WIRE_LENGTH = 262_144;

/**
 * The frame's length on the wire as the record header claims it, made sane: never below
 * what was captured, never beyond any real frame (a corrupt header must not add gigabytes).
 */
export function wireLength(caplen: number, origlen: number): number {
  if (origlen < caplen) return caplen;
  return origlen > MAX_WIRE_LENGTH ? caplen : origlen;
}

export interface ShardStats {
  shard: number;
  packets: number;
  decoded: number;
  flowsInTable: number;
  table: FlowTableCounters;
  entropyPoolExhausted: number;
  /** Handshakes left unfingerprinted because every inspector was busy. */
  inspectorPoolExhausted: number;
  anomalies: Record<string, number>;
}

export class ShardProcessor {
  private readonly table: FlowTable;
  private readonly packet = newDecodedPacket();
  private readonly anomalies = new DecodeCounters();
  private packets = 0;
  private decoded = 0;

  constructor(readonly shard: number, opts: FlowTableOptions,
    onRecord: (r: FlowRecord) => void) {
    this.table = new FlowTable(opts, (slot, reason: FlowEndReason, state) => {
      onRecord(state.toRecord(slot, shard, reason));
    });
  }

  /** Process `bytes` bytes of records in `buf` (batch-format layout). */
  processBatch(buf: Uint8Array, bytes: number, linkType: number): void {
    // Records are 8-aligned and the buffer starts aligned, so one u32 view reads headers.
    const words = new Uint32Array(buf.buffer, buf.byteOffset, bytes >>> 2);
    const p = this.packet;
    let off = 0;
    while (off + RECORD_HEADER_BYTES <= bytes) {
      const w = off >>> 2;
      const caplen = words[w];
      const origlen = wireLength(caplen, words[w + 1]);
      const ts = words[w + 2] + words[w + 3] / 1e9;
      const data = off + RECORD_HEADER_BYTES;
      this.packets++;
      if (decodePacket(buf, data, caplen, linkType, p, this.anomalies)) {
        this.decoded++;
        this.table.update(p, flowHashOf(p), buf, origlen, ts);
      }
      off += recordSize(caplen);
    }
  }

  advance(ts: number): void {
    this.table.advance(ts);
  }

  flush(): void {
    this.table.flush();
  }

  stats(): ShardStats {
    return {
      shard: this.shard,
      packets: this.packets,
      decoded: this.decoded,
      flowsInTable: this.table.size,
      table: { ...this.table.counters },
      entropyPoolExhausted: this.table.state.entropyPoolExhausted,
      inspectorPoolExhausted: this.table.state.inspectors.exhausted,
      anomalies: this.anomalies.toObject(),
    };
  }
}
