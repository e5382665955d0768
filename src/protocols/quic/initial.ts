// The client's QUIC Initial packets, opened: long-header parsing (RFC 9000 section 17.2),
// coalesced packets (section 12.2), header protection removal and AEAD (RFC 9001 section 5),
// then the CRYPTO stream put back together by offset until the ClientHello is whole.
// One assembler per client direction; its state is fixed in size.

import type { ParseResult } from '../../fingerprints/types';
import { u24be, u32be, u8 } from '../reader';
import { TLS_HANDSHAKE_HEADER_BYTES, TLS_HANDSHAKE_TYPE } from '../tls/constants';
import {
  MAX_COALESCED_PACKETS, MAX_CRYPTO_BYTES, MAX_CRYPTO_FRAGMENTS, MAX_UDP_PAYLOAD,
  QUIC_HP_SAMPLE_BYTES, QUIC_LONG_HEADER_BITS, QUIC_LONG_HP_MASK,
  QUIC_MAX_CID_BYTES, QUIC_PN_MAX_BYTES, QUIC_TYPE_MASK, QUIC_TYPE_SHIFT,
} from './constants';
import { QuicInitialKeys, quicInitialProfile } from './crypto';
import { readQuicVarint, walkInitialFrames } from './frames';
import type { QuicCryptoSink, QuicFrameCounts, QuicVarint } from './frames';
import type { QuicInitialProfile } from './constants';

/** Why push() gave up; stable names, counted and attached to the flow by the caller. */
export const QUIC_INITIAL_INVALID = {
  notLongHeader: 'not_quic_long_header',
  unsupportedVersion: 'unsupported_quic_version',
  badHeader: 'bad_long_header',
  shortPacket: 'initial_too_short_for_sample',
  decryptFailed: 'initial_decrypt_failed',
  notClientHello: 'crypto_not_client_hello',
  clientHelloTooLong: 'client_hello_too_long',
  tooFragmented: 'crypto_too_fragmented',
} as const;

/** The fields of one long-header packet, as far as walking a datagram needs them. */
interface LongHeader {
  version: number;
  profile: QuicInitialProfile | null;
  type: number;
  dcidStart: number;
  dcidLength: number;
  /** Offset of the Packet Number field (also where the AEAD's associated data ends, minus it). */
  pnOffset: number;
  /** Offset just past this packet: where a coalesced one may start. */
  end: number;
}

const HEADER_OK = 0;
const HEADER_NOT_LONG = 1;
const HEADER_UNSUPPORTED = 2;
const HEADER_BAD = 3;

const varint: QuicVarint = { value: 0, size: 0 };

/**
 * Reads the long header at p (RFC 9000 section 17.2): first byte 1 1 TT xxxx, version, DCID
 * length and DCID, SCID length and SCID; then for Initial the token (varint length), and for
 * Initial, 0-RTT and Handshake the Length varint covering packet number and payload.
 */
function readLongHeader(b: Uint8Array, p: number, end: number, h: LongHeader): number {
  const first = u8(b, p, end);
  if (first < 0 || (first & QUIC_LONG_HEADER_BITS) !== QUIC_LONG_HEADER_BITS) {
    return HEADER_NOT_LONG;
  }
  const version = u32be(b, p + 1, end);
  const profile = quicInitialProfile(version);
  if (profile === null) return version < 0 ? HEADER_BAD : HEADER_UNSUPPORTED;
  h.version = version;
  h.profile = profile;
  h.type = (first >> QUIC_TYPE_SHIFT) & QUIC_TYPE_MASK;

  let q = p + 5;
  const dcidLength = u8(b, q, end);
  if (dcidLength < 0 || dcidLength > QUIC_MAX_CID_BYTES) return HEADER_BAD;
  h.dcidStart = q + 1;
  h.dcidLength = dcidLength;
  q += 1 + dcidLength;
  const scidLength = u8(b, q, end);
  if (scidLength < 0 || scidLength > QUIC_MAX_CID_BYTES) return HEADER_BAD;
  q += 1 + scidLength;

  // Retry (the type after Handshake, modulo 4) has no Length: a client never sends one.
  const retryType = (profile.initialType + 3) & QUIC_TYPE_MASK;
  if (h.type === retryType) return HEADER_BAD;
  if (h.type === profile.initialType) {
    if (!readQuicVarint(b, q, end, varint) || varint.value > end - q - varint.size) {
      return HEADER_BAD;
    }
    q += varint.size + varint.value;
  }
  if (!readQuicVarint(b, q, end, varint)) return HEADER_BAD;
  q += varint.size;
  if (varint.value > end - q) return HEADER_BAD;
  h.pnOffset = q;
  h.end = q + varint.value;
  return HEADER_OK;
}

