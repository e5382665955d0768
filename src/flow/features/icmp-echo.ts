// ICMP echo features of ICMP/ICMPv6 flows: how many echoes, their payload sizes, and whether
// the payloads change from one request to the next and whether replies repeat their request.
// A ping (RFC 792 echo, RFC 4443 section 4.1) sends one fixed pattern apart from a timestamp
// and gets it back byte for byte; an ICMP tunnel (ptunnel, icmpsh, hans) carries a stream, so
// its requests change, its sizes vary and its replies carry the other direction's data.
//
// The flow table keys ICMP on addresses only (src/flow/flow-hash.ts zeroes type and code),
// so one flow holds every echo between two hosts; the type and the echo identifier/sequence
// are read back from the 8-byte header in front of the payload (the decoder narrowed past it).
//
// State lives in a pool sized at table creation (ICMP flows are few next to TCP/UDP): a slot
// takes an entry at its first echo and gives it back when it ends. An exhausted pool is
// counted, and that flow simply carries no echo features.

import { IPPROTO } from '../../decode/packet';

/** Echo request / reply types: ICMP (RFC 792) and ICMPv6 (RFC 4443 section 4.1, 4.2). */
const ECHO_TYPES = {
  v4: { request: 8, reply: 0 },
  v6: { request: 128, reply: 129 },
} as const;

/** Bytes of type, code, checksum, identifier, sequence before the echo data. */
const ECHO_HEADER_BYTES = 8;
/**
 * Leading echo data bytes left out of the content hash: iputils ping puts a struct timeval
 * (16 bytes on 64-bit Linux) there, which changes every echo without meaning anything.
 */
export const ECHO_TIMESTAMP_BYTES = 16;
/** Echo data bytes hashed after the timestamp: enough to see a stream change. */
export const ECHO_HASH_BYTES = 64;
/** Recent requests remembered to pair replies with (replies can lag behind requests). */
export const ECHO_REQUEST_RING = 4;
/** Distinct echo data sizes remembered; more count as "more than this". */
export const ECHO_MAX_DISTINCT_SIZES = 8;
/** Most pool entries, whatever the table capacity. */
export const ICMP_POOL_MAX = 8192;

/** What a flow record carries about its echoes (absent for flows without any). */
export interface IcmpEchoRecord {
  requests: number;
  replies: number;
  /** Smallest and largest echo data length (bytes after the 8-byte header), both kinds. */
  minSize: number;
  maxSize: number;
  /** Distinct echo data lengths, capped at ECHO_MAX_DISTINCT_SIZES + 1. */
  distinctSizes: number;
  /** Requests whose data (timestamp excluded) differs from the request before them. */
  changedRequests: number;
  /** Replies that repeat none of the last ECHO_REQUEST_RING requests (id, seq and data). */
  unmatchedReplies: number;
  /** Echo data bytes in all. */
  dataBytes: number;
}

/** FNV-1a over the echo data past the timestamp, seeded with the length. */
function echoHash(buf: Uint8Array, off: number, len: number): number {
  let h = (0x811c9dc5 ^ len) >>> 0;
  if (len <= ECHO_TIMESTAMP_BYTES) return h; // nothing but a timestamp: no content to compare
  const end = off + Math.min(len, ECHO_TIMESTAMP_BYTES + ECHO_HASH_BYTES);
  for (let i = off + ECHO_TIMESTAMP_BYTES; i < end; i++) {
    h = Math.imul(h ^ buf[i], 0x01000193) >>> 0;
  }
  return h;
}

export class IcmpEchoFeatures {
  /** Pool entry per flow slot, or -1. */
  private readonly entry: Int32Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly counts: Uint32Array; // requests, replies, changed, unmatched per entry
  private readonly dataBytes: Float64Array;
  private readonly minSize: Uint16Array;
  private readonly maxSize: Uint16Array;
  private readonly sizes: Uint16Array; // ECHO_MAX_DISTINCT_SIZES per entry
  private readonly nSizes: Uint8Array;
  private readonly lastReq: Uint32Array; // hash of the previous request
  private readonly ring: Uint32Array; // ECHO_REQUEST_RING x (id<<16|seq, hash) per entry
  private readonly ringPos: Uint8Array;
  /** Flows that wanted an entry when none was free. */
  poolExhausted = 0;

