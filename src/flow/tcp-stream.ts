// Bounded reassembly of one direction of a TCP connection, for the handshake parsers: they
// need the first few kilobytes in order, nothing more. Memory is fixed per instance (the
// buffer plus two small range arrays) and add() allocates nothing, so a pool of these costs
// a known amount whatever the network sends.
//
// Offsets are relative to the stream start: the byte after the SYN's sequence number
// (RFC 9293 section 3.4), or the first data byte seen when the capture missed the SYN.
// Sequence arithmetic is modulo 2^32 (RFC 9293 section 3.4), so a stream may wrap.

/** ClientHello with post-quantum key shares is about 2 KB; a ServerHello plus certificate
 * chain usually fits in 12 KB. */
export const STREAM_MAX_BYTES = 16384;
/** Bounds the out-of-order bookkeeping: holes beyond this many are not worth tracking. */
export const STREAM_MAX_RANGES = 32;

/** What the stream had to cut, drop or refuse: anomalies as counts, never log lines. */
export interface TcpStreamAnomalies {
  /** Segments that overlapped bytes already held (retransmissions included). */
  overlapping: number;
  /** Overlapping segments whose bytes differ from the copy already held (evasion signal). */
  conflicting: number;
  /** Segments cut or dropped because they began before the stream start. */
  outOfWindow: number;
  /** Segments dropped because STREAM_MAX_RANGES holes were already being tracked. */
  tooManyRanges: number;
  /** Segments cut or dropped at the buffer limit. */
  truncated: number;
}

export class TcpStream {
  readonly bytes: Uint8Array;
  readonly anomalies: TcpStreamAnomalies = {
    overlapping: 0, conflicting: 0, outOfWindow: 0, tooManyRanges: 0, truncated: 0,
  };

  private readonly maxBytes: number;
  /** Received byte ranges [start, end) past the contiguous prefix, sorted and disjoint. */
  private readonly rangeStart = new Int32Array(STREAM_MAX_RANGES);
  private readonly rangeEnd = new Int32Array(STREAM_MAX_RANGES);
  private rangeCount = 0;
  private prefix = 0;
  /** Sequence number of offset 0, meaningful once started. */
  private base = 0;
  private started = false;
  private synSeen = false;

  constructor(maxBytes: number = STREAM_MAX_BYTES) {
    // A caller bug must not become a huge or invalid allocation.
    const n = Number.isInteger(maxBytes) && maxBytes > 0 ? maxBytes : STREAM_MAX_BYTES;
    this.maxBytes = Math.min(n, 1 << 30);
    this.bytes = new Uint8Array(this.maxBytes);
  }

  /** Forget everything; start again (slot reuse). The buffer is not cleared: it is only
   * read below `contiguous`. */
  reset(): void {
    this.rangeCount = 0;
    this.prefix = 0;
    this.base = 0;
    this.started = false;
    this.synSeen = false;
    const a = this.anomalies;
    a.overlapping = a.conflicting = a.outOfWindow = a.tooManyRanges = a.truncated = 0;
  }

  /** Bytes available from offset 0 without a hole. */
  get contiguous(): number {
    return this.prefix;
  }

  /** True when the buffer holds maxBytes contiguous bytes: nothing more will be added. */
  get full(): boolean {
    return this.prefix >= this.maxBytes;
  }

  /**
   * Adds one segment: `len` payload bytes of `data` from `off`, first byte at sequence `seq`
   * (or seq + 1 when `syn`). Retransmissions and overlaps keep the first copy: it is the one
   * the receiver most likely accepted, and letting a later copy win would let an attacker
   * rewrite what was inspected. Returns true when the contiguous prefix grew.
   */
  add(seq: number, syn: boolean, data: Uint8Array, off: number, len: number): boolean {
    // Clamp the caller's window to the array so no read can leave it.
    if (!Number.isInteger(off) || off < 0 || off > data.length) return false;
    if (!(len > 0)) len = 0;
    len = Math.floor(len);
    if (len > data.length - off) len = data.length - off;
    let first = seq >>> 0;
    if (syn) {
      first = (first + 1) >>> 0;
      this.onSyn(first);
    }
    if (len === 0) return false;
    if (!this.started) {
      this.base = first;
      this.started = true;
    }

    // Signed distance modulo 2^32: negative means before the stream start.
    let rel = (first - this.base) | 0;
    if (rel < 0) {
      this.anomalies.outOfWindow++;
      if (rel + len <= 0) return false;
      off -= rel;
      len += rel;
      rel = 0;
    }
    if (rel >= this.maxBytes) {
      this.anomalies.truncated++;
      return false;
    }
    let end = rel + len;
    if (end > this.maxBytes) {
      this.anomalies.truncated++;
      end = this.maxBytes;
    }
    return this.insert(rel, end, data, off - rel);
  }