/**
 * True when the UDP payload at off starts with a long-header Initial of a version we can
 * open (v1, v2, drafts 22 to 34), with connection id lengths in range.
 */
export function isQuicLongHeaderInitial(buf: Uint8Array, off: number, len: number): boolean {
  const end = Math.min(off + len, buf.length);
  const first = u8(buf, off, end);
  if (first < 0 || (first & QUIC_LONG_HEADER_BITS) !== QUIC_LONG_HEADER_BITS) return false;
  const profile = quicInitialProfile(u32be(buf, off + 1, end));
  if (profile === null) return false;
  if (((first >> QUIC_TYPE_SHIFT) & QUIC_TYPE_MASK) !== profile.initialType) return false;
  const dcidLength = u8(buf, off + 5, end);
  if (dcidLength < 0 || dcidLength > QUIC_MAX_CID_BYTES) return false;
  const scidLength = u8(buf, off + 6 + dcidLength, end);
  return scidLength >= 0 && scidLength <= QUIC_MAX_CID_BYTES;
}

/**
 * Packet number recovery (RFC 9000 section 17.1 and appendix A.3): the candidate nearest
 * to largest + 1 among those whose low `bits` match the truncated value.
 */
export function decodePacketNumber(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1;
  const win = 2 ** bits;
  const half = win / 2;
  const candidate = Math.floor(expected / win) * win + truncated;
  if (candidate <= expected - half && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + half && candidate >= win) return candidate - win;
  return candidate;
}

/**
 * The associated data of the packet being opened: its header with protection removed. The
 * header fits in the datagram, so one buffer the size of the largest UDP payload serves all.
 */
const aad = new Uint8Array(MAX_UDP_PAYLOAD);

/** Reassembles a client's ClientHello from its Initial packets, one UDP payload at a time. */
export class QuicInitialAssembler implements QuicCryptoSink {
  private versionSeen = 0;
  /** DCID the connection's keys come from: the first Initial's, or a Retry's (s5.2). */
  private readonly connDcid = new Uint8Array(QUIC_MAX_CID_BYTES);
  private connDcidLength = -1;
  /** The last keys derived, and what from; one slot, re-derived when a packet needs others. */
  private keys: QuicInitialKeys | null = null;
  private keysVersion = 0;
  private readonly keysDcid = new Uint8Array(QUIC_MAX_CID_BYTES);
  private keysDcidLength = -1;
  /** Largest Initial packet number opened so far, -1 before the first. */
  private largestPn = -1;
  /** The CRYPTO stream: allocated when the first Initial opens, kept across reset(). */
  private data: Uint8Array | null = null;
  /** Bytes [0, contiguous) of the stream have all arrived. */
  private contiguous = 0;
  /** Fragments past a gap, [start, end) each, unordered. */
  private readonly fragStart = new Int32Array(MAX_CRYPTO_FRAGMENTS);
  private readonly fragEnd = new Int32Array(MAX_CRYPTO_FRAGMENTS);
  private fragCount = 0;
  private outcome: ParseResult<Uint8Array> | null = null;
  private readonly header: LongHeader = {
    version: 0, profile: null, type: 0, dcidStart: 0, dcidLength: 0, pnOffset: 0, end: 0,
  };

  /** Initial packets opened; packets that failed to open after the first one had. */
  packetsOpened = 0;
  packetsRejected = 0;
  readonly frames: QuicFrameCounts = { crypto: 0, ack: 0, ping: 0, padding: 0, connectionClose: 0 };

  /** Version of the first Initial that opened; 0 until one has. */
  get version(): number {
    return this.versionSeen;
  }

  /** Ready for a new flow; the stream buffer is kept. */
  reset(): void {
    this.versionSeen = 0;
    this.connDcidLength = -1;
    this.keys = null;
    this.keysVersion = 0;
    this.keysDcidLength = -1;
    this.largestPn = -1;
    this.contiguous = 0;
    this.fragCount = 0;
    this.outcome = null;
    this.packetsOpened = 0;
    this.packetsRejected = 0;
    const f = this.frames;
    f.crypto = f.ack = f.ping = f.padding = f.connectionClose = 0;
  }

