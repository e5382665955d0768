// The per-worker flow table. Every per-flow field lives in a typed array indexed by slot, so
// memory is fixed at construction (capacity x a known number of bytes) and the per-packet
// path allocates nothing. Lookup is open addressing on the symmetric flow hash with linear
// probing and backward-shift deletion (no tombstones to degrade the table over months).
//
// Three intrusive lists order the slots: ACTIVE and CLOSED by last packet (idle and close
// timeouts, eviction of the oldest under pressure) and REPORT by last report time (active
// timeout: long flows are reported while they live, a tunnel can last for days).

import { DecodedPacket, IPPROTO, TCP_FLAG } from '../decode/packet';
import { FlowLists, NIL } from './flow-list';
import { FlowState } from './flow-state';

const LIST_ACTIVE = 0;
const LIST_CLOSED = 1;
const LIST_REPORT = 0; // index in the separate report list set

export interface FlowTableOptions {
  /** Most flows held at once; the oldest is evicted (and reported) to admit a new one. */
  capacity: number;
  /** A flow with no packet for this long ends. */
  idleTimeoutSec: number;
  /** A TCP flow that saw RST, or FIN both ways, ends after this much quiet. */
  closedTimeoutSec: number;
  /** A live flow is reported again after this long, so long tunnels are judged while alive. */
  activeTimeoutSec: number;
  /** Histograms available for entropy sampling at once (each 512 bytes). */
  entropyPool: number;
  /**
   * Handshakes reassembled at once: each inspector holds two 16 KiB stream buffers, plus a
   * 16 KiB CRYPTO buffer once it has seen QUIC, so the default costs at most about 100 MB.
   */
  inspectorPool: number;
}

export const DEFAULT_FLOW_TABLE: FlowTableOptions = {
  capacity: 262_144,
  // Tunnels sit idle for minutes between bursts; cutting them early splits one session
  // into flows that each look innocent. Five minutes, as Zeek's TCP inactivity default.
  idleTimeoutSec: 300,
  closedTimeoutSec: 5,
  activeTimeoutSec: 300,
  entropyPool: 32_768,
  inspectorPool: 2048,
};

/** Counters of the table's own decisions; every eviction is counted here. */
export interface FlowTableCounters {
  flowsCreated: number;
  endedIdle: number;
  endedClosed: number;
  evictedCapacity: number;
  activeReports: number;
  fragmentsSkipped: number;
}

export type FlowSink = (slot: number, reason: 'idle' | 'closed' | 'evicted' | 'active' | 'flush',
  state: FlowState) => void;

export class FlowTable {
  readonly opts: FlowTableOptions;
  readonly state: FlowState;
  readonly counters: FlowTableCounters = {
    flowsCreated: 0, endedIdle: 0, endedClosed: 0, evictedCapacity: 0, activeReports: 0,
    fragmentsSkipped: 0,
  };
  private readonly index: Int32Array; // slot + 1, 0 = empty
  private readonly indexMask: number;
  private readonly lru: FlowLists;
  private readonly report: FlowLists;
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  private now = 0;
  private readonly sink: FlowSink;

  constructor(opts: FlowTableOptions, sink: FlowSink) {
    this.opts = opts;
    this.sink = sink;
    const cap = opts.capacity;
    this.state = new FlowState(cap, opts.entropyPool, opts.inspectorPool);
    // Twice the capacity, rounded up to a power of two, keeps linear probe chains short.
    let size = 1;
    while (size < cap * 2) size <<= 1;
    this.index = new Int32Array(size);
    this.indexMask = size - 1;
    this.lru = new FlowLists(cap, 2);
    this.report = new FlowLists(cap, 1);
    this.freeSlots = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.freeSlots[i] = cap - 1 - i;
    this.freeTop = cap;
  }

  get size(): number {
    return this.opts.capacity - this.freeTop;
  }