  constructor(capacity: number) {
    const n = Math.max(1, Math.min(capacity, ICMP_POOL_MAX));
    this.entry = new Int32Array(capacity).fill(-1);
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeTop = n;
    this.counts = new Uint32Array(n * 4);
    this.dataBytes = new Float64Array(n);
    this.minSize = new Uint16Array(n);
    this.maxSize = new Uint16Array(n);
    this.sizes = new Uint16Array(n * ECHO_MAX_DISTINCT_SIZES);
    this.nSizes = new Uint8Array(n);
    this.lastReq = new Uint32Array(n);
    this.ring = new Uint32Array(n * ECHO_REQUEST_RING * 2);
    this.ringPos = new Uint8Array(n);
  }

  /**
   * Fold one ICMP/ICMPv6 packet. `off` is where the echo data starts (after the 8-byte
   * header, which the decoder already checked was captured), `len` its captured length.
   */
  update(slot: number, ipProto: number, buf: Uint8Array, off: number, len: number): void {
    const hdr = off - ECHO_HEADER_BYTES;
    if (hdr < 0) return;
    const t = ipProto === IPPROTO.ICMPV6 ? ECHO_TYPES.v6 : ECHO_TYPES.v4;
    const type = buf[hdr];
    if (type !== t.request && type !== t.reply) return;
    let e = this.entry[slot];
    if (e < 0) {
      if (this.freeTop === 0) {
        this.poolExhausted++;
        return;
      }
      e = this.free[--this.freeTop];
      this.entry[slot] = e;
      this.reset(e);
    }
    const idSeq = ((buf[hdr + 4] << 24) | (buf[hdr + 5] << 16) | (buf[hdr + 6] << 8) |
      buf[hdr + 7]) >>> 0;
    const h = echoHash(buf, off, len);
    this.noteSize(e, len);
    this.dataBytes[e] += len;
    const c = e * 4;
    if (type === t.request) {
      if (this.counts[c] > 0 && this.lastReq[e] !== h) this.counts[c + 2]++;
      this.counts[c]++;
      this.lastReq[e] = h;
      const r = (e * ECHO_REQUEST_RING + this.ringPos[e]) * 2;
      this.ring[r] = idSeq;
      this.ring[r + 1] = h;
      this.ringPos[e] = (this.ringPos[e] + 1) % ECHO_REQUEST_RING;
    } else {
      this.counts[c + 1]++;
      if (!this.repeatsRequest(e, idSeq, h)) this.counts[c + 3]++;
    }
  }

  private repeatsRequest(e: number, idSeq: number, h: number): boolean {
    const base = e * ECHO_REQUEST_RING * 2;
    const seen = Math.min(this.counts[e * 4], ECHO_REQUEST_RING);
    for (let i = 0; i < seen; i++) {
      if (this.ring[base + i * 2] === idSeq && this.ring[base + i * 2 + 1] === h) return true;
    }
    return false;
  }

  private noteSize(e: number, len: number): void {
    const size = len > 0xffff ? 0xffff : len;
    const n = this.nSizes[e];
    if (n === 0 || size < this.minSize[e]) this.minSize[e] = size;
    if (n === 0 || size > this.maxSize[e]) this.maxSize[e] = size;
    if (n > ECHO_MAX_DISTINCT_SIZES) return;
    const base = e * ECHO_MAX_DISTINCT_SIZES;
    for (let i = 0; i < n; i++) if (this.sizes[base + i] === size) return;
    if (n < ECHO_MAX_DISTINCT_SIZES) this.sizes[base + n] = size;
    this.nSizes[e] = n + 1; // ECHO_MAX_DISTINCT_SIZES + 1 means "more"
  }

  private reset(e: number): void {
    this.counts.fill(0, e * 4, e * 4 + 4);
    this.dataBytes[e] = 0;
    this.nSizes[e] = 0;
    this.lastReq[e] = 0;
    this.ringPos[e] = 0;
  }

  /** Give the slot's entry back (flow ended). */
  release(slot: number): void {
    const e = this.entry[slot];
    if (e < 0) return;
    this.entry[slot] = -1;
    this.free[this.freeTop++] = e;
  }

  toRecord(slot: number): IcmpEchoRecord | undefined {
    const e = this.entry[slot];
    if (e < 0) return undefined;
    const c = e * 4;
    return {
      requests: this.counts[c],
      replies: this.counts[c + 1],
      minSize: this.minSize[e],
      maxSize: this.maxSize[e],
      distinctSizes: this.nSizes[e],
      changedRequests: this.counts[c + 2],
      unmatchedReplies: this.counts[c + 3],
      dataBytes: this.dataBytes[e],
    };
  }
}