  /**
   * Feed one UDP payload sent by the client. Returns need-more until the full ClientHello
   * handshake message (header included) is reassembled; then ok with a copy of those bytes
   * (and the same answer for any later call). invalid when the first packets are not a QUIC
   * Initial we can open, or the CRYPTO stream cannot be a ClientHello; that is final too.
   */
  push(buf: Uint8Array, off: number, len: number): ParseResult<Uint8Array> {
    if (this.outcome !== null) return this.outcome;
    if (!(off >= 0 && len > 0)) return this.needMoreOr(QUIC_INITIAL_INVALID.notLongHeader);
    // A UDP payload is never longer; the cap also bounds every header copied into `aad`.
    const end = Math.min(off + Math.min(len, MAX_UDP_PAYLOAD), buf.length);
    const h = this.header;

    // Walk the coalesced packets (RFC 9000 section 12.2). Only the first must parse; a later
    // one that does not, or names another connection, ends the datagram (it may be padding).
    let p = off;
    let firstDcidStart = -1;
    let firstDcidLength = 0;
    for (let n = 0; n < MAX_COALESCED_PACKETS && p < end; n++) {
      const status = readLongHeader(buf, p, end, h);
      if (status !== HEADER_OK) {
        if (n > 0) break;
        return this.needMoreOr(headerReason(status));
      }
      if (n === 0) {
        firstDcidStart = h.dcidStart;
        firstDcidLength = h.dcidLength;
      } else if (!sameBytes(buf, h.dcidStart, h.dcidLength, buf, firstDcidStart, firstDcidLength)) {
        break;
      }
      if (h.profile !== null && h.type === h.profile.initialType) {
        const reason = this.openInitial(buf, p, h);
        if (reason !== null) return this.fail(reason);
        if (this.outcome !== null) return this.outcome;
      }
      p = h.end;
    }
    // Initials that opened without completing the ClientHello, or only 0-RTT and Handshake
    // packets (a reordered 0-RTT packet can come before the Initial): wait for more.
    return NEED_MORE;
  }

  /** Removes header protection from the Initial at p, opens it and walks its frames. */
  private openInitial(b: Uint8Array, p: number, h: LongHeader): string | null {
    // The sample starts 4 bytes past the packet number, whatever its length (RFC 9001
    // section 5.4.2), so an Initial must hold at least 4 + 16 bytes there.
    const sampleAt = h.pnOffset + QUIC_PN_MAX_BYTES;
    if (sampleAt + QUIC_HP_SAMPLE_BYTES > h.end) {
      return this.rejectOrFail(QUIC_INITIAL_INVALID.shortPacket);
    }
    // Keys come from the DCID of the client's first Initial (RFC 9001 section 5.2); after a
    // Retry, or for another connection on the same ports, the packet's own DCID is the one.
    const own = sameBytes(this.connDcid, 0, this.connDcidLength, b, h.dcidStart, h.dcidLength);
    let plain = this.connDcidLength < 0 ? null
      : this.tryOpen(b, p, h, this.connDcid, 0, this.connDcidLength);
    if (plain === null && !own) {
      plain = this.tryOpen(b, p, h, b, h.dcidStart, h.dcidLength);
      if (plain !== null) {
        this.connDcid.set(b.subarray(h.dcidStart, h.dcidStart + h.dcidLength));
        this.connDcidLength = h.dcidLength;
      }
    }
    if (plain === null) return this.rejectOrFail(QUIC_INITIAL_INVALID.decryptFailed);

    if (this.versionSeen === 0) this.versionSeen = h.version;
    this.packetsOpened++;
    if (this.data === null) this.data = new Uint8Array(MAX_CRYPTO_BYTES);
    const stop = walkInitialFrames(plain, 0, plain.length, this, this.frames);
    if (stop !== null) return stop;
    return this.checkComplete();
  }

  /** Opens the Initial with keys from `dcid` (deriving them when not cached), or null. */
  private tryOpen(
    b: Uint8Array, p: number, h: LongHeader, dcid: Uint8Array, dcidStart: number,
    dcidLength: number,
  ): Buffer | null {
    if (!this.keysAre(h.version, dcid, dcidStart, dcidLength)) {
      const id = dcid.slice(dcidStart, dcidStart + dcidLength);
      this.keys = new QuicInitialKeys(id, h.profile as QuicInitialProfile);
      this.keysVersion = h.version;
      this.keysDcid.set(id);
      this.keysDcidLength = dcidLength;
    }
    const keys = this.keys as QuicInitialKeys;

    // Header protection (RFC 9001 section 5.4.1): the mask's first byte covers the low 4 bits
    // of the first byte, the next 1 to 4 bytes the packet number.
    const mask = keys.headerMask(b, h.pnOffset + QUIC_PN_MAX_BYTES);
    const headerLength = h.pnOffset - p;
    aad.set(b.subarray(p, h.pnOffset), 0);
    aad[0] ^= mask[0] & QUIC_LONG_HP_MASK;
    const pnLength = (aad[0] & 0x03) + 1;
    let truncated = 0;
    for (let i = 0; i < pnLength; i++) {
      const byte = u8(b, h.pnOffset + i, h.end) ^ mask[1 + i];
      aad[headerLength + i] = byte;
      truncated = truncated * 256 + byte;
    }
    const pn = decodePacketNumber(this.largestPn, truncated, 8 * pnLength);
    // At least the 16-byte sample lies past the packet number, so the tag is there.
    const sealedStart = h.pnOffset + pnLength;
    const plain = keys.open(pn, aad.subarray(0, headerLength + pnLength),
      b.subarray(sealedStart, h.end));
    if (plain !== null && pn > this.largestPn) this.largestPn = pn;
    return plain;
  }

