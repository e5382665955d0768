// Record-size shape of a TLS flow: the lengths of the first TLS_SHAPE_RECORDS records of
// content type application_data (23) in each direction, read from the 5-byte record headers
// (RFC 8446 section 5.1) as the bytes go by. DoH (RFC 8484) shows as short runs of small
// client records answered by small server records, where browsing pulls large ones; the DoH
// signal (src/signals/doh.ts) judges that.
//
// In TLS 1.3 the encrypted handshake also travels as type 23, so the first records of each
// side are handshake (the server's certificate flight is the big one); the judge skips them.
// State comes from a bounded pool taken when a flow is identified as TLS and given back when
// both directions have their records or the flow ends.

/** application_data records kept per direction. */
export const TLS_SHAPE_RECORDS = 16;
/** Payload packets per direction walked before giving up (a flow of huge records). */
export const TLS_SHAPE_MAX_PACKETS = 64;
/** Pool entries when the table is large. */
export const TLS_SHAPE_POOL_MAX = 8192;

const RECORD_HEADER = 5;
const CT_APPLICATION_DATA = 23;
/** Content types 20-24 (RFC 8446 s5.1, RFC 6520): anything else means we lost the framing. */
const CT_MIN = 20;
const CT_MAX = 24;

const enum Walk {
  Active = 0,
  Done = 1,
}

export interface TlsShape {
  /** application_data record lengths in order, client to server then server to client. */
  records: [number[], number[]];
  /**
   * Packet time (seconds) of the segment that completed each record's header, same order as
   * `records`: DNS answers that come seconds after their question are a tunnel server
   * holding queries open (src/signals/doh-long-poll.ts).
   */
  times: [number[], number[]];
  /** True when a direction lost the record framing (gap, retransmission, not TLS). */
  desync: [boolean, boolean];
}

export class TlsShapeFeatures {
  private readonly entry: Int32Array;
  private readonly free: Int32Array;
  private top: number;
  /** Per entry and direction: */
  private readonly nextSeq: Float64Array; // expected TCP sequence number, -1 before the first
  private readonly remaining: Uint32Array; // bytes left in the current record body
  private readonly hdr: Uint8Array; // partial record header
  private readonly hdrHave: Uint8Array;
  private readonly count: Uint8Array;
  private readonly packets: Uint8Array;
  private readonly state: Uint8Array;
  private readonly desync: Uint8Array;
  private readonly sizes: Uint16Array;
  private readonly times: Float64Array;
  /** Flows identified as TLS that found the pool empty. */
  poolExhausted = 0;

  constructor(capacity: number, poolSize = Math.min(capacity, TLS_SHAPE_POOL_MAX)) {
    this.entry = new Int32Array(capacity).fill(-1);
    this.free = new Int32Array(poolSize);
    for (let i = 0; i < poolSize; i++) this.free[i] = i;
    this.top = poolSize;
    const d = poolSize * 2;
    this.nextSeq = new Float64Array(d);
    this.remaining = new Uint32Array(d);
    this.hdr = new Uint8Array(d * RECORD_HEADER);
    this.hdrHave = new Uint8Array(d);
    this.count = new Uint8Array(d);
    this.packets = new Uint8Array(d);
    this.state = new Uint8Array(d);
    this.desync = new Uint8Array(d);
    this.sizes = new Uint16Array(d * TLS_SHAPE_RECORDS);
    this.times = new Float64Array(d * TLS_SHAPE_RECORDS);
  }

  /** Results are kept per slot once walking ends, until the slot is released. */
  private readonly done = new Map<number, TlsShape>();

  /** One TCP segment with payload of a flow identified as TLS. */
  update(slot: number, dir: number, seq: number, buf: Uint8Array, off: number, len: number,
    ts: number): void {
    let e = this.entry[slot];
    if (e < 0) {
      if (e === -2) return; // finished or refused
      if (this.top === 0) {
        this.poolExhausted++;
        this.entry[slot] = -2;
        return;
      }
      e = this.free[--this.top];
      for (let d = e * 2; d < e * 2 + 2; d++) {
        this.nextSeq[d] = -1;
        this.remaining[d] = 0;
        this.hdrHave[d] = 0;
        this.count[d] = 0;
        this.packets[d] = 0;
        this.state[d] = Walk.Active;
        this.desync[d] = 0;
      }
      this.entry[slot] = e;
    }
    const d = e * 2 + dir;
    if (this.state[d] !== Walk.Active) return;
    if (++this.packets[d] > TLS_SHAPE_MAX_PACKETS) {
      this.state[d] = Walk.Done;
    } else if (this.nextSeq[d] >= 0 && seq !== this.nextSeq[d]) {
      // shortcut: no reordering buffer; a retransmission or a gap ends the walk for this
      // direction (what was read stays valid).
      if (((seq - this.nextSeq[d]) | 0) < 0) return; // an old segment again: skip it
      this.desync[d] = 1;
      this.state[d] = Walk.Done;
    } else {
      this.nextSeq[d] = (seq + len) >>> 0;
      this.walk(d, buf, off, off + len, ts);
    }
    if (this.state[e * 2] === Walk.Done && this.state[e * 2 + 1] === Walk.Done) {
      this.done.set(slot, this.shapeOf(e));
      this.free[this.top++] = e;
      this.entry[slot] = -2;
    }
  }

  private walk(d: number, buf: Uint8Array, p: number, end: number, ts: number): void {
    while (p < end) {
      const rem = this.remaining[d];
      if (rem > 0) {
        const n = Math.min(rem, end - p);
        this.remaining[d] = rem - n;
        p += n;
        continue;
      }
      const h = d * RECORD_HEADER;
      while (this.hdrHave[d] < RECORD_HEADER && p < end) this.hdr[h + this.hdrHave[d]++] = buf[p++];
      if (this.hdrHave[d] < RECORD_HEADER) return;
      this.hdrHave[d] = 0;
      const type = this.hdr[h];
      const length = (this.hdr[h + 3] << 8) | this.hdr[h + 4];
      if (type < CT_MIN || type > CT_MAX || this.hdr[h + 1] !== 3) {
        this.desync[d] = 1;
        this.state[d] = Walk.Done;
        return;
      }
      this.remaining[d] = length;
      if (type !== CT_APPLICATION_DATA) continue;
      this.sizes[d * TLS_SHAPE_RECORDS + this.count[d]] = length;
      this.times[d * TLS_SHAPE_RECORDS + this.count[d]] = ts;
      if (++this.count[d] === TLS_SHAPE_RECORDS) {
        this.state[d] = Walk.Done;
        return;
      }
    }
  }

  private shapeOf(e: number): TlsShape {
    const kept = <T extends Uint16Array | Float64Array>(a: T, d: number) =>
      Array.from(a.subarray(d * TLS_SHAPE_RECORDS, d * TLS_SHAPE_RECORDS + this.count[d]));
    return {
      records: [kept(this.sizes, e * 2), kept(this.sizes, e * 2 + 1)],
      times: [kept(this.times, e * 2), kept(this.times, e * 2 + 1)],
      desync: [this.desync[e * 2] === 1, this.desync[e * 2 + 1] === 1],
    };
  }

  release(slot: number): void {
    const e = this.entry[slot];
    this.entry[slot] = -1;
    this.done.delete(slot);
    if (e >= 0) this.free[this.top++] = e;
  }

  toRecord(slot: number): TlsShape | undefined {
    const e = this.entry[slot];
    if (e >= 0) return this.shapeOf(e);
    return this.done.get(slot);
  }
}