  /** A SYN fixes the start; one seen after data started the stream moves the data right. */
  private onSyn(start: number): void {
    if (this.synSeen) return;
    this.synSeen = true;
    if (!this.started) {
      this.base = start;
      this.started = true;
      return;
    }
    // The capture delivered data before its SYN: shift what is held by the distance.
    const shift = (this.base - start) | 0;
    if (shift <= 0 || shift >= this.maxBytes) return;
    this.base = start;
    this.rebase(shift);
  }

  private rebase(shift: number): void {
    const max = this.maxBytes;
    this.bytes.copyWithin(shift, 0, max - shift);
    let n = 0;
    const holdPrefix = this.prefix > 0;
    // Shift the ranges from the last so the prefix can become range 0 in place.
    for (let i = this.rangeCount - 1; i >= 0; i--) {
      const s = this.rangeStart[i] + shift;
      if (s >= max) continue;
      const j = i + (holdPrefix ? 1 : 0);
      if (j >= STREAM_MAX_RANGES) {
        this.anomalies.tooManyRanges++;
        continue;
      }
      this.rangeStart[j] = s;
      this.rangeEnd[j] = Math.min(this.rangeEnd[i] + shift, max);
      n = Math.max(n, j + 1);
    }
    if (holdPrefix) {
      this.rangeStart[0] = shift;
      this.rangeEnd[0] = Math.min(this.prefix + shift, max);
      n = Math.max(n, 1);
    }
    this.rangeCount = n;
    this.prefix = 0;
  }

  /** Copies [rel, end) into the holes (first copy wins) and records the range. `delta` maps
   * a stream offset to its index in `data`. */
  private insert(rel: number, end: number, data: Uint8Array, delta: number): boolean {
    // Ranges i..j-1 touch or overlap [rel, end) and merge with it.
    let i = 0;
    while (i < this.rangeCount && this.rangeEnd[i] < rel) i++;
    let j = i;
    while (j < this.rangeCount && this.rangeStart[j] <= end) j++;
    const touchesPrefix = rel <= this.prefix;
    if (!touchesPrefix && i === j && this.rangeCount >= STREAM_MAX_RANGES) {
      this.anomalies.tooManyRanges++;
      return false;
    }

    let overlap = rel < this.prefix;
    let conflict = overlap && this.differs(rel, Math.min(end, this.prefix), data, delta);
    let cursor = Math.max(rel, this.prefix);
    for (let k = i; k < j && cursor < end; k++) {
      const s = this.rangeStart[k];
      const e = this.rangeEnd[k];
      if (e <= cursor) continue;
      if (s > cursor) this.copy(cursor, Math.min(s, end), data, delta);
      if (s < end && e > cursor) {
        overlap = true;
        const a = Math.max(s, cursor);
        if (!conflict) conflict = this.differs(a, Math.min(e, end), data, delta);
      }
      cursor = Math.max(cursor, e);
    }
    if (cursor < end) this.copy(cursor, end, data, delta);
    if (overlap) this.anomalies.overlapping++;
    if (conflict) this.anomalies.conflicting++;

    const start = i < j ? Math.min(this.rangeStart[i], rel) : rel;
    const stop = i < j ? Math.max(this.rangeEnd[j - 1], end) : end;
    if (touchesPrefix) return this.growPrefix(stop, j);
    this.replaceRanges(i, j, start, stop);
    return false;
  }

  /** The merged segment reaches the prefix: extend it over the ranges it swallowed. */
  private growPrefix(stop: number, j: number): boolean {
    // Every range starts past the prefix, so the merged ones are 0..j-1; the next range
    // starts past `stop` (ranges never touch), so none other joins.
    const before = this.prefix;
    if (stop > this.prefix) this.prefix = stop;
    this.removeRanges(0, j);
    return this.prefix > before;
  }

  private replaceRanges(i: number, j: number, start: number, stop: number): void {
    if (i === j) {
      for (let k = this.rangeCount; k > i; k--) {
        this.rangeStart[k] = this.rangeStart[k - 1];
        this.rangeEnd[k] = this.rangeEnd[k - 1];
      }
      this.rangeCount++;
    } else {
      this.removeRanges(i + 1, j);
    }
    this.rangeStart[i] = start;
    this.rangeEnd[i] = stop;
  }

  /** Removes ranges [from, to). */
  private removeRanges(from: number, to: number): void {
    if (to <= from) return;
    const gone = to - from;
    for (let k = to; k < this.rangeCount; k++) {
      this.rangeStart[k - gone] = this.rangeStart[k];
      this.rangeEnd[k - gone] = this.rangeEnd[k];
    }
    this.rangeCount -= gone;
  }

  private copy(from: number, to: number, data: Uint8Array, delta: number): void {
    const b = this.bytes;
    for (let k = from; k < to; k++) b[k] = data[k + delta];
  }

  private differs(from: number, to: number, data: Uint8Array, delta: number): boolean {
    const b = this.bytes;
    for (let k = from; k < to; k++) if (b[k] !== data[k + delta]) return true;
    return false;
  }
}