  private keysAre(version: number, dcid: Uint8Array, start: number, length: number): boolean {
    return this.keys !== null && this.keysVersion === version &&
      sameBytes(this.keysDcid, 0, this.keysDcidLength, dcid, start, length);
  }

  /**
   * CRYPTO frame data (QuicCryptoSink). Bytes past MAX_CRYPTO_BYTES are dropped: they cannot
   * belong to a ClientHello we accept, and checkComplete() says so when it matters.
   */
  crypto(streamOffset: number, b: Uint8Array, start: number, length: number): string | null {
    const data = this.data as Uint8Array;
    if (length === 0 || streamOffset >= MAX_CRYPTO_BYTES) return null;
    const fragEnd = Math.min(streamOffset + length, MAX_CRYPTO_BYTES);
    if (fragEnd <= this.contiguous) return null;
    data.set(b.subarray(start, start + (fragEnd - streamOffset)), streamOffset);
    if (streamOffset > this.contiguous) {
      if (this.fragCount === MAX_CRYPTO_FRAGMENTS) return QUIC_INITIAL_INVALID.tooFragmented;
      this.fragStart[this.fragCount] = streamOffset;
      this.fragEnd[this.fragCount] = fragEnd;
      this.fragCount++;
      return null;
    }
    this.contiguous = fragEnd;
    // Absorb every remembered fragment the new prefix now reaches, until none does.
    for (let merged = true; merged;) {
      merged = false;
      for (let i = 0; i < this.fragCount; i++) {
        if (this.fragStart[i] > this.contiguous) continue;
        if (this.fragEnd[i] > this.contiguous) this.contiguous = this.fragEnd[i];
        this.fragCount--;
        this.fragStart[i] = this.fragStart[this.fragCount];
        this.fragEnd[i] = this.fragEnd[this.fragCount];
        merged = true;
        i--;
      }
    }
    return null;
  }

  /** Sets the ok outcome once the handshake message is whole; a reason if it cannot be. */
  private checkComplete(): string | null {
    const data = this.data as Uint8Array;
    const have = this.contiguous;
    if (have < TLS_HANDSHAKE_HEADER_BYTES) return null;
    // The client's Initial CRYPTO stream starts with its ClientHello (RFC 9001 section 4.1.3).
    if (u8(data, 0, have) !== TLS_HANDSHAKE_TYPE.CLIENT_HELLO) {
      return QUIC_INITIAL_INVALID.notClientHello;
    }
    const total = TLS_HANDSHAKE_HEADER_BYTES + u24be(data, 1, have);
    if (total > MAX_CRYPTO_BYTES) return QUIC_INITIAL_INVALID.clientHelloTooLong;
    if (have >= total) {
      this.outcome = { status: 'ok', record: data.slice(0, total), consumed: total };
    }
    return null;
  }

  /**
   * A packet that cannot be opened ends the flow while nothing has opened yet; after that it
   * is skipped and counted (an injected packet must not blind us to the real ClientHello).
   */
  private rejectOrFail(reason: string): string | null {
    if (this.packetsOpened === 0) return reason;
    this.packetsRejected++;
    return null;
  }

  /** A datagram with nothing for us: invalid before the first Initial opens, else ignored. */
  private needMoreOr(reason: string): ParseResult<Uint8Array> {
    return this.packetsOpened === 0 ? this.fail(reason) : NEED_MORE;
  }

  private fail(reason: string): ParseResult<Uint8Array> {
    this.outcome = { status: 'invalid', reason };
    return this.outcome;
  }
}

const NEED_MORE: ParseResult<Uint8Array> = { status: 'need-more' };

function headerReason(status: number): string {
  if (status === HEADER_NOT_LONG) return QUIC_INITIAL_INVALID.notLongHeader;
  if (status === HEADER_UNSUPPORTED) return QUIC_INITIAL_INVALID.unsupportedVersion;
  return QUIC_INITIAL_INVALID.badHeader;
}

function sameBytes(
  a: Uint8Array, aStart: number, aLength: number, b: Uint8Array, bStart: number, bLength: number,
): boolean {
  if (aLength !== bLength) return false;
  for (let i = 0; i < aLength; i++) {
    if (a[aStart + i] !== b[bStart + i]) return false;
  }
  return true;
}
