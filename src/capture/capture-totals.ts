// libpcap's statistics are u32 (struct pcap_stat) and wrap: at a million packets a second
// `received` wraps in 72 minutes. Sampled often enough (well under one wrap apart, the
// sensor samples every second), the step between two samples modulo 2^32 is exact, so the
// totals here only grow and stay exact for as long as a double counts integers exactly.

import type { CaptureStats } from './pcap';

const U32 = 2 ** 32;

export class CaptureTotals {
  received = 0;
  dropped = 0;
  ifDropped = 0;
  private last: CaptureStats | null = null;

  /** Take one sample of pcap_stats (null when the handle cannot give any: ignored). */
  update(raw: CaptureStats | null): void {
    if (raw === null) return;
    const prev = this.last ?? { received: 0, dropped: 0, ifDropped: 0 };
    this.received += (raw.received - prev.received + U32) % U32;
    this.dropped += (raw.dropped - prev.dropped + U32) % U32;
    this.ifDropped += (raw.ifDropped - prev.ifDropped + U32) % U32;
    this.last = { ...raw };
  }

  /** The totals, or null before the first sample. */
  value(): { received: number; dropped: number; ifDropped: number } | null {
    return this.last === null ? null
      : { received: this.received, dropped: this.dropped, ifDropped: this.ifDropped };
  }
}
