// Finds where an SSH connection's cleartext handshake ends, per direction, without keeping
// any stream bytes: it follows the identification line (RFC 4253 section 4.2) and then the
// unencrypted binary packets' length fields (section 6) until SSH_MSG_NEWKEYS (section 7.3),
// after which everything that direction sends is encrypted. Fixed state per entry: a few
// numbers and a 6-byte carry for a packet header split across segments.

import { MAX_SSH_IDENT_BYTES } from '../../protocols/ssh/constants';
import {
  ASCII, MAX_SSH_PACKET_BYTES, SSH_PACKET_LENGTH_BYTES, SSH_PADDING_LENGTH_BYTES,
} from '../../protocols/ssh/kex-constants';

/** SSH_MSG_NEWKEYS (RFC 4250 section 4.1.2). */
const SSH_MSG_NEWKEYS = 21;
/** packet_length, padding_length, message number: what we read of each packet. */
const HEADER_BYTES = SSH_PACKET_LENGTH_BYTES + SSH_PADDING_LENGTH_BYTES + 1;
/**
 * When the walk loses its way (a capture gap, a banner that does not start the stream), the
 * direction is taken as encrypted after this many payload segments: a key exchange is
 * banner, KEXINIT, one or two KEX messages and NEWKEYS.
 */
export const LOST_HANDSHAKE_SEGMENTS = 6;

const enum Phase {
  Start = 0,
  Banner = 1,
  Clear = 2,
  Encrypted = 3,
  Lost = 4,
}

export class HandshakeWalker {
  private readonly phase: Uint8Array; // [entry*2 + dir]
  private readonly next: Uint32Array; // next expected TCP sequence number
  private readonly skip: Uint32Array; // bytes left of the current packet
  private readonly seen: Uint16Array; // banner bytes so far, or segments since lost
  private readonly hdr: Uint8Array; // HEADER_BYTES per direction
  private readonly hdrLen: Uint8Array;
  /** Walks that lost their way, over the table's life. */
  lost = 0;

  constructor(pool: number) {
    this.phase = new Uint8Array(pool * 2);
    this.next = new Uint32Array(pool * 2);
    this.skip = new Uint32Array(pool * 2);
    this.seen = new Uint16Array(pool * 2);
    this.hdr = new Uint8Array(pool * 2 * HEADER_BYTES);
    this.hdrLen = new Uint8Array(pool * 2);
  }

  reset(e: number): void {
    for (let i = e * 2; i < e * 2 + 2; i++) {
      this.phase[i] = Phase.Start;
      this.skip[i] = 0;
      this.seen[i] = 0;
      this.hdrLen[i] = 0;
    }
  }

  /** Both directions are past their handshake (found, or estimated after losing it). */
  done(e: number): boolean {
    return this.ready(e * 2) && this.ready(e * 2 + 1);
  }

  private ready(i: number): boolean {
    const ph = this.phase[i];
    return ph === Phase.Encrypted || (ph === Phase.Lost && this.seen[i] >= LOST_HANDSHAKE_SEGMENTS);
  }

  /** 'newkeys' when both ends were found exactly, 'estimated' otherwise. */
  how(e: number): 'newkeys' | 'estimated' {
    return this.phase[e * 2] === Phase.Encrypted && this.phase[e * 2 + 1] === Phase.Encrypted
      ? 'newkeys' : 'estimated';
  }

  private loseWay(i: number): void {
    this.phase[i] = Phase.Lost;
    this.seen[i] = 1;
    this.lost++;
  }

  /** One payload segment of direction `dir`, in capture order. */
  feed(e: number, dir: number, seq: number, buf: Uint8Array, off: number, len: number): void {
    const i = e * 2 + dir;
    let ph = this.phase[i];
    if (ph === Phase.Encrypted) return;
    if (ph === Phase.Lost) {
      if (this.seen[i] < LOST_HANDSHAKE_SEGMENTS) this.seen[i]++;
      return;
    }
    let p = off;
    const end = Math.min(off + len, buf.length);
    if (ph === Phase.Start) {
      // Identification found this segment to start with "SSH-": the stream starts here.
      this.next[i] = seq >>> 0;
      ph = this.phase[i] = Phase.Banner;
    }
    const ahead = (seq - this.next[i]) | 0;
    if (ahead > 0) {
      this.loseWay(i); // bytes missing from the capture: the framing cannot be followed
      return;
    }
    if (-ahead >= end - p) return; // a retransmission of bytes already walked
    p -= ahead;
    this.next[i] = (seq + (end - off)) >>> 0;

    if (ph === Phase.Banner) {
      while (p < end && buf[p] !== ASCII.LF) p++;
      const used = this.seen[i] + (p - off);
      if (used > MAX_SSH_IDENT_BYTES) {
        this.loseWay(i);
        return;
      }
      this.seen[i] = used;
      if (p === end) return;
      p++; // past the LF
      this.phase[i] = Phase.Clear;
    }
    this.walkPackets(i, buf, p, end);
  }

  private walkPackets(i: number, buf: Uint8Array, p: number, end: number): void {
    const h = i * HEADER_BYTES;
    while (p < end) {
      const skip = this.skip[i];
      if (skip > 0) {
        const n = Math.min(skip, end - p);
        this.skip[i] = skip - n;
        p += n;
        continue;
      }
      let got = this.hdrLen[i];
      while (got < HEADER_BYTES && p < end) this.hdr[h + got++] = buf[p++];
      this.hdrLen[i] = got;
      if (got < HEADER_BYTES) return;
      this.hdrLen[i] = 0;
      const b = this.hdr;
      const length = ((b[h] << 24) | (b[h + 1] << 16) | (b[h + 2] << 8) | b[h + 3]) >>> 0;
      if (length < HEADER_BYTES - SSH_PACKET_LENGTH_BYTES ||
        length + SSH_PACKET_LENGTH_BYTES > MAX_SSH_PACKET_BYTES) {
        this.loseWay(i);
        return;
      }
      if (b[h + 5] === SSH_MSG_NEWKEYS) {
        // Whatever follows in this segment is already encrypted; shape counting starts
        // with the next segment.
        this.phase[i] = Phase.Encrypted;
        return;
      }
      this.skip[i] = length + SSH_PACKET_LENGTH_BYTES - HEADER_BYTES;
    }
  }
}
