// QUIC frames inside a decrypted client Initial (RFC 9000 section 19). An Initial may carry
// only PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE (section 12.4, table 3); anything else
// in an authenticated Initial is a protocol violation, and the walk stops there.

import { u8 } from '../reader';
import { MAX_ACK_RANGES, QUIC_FRAME } from './constants';

/** Reasons a frame walk stops; stable snake_case names, counted by the caller. */
export const QUIC_FRAME_ERROR = {
  truncated: 'frame_truncated',
  notAllowed: 'frame_not_allowed_in_initial',
  tooManyAckRanges: 'ack_too_many_ranges',
} as const;
export type QuicFrameError = (typeof QUIC_FRAME_ERROR)[keyof typeof QUIC_FRAME_ERROR];

/**
 * The varint reader's two outputs: value and encoded size. Values past 2^53 lose precision
 * but never matter here: every use is a length or offset checked against a small bound.
 */
export interface QuicVarint {
  value: number;
  size: number;
}

/**
 * Reads the variable-length integer at p (RFC 9000 section 16: the two high bits of the
 * first byte give its size, 1, 2, 4 or 8 bytes). Fills `out` and returns true, or returns
 * false when it does not fit below end.
 */
export function readQuicVarint(b: Uint8Array, p: number, end: number, out: QuicVarint): boolean {
  const first = u8(b, p, end);
  const size = 1 << (first >> 6);
  if (first < 0 || u8(b, p + size - 1, end) < 0) return false;
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + u8(b, p + i, end);
  out.value = value;
  out.size = size;
  return true;
}

/** What the walker hands over: the data of each CRYPTO frame, in wire order. */
export interface QuicCryptoSink {
  /** Returns null to go on, or a reason to stop the walk with. */
  crypto(streamOffset: number, b: Uint8Array, start: number, length: number): string | null;
}

/** Counts of what one Initial payload held, kept by the caller across packets. */
export interface QuicFrameCounts {
  crypto: number;
  ack: number;
  ping: number;
  padding: number;
  connectionClose: number;
}

const v: QuicVarint = { value: 0, size: 0 };

/**
 * Walks the frames of a decrypted Initial payload [off, end), passing CRYPTO data to `sink`
 * and counting the rest. Returns null when every frame parsed, or the reason it stopped.
 */
export function walkInitialFrames(
  b: Uint8Array, off: number, end: number, sink: QuicCryptoSink, counts: QuicFrameCounts,
): string | null {
  const stop = Math.min(end, b.length);
  let p = off;
  while (p < stop) {
    // Frame types are varints (section 12.4); every type allowed here fits in one byte, so a
    // longer encoding is some other frame and not allowed.
    const type = u8(b, p, stop);
    p += 1;
    switch (type) {
      case QUIC_FRAME.PADDING: {
        // A run of PADDING is common (the rest of a 1200-byte datagram): skip it in one go.
        let q = p;
        while (u8(b, q, stop) === QUIC_FRAME.PADDING) q++;
        counts.padding += q - p + 1;
        p = q;
        break;
      }
      case QUIC_FRAME.PING:
        counts.ping++;
        break;
      case QUIC_FRAME.ACK:
      case QUIC_FRAME.ACK_ECN: {
        const q = skipAck(b, p, stop, type === QUIC_FRAME.ACK_ECN);
        if (q < 0) return q === ACK_TOO_MANY ? QUIC_FRAME_ERROR.tooManyAckRanges
          : QUIC_FRAME_ERROR.truncated;
        counts.ack++;
        p = q;
        break;
      }
      case QUIC_FRAME.CRYPTO: {
        // Offset (i), Length (i), Crypto Data (section 19.6).
        if (!readQuicVarint(b, p, stop, v)) return QUIC_FRAME_ERROR.truncated;
        const streamOffset = v.value;
        p += v.size;
        if (!readQuicVarint(b, p, stop, v)) return QUIC_FRAME_ERROR.truncated;
        const length = v.value;
        p += v.size;
        if (length > stop - p) return QUIC_FRAME_ERROR.truncated;
        counts.crypto++;
        const halt = sink.crypto(streamOffset, b, p, length);
        if (halt !== null) return halt;
        p += length;
        break;
      }
      case QUIC_FRAME.CONNECTION_CLOSE: {
        // Error Code (i), Frame Type (i), Reason Phrase Length (i), Reason (section 19.19).
        for (let i = 0; i < 3; i++) {
          if (!readQuicVarint(b, p, stop, v)) return QUIC_FRAME_ERROR.truncated;
          p += v.size;
        }
        if (v.value > stop - p) return QUIC_FRAME_ERROR.truncated;
        p += v.value;
        counts.connectionClose++;
        break;
      }
      default:
        return QUIC_FRAME_ERROR.notAllowed;
    }
  }
  return null;
}

const ACK_TRUNCATED = -1;
const ACK_TOO_MANY = -2;

/**
 * Skips an ACK frame body at p (section 19.3): Largest Acknowledged, ACK Delay, ACK Range
 * Count, First ACK Range, Count x (Gap, ACK Range Length), then for type 0x03 the three ECN
 * counts (section 19.3.2). Returns the offset after it, or ACK_TRUNCATED / ACK_TOO_MANY.
 */
function skipAck(b: Uint8Array, p: number, end: number, ecn: boolean): number {
  let q = p;
  for (let i = 0; i < 3; i++) {
    if (!readQuicVarint(b, q, end, v)) return ACK_TRUNCATED;
    q += v.size;
  }
  const rangeCount = v.value;
  if (rangeCount > MAX_ACK_RANGES) return ACK_TOO_MANY;
  // First ACK Range, the gap/length pairs, then the ECN counts.
  const fields = 1 + 2 * rangeCount + (ecn ? 3 : 0);
  for (let i = 0; i < fields; i++) {
    if (!readQuicVarint(b, q, end, v)) return ACK_TRUNCATED;
    q += v.size;
  }
  return q;
}
