// SSH session shape, measured on the worker (issue 4; our own method, not JA4SSH): once both
// directions have switched to encrypted packets (SSH_MSG_NEWKEYS, RFC 4253 section 7.3), it
// counts, per direction, segment sizes against the wire size of one keystroke for the
// negotiated cipher and MAC, bare ACKs, keystrokes echoed by the peer, bulk runs and the
// exchanges that start after a quiet spell, and who starts them. The correlator's
// ssh-session-shape signal turns these counters into a class; see SshShapeRecord.
//
// Memory: state lives in a fixed pool of entries (SSH_SHAPE_POOL), handed only to flows
// identified as SSH; every other flow costs one Int32 of the slot map and one comparison.

import { DecodedPacket, TCP_FLAG } from '../../decode/packet';
import {
  channelDataSize, negotiatedAlgorithms, SshDirectionAlgorithms,
} from '../../protocols/ssh/packet-size';
import type { SshKexInit } from '../../protocols/ssh/types';
import { SshShapeRecord } from '../flow-record';
import { HandshakeWalker } from './ssh-handshake-walker';

/** SSH flows measured at once; more are counted in `exhausted` and go unmeasured. */
export const SSH_SHAPE_POOL = 8192;
/** A gap with no payload either way longer than this ends an exchange (seconds). */
export const EXCHANGE_IDLE_SEC = 0.5;
/** A keystroke answered by a keystroke-sized packet within this time was echoed (s). */
export const ECHO_WINDOW_SEC = 0.25;
/** Gaps between keystrokes a typing person leaves (seconds): faster is a machine or paste. */
export const TYPING_GAP_MIN_SEC = 0.03;
export const TYPING_GAP_MAX_SEC = 2;
/** Segments at least this long are bulk: a window's worth of them is a transfer. */
export const BULK_SEGMENT_BYTES = 1024;
/** Segments below this many keystrokes' sizes are control traffic (acks, window adjusts). */
export const SMALL_KEYSTROKES = 3;
/** Segments up to this long are "medium": requests, short answers. */
export const MEDIUM_MAX_BYTES = 512;
/** A bulk run this long counts as a long run (about 46 KB at a 1448-byte MSS). */
export const LONG_RUN_SEGMENTS = 32;
/**
 * An exchange counts when both sides sent data segments (larger than control traffic) and
 * together at least this many bytes of them: a request and its answer, not a keystroke and
 * its echo, nor output answered only by window adjustments.
 */
export const EXCHANGE_MIN_BYTES = 1024;
/** Key presses are channel data of 1 to this many bytes (escape sequences: arrows, F-keys). */
export const KEY_DATA_MAX_BYTES = 6;
/**
 * Keystroke sizes of an inner SSH session carried in a channel (ssh -J, ssh over -L):
 * chacha20/AES-GCM 36, aes-ctr with umac-64-etm 28, hmac-sha2-256-etm 52, hmac-sha2-256 64.
 */
export const INNER_KEYSTROKE_SIZES = [36, 28, 52, 64] as const;
/**
 * Keystroke size assumed when the algorithms are unknown (no inspector was free, or a
 * handshake parse failed): chacha20-poly1305, OpenSSH's first choice since 6.5.
 */
export const ASSUMED_KEYSTROKE_BYTES = 36;

// Per-direction counters, in one Float64Array per entry: [entry][dir][counter].
const C = {
  PACKETS: 0, BYTES: 1, ACKS: 2, KEYSTROKE: 3, SMALL: 4, MEDIUM: 5, LARGE: 6, BULK: 7,
  NESTED: 8, ECHOED: 9, NESTED_ECHOED: 10, TYPED: 11, INIT_KEY: 12, INIT_REQUEST: 13,
  EXCHANGES: 14, REQUEST_EXCHANGES: 15, EXCHANGE_BYTES: 16, MAX_RUN: 17, LONG_RUNS: 18,
  // running state, not reported
  PENDING_KEY: 19, PENDING_NESTED: 20, LAST_KEY: 21, RUN: 22, EX_BYTES: 23,
} as const;
const PER_DIR = 24;
// Per-entry state after the two directions.
const E = {
  LAST_PAYLOAD: 0, EX_DIR: 1, EX_BY_KEY: 2, FIRST_TS: 3, LAST_TS: 4, EX_SEEN: 5,
} as const;
const PER_ENTRY = PER_DIR * 2 + 6;
const SIZES_PER_DIR = 2 + INNER_KEYSTROKE_SIZES.length; // key 1 byte, key 6 bytes, nested