  /**
   * Account one decoded packet. `hash` is symmetricFlowHash(p) (already computed by the
   * dispatcher's twin), `wireLen` the frame's original length, `ts` seconds.
   */
  update(p: DecodedPacket, hash: number, buf: Uint8Array, wireLen: number, ts: number): void {
    // Expire first, so a packet arriving after its flow timed out starts a new flow whatever
    // other traffic did meanwhile: shards and the inline path then cut flows identically.
    if (ts > this.now) {
      this.now = ts;
      this.expire();
    }
    if (p.fragment && p.srcPort === 0 && p.dstPort === 0 && p.proto !== IPPROTO.ICMP &&
      p.proto !== IPPROTO.ICMPV6) {
      // gap: IP reassembly is not done yet; non-first fragments carry no ports, so they
      // cannot be placed in a flow. They are counted instead.
      this.counters.fragmentsSkipped++;
      return;
    }
    let slot = this.lookup(p, hash);
    if (slot >= 0 && this.state.isClosed(slot) && p.proto === IPPROTO.TCP &&
      (p.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === TCP_FLAG.SYN) {
      // A fresh SYN on a finished connection's ports is a new connection (port reuse).
      this.counters.endedClosed++;
      this.end(slot, 'closed');
      slot = -1;
    }
    if (slot < 0) slot = this.insert(p, hash, ts);
    const st = this.state;
    // Even a flow's first packet may come from the server (a SYN-ACK seen first).
    const dir = st.directionOf(slot, p);
    st.account(slot, dir, p, buf, wireLen, ts);
    if (st.isClosed(slot)) {
      this.lru.moveToTail(LIST_CLOSED, slot);
    } else {
      this.lru.moveToTail(LIST_ACTIVE, slot);
    }
  }

  /** Advance the clock without a packet (live capture with a quiet link). */
  advance(ts: number): void {
    if (ts > this.now) this.now = ts;
    this.expire();
  }

  /** End every flow (end of capture or shutdown); connections already closed say so. */
  flush(): void {
    for (const [list, reason] of [[LIST_CLOSED, 'closed'], [LIST_ACTIVE, 'flush']] as const) {
      let s = this.lru.head(list);
      while (s !== NIL) {
        const next = this.lru.next[s];
        this.end(s, reason);
        s = next;
      }
    }
  }

  private expire(): void {
    const now = this.now;
    const st = this.state;
    let s = this.lru.head(LIST_CLOSED);
    while (s !== NIL && st.lastTs[s] + this.opts.closedTimeoutSec < now) {
      const next = this.lru.next[s];
      this.counters.endedClosed++;
      this.end(s, 'closed');
      s = next;
    }
    s = this.lru.head(LIST_ACTIVE);
    while (s !== NIL && st.lastTs[s] + this.opts.idleTimeoutSec < now) {
      const next = this.lru.next[s];
      this.counters.endedIdle++;
      this.end(s, 'idle');
      s = next;
    }
    s = this.report.head(LIST_REPORT);
    while (s !== NIL && st.lastReportTs[s] + this.opts.activeTimeoutSec < now) {
      const next = this.report.next[s];
      this.counters.activeReports++;
      this.sink(s, 'active', st);
      st.reportSeq[s]++;
      st.lastReportTs[s] = now;
      this.report.moveToTail(LIST_REPORT, s);
      s = next;
    }
  }

  private lookup(p: DecodedPacket, hash: number): number {
    const index = this.index;
    const mask = this.indexMask;
    const st = this.state;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const e = index[i];
      if (e === 0) return -1;
      const slot = e - 1;
      if (st.hash[slot] === hash && st.matches(slot, p)) return slot;
    }
  }

  private insert(p: DecodedPacket, hash: number, ts: number): number {
    if (this.freeTop === 0) {
      // Under pressure the flow idle the longest goes first; closed flows before open ones.
      let victim = this.lru.head(LIST_CLOSED);
      if (victim === NIL) victim = this.lru.head(LIST_ACTIVE);
      this.counters.evictedCapacity++;
      this.end(victim, 'evicted');
    }
    const slot = this.freeSlots[--this.freeTop];
    this.state.init(slot, p, hash, ts);
    this.counters.flowsCreated++;
    const mask = this.indexMask;
    let i = hash & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = slot + 1;
    this.report.pushTail(LIST_REPORT, slot);
    return slot;
  }

  private end(slot: number, reason: 'idle' | 'closed' | 'evicted' | 'flush'): void {
    this.sink(slot, reason, this.state);
    this.lru.remove(slot);
    this.report.remove(slot);
    this.unindex(slot);
    this.state.release(slot);
    this.freeSlots[this.freeTop++] = slot;
  }

  /** Backward-shift deletion: later entries of the probe chain move up into the hole. */
  private unindex(slot: number): void {
    const index = this.index;
    const mask = this.indexMask;
    const hashOf = this.state.hash;
    let i = hashOf[slot] & mask;
    while (index[i] !== slot + 1) i = (i + 1) & mask;
    let hole = i;
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = hashOf[index[j] - 1] & mask;
      // The entry at j may fill the hole only if its home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        index[hole] = index[j];
        hole = j;
      }
    }
    index[hole] = 0;
  }
}

export { TCP_FLAG };