const NO_ENTRY = -1;
const REFUSED = -2;
const NOT_ACK = TCP_FLAG.SYN | TCP_FLAG.FIN | TCP_FLAG.RST;

export class SshShape {
  /** Pool entry of each flow slot, NO_ENTRY, or REFUSED when the pool was empty. */
  readonly entry: Int32Array;
  private readonly num: Float64Array;
  /** Keystroke-sized lengths per entry and direction: [1-byte key, 6-byte key, nested...]. */
  private readonly sizes: Int16Array;
  private readonly known: Uint8Array;
  private readonly algorithms: Array<[SshDirectionAlgorithms, SshDirectionAlgorithms] | undefined>;
  private readonly walker: HandshakeWalker;
  private readonly free: Int32Array;
  private freeTop: number;
  /** SSH flows that found the pool empty. */
  exhausted = 0;

  constructor(capacity: number, pool = Math.min(capacity, SSH_SHAPE_POOL)) {
    this.entry = new Int32Array(capacity).fill(NO_ENTRY);
    this.num = new Float64Array(pool * PER_ENTRY);
    this.sizes = new Int16Array(pool * 2 * SIZES_PER_DIR);
    this.known = new Uint8Array(pool);
    this.algorithms = new Array(pool);
    this.walker = new HandshakeWalker(pool);
    this.free = new Int32Array(pool);
    for (let i = 0; i < pool; i++) this.free[i] = pool - 1 - i;
    this.freeTop = pool;
  }

  /** A new flow in the slot: nothing measured yet. */
  init(slot: number): void {
    this.release(slot);
  }

  release(slot: number): void {
    const e = this.entry[slot];
    this.entry[slot] = NO_ENTRY;
    if (e >= 0) this.free[this.freeTop++] = e;
  }

  private acquire(slot: number): number {
    if (this.freeTop === 0) {
      this.exhausted++;
      this.entry[slot] = REFUSED;
      return REFUSED;
    }
    const e = this.free[--this.freeTop];
    this.entry[slot] = e;
    this.num.fill(0, e * PER_ENTRY, (e + 1) * PER_ENTRY);
    this.num[e * PER_ENTRY + PER_DIR * 2 + E.EX_DIR] = -1;
    this.known[e] = 0;
    this.algorithms[e] = undefined;
    this.setSizes(e, undefined);
    this.walker.reset(e);
    return e;
  }

  /** The KEXINITs of both sides, once the handshake inspector has parsed them. */
  setKexInits(slot: number, client: SshKexInit | undefined, server: SshKexInit | undefined): void {
    const e = this.entry[slot];
    if (e < 0 || client === undefined || server === undefined) return;
    this.setSizes(e, negotiatedAlgorithms(client, server));
  }

  private setSizes(e: number, alg: [SshDirectionAlgorithms, SshDirectionAlgorithms] | undefined):
    void {
    let known = alg !== undefined;
    for (let dir = 0; dir < 2; dir++) {
      const a = alg?.[dir];
      const key = a === undefined ? -1 : channelDataSize(a, 1);
      if (key < 0) known = false;
      const base = (e * 2 + dir) * SIZES_PER_DIR;
      const s = this.sizes;
      // Unknown algorithms: chacha20-poly1305 sizes (8-byte blocks, 16-byte tag).
      const use: SshDirectionAlgorithms = key < 0 ? { cipher: 'chacha20-poly1305@openssh.com' }
        : a as SshDirectionAlgorithms;
      s[base] = channelDataSize(use, 1);
      s[base + 1] = channelDataSize(use, KEY_DATA_MAX_BYTES);
      for (let i = 0; i < INNER_KEYSTROKE_SIZES.length; i++) {
        s[base + 2 + i] = channelDataSize(use, INNER_KEYSTROKE_SIZES[i]);
      }
    }
    this.known[e] = known ? 1 : 0;
    this.algorithms[e] = alg;
  }

  /**
   * One packet of a flow whose direction `dir` was identified as SSH (or that already has
   * an entry). Called for bare ACKs too.
   */
  update(slot: number, dir: number, p: DecodedPacket, buf: Uint8Array, ts: number): void {
    let e = this.entry[slot];
    if (e === REFUSED) return;
    if (e === NO_ENTRY) e = this.acquire(slot);
    if (e < 0) return;
    const len = p.payloadLength;
    const w = this.walker;
    if (!w.done(e)) {
      if (len > 0) w.feed(e, dir, p.tcpSeq, buf, p.payloadOffset, len);
      if (w.done(e)) this.num[e * PER_ENTRY + PER_DIR * 2 + E.FIRST_TS] = ts;
      return;
    }
    const d = e * PER_ENTRY + dir * PER_DIR;
    const n = this.num;
    n[e * PER_ENTRY + PER_DIR * 2 + E.LAST_TS] = ts;
    if (len === 0) {
      if ((p.tcpFlags & TCP_FLAG.ACK) !== 0 && (p.tcpFlags & NOT_ACK) === 0) n[d + C.ACKS]++;
      return;
    }
    this.payload(e, dir, len, ts);
  }

  private payload(e: number, dir: number, len: number, ts: number): void {
    const n = this.num;
    const base = e * PER_ENTRY;
    const d = base + dir * PER_DIR;
    const o = base + (dir ^ 1) * PER_DIR;
    const f = base + PER_DIR * 2;
    const s = this.sizes;
    const sb = (e * 2 + dir) * SIZES_PER_DIR;
    n[d + C.PACKETS]++;
    n[d + C.BYTES] += len;

    const key = s[sb];
    const isKey = len === key || len === s[sb + 1];
    let isNested = false;
    for (let i = 2; i < SIZES_PER_DIR; i++) if (len === s[sb + i]) isNested = true;
    if (isKey) n[d + C.KEYSTROKE]++;
    else if (len < key * SMALL_KEYSTROKES) n[d + C.SMALL]++;
    else if (len <= MEDIUM_MAX_BYTES) n[d + C.MEDIUM]++;
    else if (len < BULK_SEGMENT_BYTES) n[d + C.LARGE]++;
    else n[d + C.BULK]++;
    if (isNested) n[d + C.NESTED]++;

    // Echo: the peer's last segment was a keystroke, and this answers it in kind.
    if (isKey && n[o + C.PENDING_KEY] > 0 && ts - n[o + C.PENDING_KEY] <= ECHO_WINDOW_SEC) {
      n[o + C.ECHOED]++;
    }
    if (isNested && n[o + C.PENDING_NESTED] > 0 &&
      ts - n[o + C.PENDING_NESTED] <= ECHO_WINDOW_SEC) {
      n[o + C.NESTED_ECHOED]++;
    }
    n[o + C.PENDING_KEY] = 0;
    n[o + C.PENDING_NESTED] = 0;
    n[d + C.PENDING_KEY] = isKey ? ts : 0;
    n[d + C.PENDING_NESTED] = isNested ? ts : 0;
    if (isKey || isNested) {
      const gap = ts - n[d + C.LAST_KEY];
      if (gap >= TYPING_GAP_MIN_SEC && gap <= TYPING_GAP_MAX_SEC) n[d + C.TYPED]++;
      n[d + C.LAST_KEY] = ts;
    }

    // Exchanges: a quiet spell ends one; the side that speaks first starts the next. The
    // first one is user authentication and session setup (RFC 4252), the same for every
    // use of SSH: it is not counted.
    if (n[f + E.LAST_PAYLOAD] === 0 || ts - n[f + E.LAST_PAYLOAD] >= EXCHANGE_IDLE_SEC) {
      this.closeExchange(e);
      if (n[f + E.EX_SEEN]++ > 0) {
        n[f + E.EX_DIR] = dir;
        n[f + E.EX_BY_KEY] = isKey ? 1 : 0;
        n[d + (isKey ? C.INIT_KEY : C.INIT_REQUEST)]++;
      }
    }
    if (!isKey && len >= key * SMALL_KEYSTROKES) n[d + C.EX_BYTES] += len;
    n[f + E.LAST_PAYLOAD] = ts;

    // Bulk runs: back-to-back bulk segments one way; the peer's payload ends the run.
    n[o + C.RUN] = 0;
    if (len >= BULK_SEGMENT_BYTES) {
      const run = ++n[d + C.RUN];
      if (run > n[d + C.MAX_RUN]) n[d + C.MAX_RUN] = run;
      if (run === LONG_RUN_SEGMENTS) n[d + C.LONG_RUNS]++;
    } else {
      n[d + C.RUN] = 0;
    }
  }

  /** Counts the exchange in progress if it qualifies, and starts none. */
  private closeExchange(e: number): void {
    const n = this.num;
    const f = e * PER_ENTRY + PER_DIR * 2;
    const by = n[f + E.EX_DIR];
    const c0 = e * PER_ENTRY + C.EX_BYTES;
    const c1 = e * PER_ENTRY + PER_DIR + C.EX_BYTES;
    if (by >= 0 && qualifies(n[c0], n[c1])) {
      const d = e * PER_ENTRY + by * PER_DIR;
      n[d + C.EXCHANGES]++;
      if (n[f + E.EX_BY_KEY] === 0) n[d + C.REQUEST_EXCHANGES]++;
      n[d + C.EXCHANGE_BYTES] += n[c0] + n[c1];
    }
    n[c0] = 0;
    n[c1] = 0;
    n[f + E.EX_DIR] = -1;
  }

  /** What the correlator needs, or undefined for flows never measured. */
  toRecord(slot: number): SshShapeRecord | undefined {
    const e = this.entry[slot];
    if (e < 0) return undefined;
    const n = this.num;
    const f = e * PER_ENTRY + PER_DIR * 2;
    const pair = (c: number): [number, number] =>
      [n[e * PER_ENTRY + c], n[e * PER_ENTRY + PER_DIR + c]];
    // The exchange still open counts as if it ended now (a report is a snapshot).
    const ex = pair(C.EXCHANGES);
    const reqEx = pair(C.REQUEST_EXCHANGES);
    const exBytes = pair(C.EXCHANGE_BYTES);
    const open = pair(C.EX_BYTES);
    const by = n[f + E.EX_DIR];
    if (by >= 0 && qualifies(open[0], open[1])) {
      ex[by]++;
      if (n[f + E.EX_BY_KEY] === 0) reqEx[by]++;
      exBytes[by] += open[0] + open[1];
    }
    const alg = this.algorithms[e];
    const s = this.sizes;
    const done = this.walker.done(e);
    return {
      cipher: [alg?.[0].cipher ?? '', alg?.[1].cipher ?? ''],
      mac: [alg?.[0].mac ?? '', alg?.[1].mac ?? ''],
      algorithmsKnown: this.known[e] === 1,
      keystrokeBytes: [s[e * 2 * SIZES_PER_DIR], s[(e * 2 + 1) * SIZES_PER_DIR]],
      handshake: done ? this.walker.how(e) : 'pending',
      seconds: done && n[f + E.LAST_TS] > 0 ? round3(n[f + E.LAST_TS] - n[f + E.FIRST_TS]) : 0,
      packets: pair(C.PACKETS),
      bytes: pair(C.BYTES),
      bareAcks: pair(C.ACKS),
      keystroke: pair(C.KEYSTROKE),
      small: pair(C.SMALL),
      medium: pair(C.MEDIUM),
      large: pair(C.LARGE),
      bulk: pair(C.BULK),
      nestedKeystroke: pair(C.NESTED),
      echoed: pair(C.ECHOED),
      nestedEchoed: pair(C.NESTED_ECHOED),
      typed: pair(C.TYPED),
      startedByKey: pair(C.INIT_KEY),
      startedByRequest: pair(C.INIT_REQUEST),
      exchanges: ex,
      requestExchanges: reqEx,
      exchangeBytes: exBytes,
      longestBulkRun: pair(C.MAX_RUN),
      longBulkRuns: pair(C.LONG_RUNS),
    };
  }
}

function qualifies(a: number, b: number): boolean {
  return a > 0 && b > 0 && a + b >= EXCHANGE_MIN_BYTES;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
