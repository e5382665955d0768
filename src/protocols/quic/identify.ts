// QUIC: the client's Initial packet, the only part of a QUIC connection that is not
// encrypted beyond recognition. Only its unprotected fields are checked.

import { PROTO } from '../proto';
import { u32be, u8 } from '../reader';
import {
  QUIC_DRAFT_FIRST, QUIC_DRAFT_LAST, QUIC_LONG_HEADER_BITS, QUIC_MAX_CID_BYTES,
  QUIC_MIN_CLIENT_DCID_BYTES, QUIC_MIN_INITIAL_DATAGRAM, QUIC_TYPE_MASK, QUIC_TYPE_SHIFT,
  QUIC_V1_INITIAL_TYPE, QUIC_V2_INITIAL_TYPE, QUIC_VERSION,
} from './constants';

/**
 * First byte 11TT xxxx (long header, fixed bit, Initial type; the low bits are header-
 * protected), version, DCID length 8..20, DCID, SCID length <= 20, SCID, token length,
 * token, length; the packet must fit in a datagram of at least 1200 bytes.
 */
export function identifyQuic(
  b: Uint8Array, off: number, end: number, fromClient: boolean,
): number {
  if (!fromClient || end - off < QUIC_MIN_INITIAL_DATAGRAM) return PROTO.UNKNOWN;
  const first = u8(b, off, end);
  if ((first & QUIC_LONG_HEADER_BITS) !== QUIC_LONG_HEADER_BITS) return PROTO.UNKNOWN;
  const type = (first >> QUIC_TYPE_SHIFT) & QUIC_TYPE_MASK;
  const version = u32be(b, off + 1, end);
  const isV2 = version === QUIC_VERSION.V2;
  const isV1Like = version === QUIC_VERSION.V1 ||
    (version >= QUIC_DRAFT_FIRST && version <= QUIC_DRAFT_LAST);
  if (!(isV1Like && type === QUIC_V1_INITIAL_TYPE) && !(isV2 && type === QUIC_V2_INITIAL_TYPE)) {
    return PROTO.UNKNOWN;
  }

  let p = off + 5;
  const dcidLength = u8(b, p, end);
  if (dcidLength < QUIC_MIN_CLIENT_DCID_BYTES || dcidLength > QUIC_MAX_CID_BYTES) {
    return PROTO.UNKNOWN;
  }
  p += 1 + dcidLength;
  const scidLength = u8(b, p, end);
  if (scidLength < 0 || scidLength > QUIC_MAX_CID_BYTES) return PROTO.UNKNOWN;
  p += 1 + scidLength;
  const tokenLength = readVarint(b, p, end);
  if (tokenLength < 0) return PROTO.UNKNOWN;
  p += varintBytes(b, p, end) + tokenLength;
  const packetLength = readVarint(b, p, end);
  if (packetLength < 0) return PROTO.UNKNOWN;
  p += varintBytes(b, p, end);
  // The Initial may be followed by coalesced packets, so it need only fit.
  return p + packetLength <= end ? PROTO.QUIC : PROTO.UNKNOWN;
}

/** Encoded size of the variable-length integer at p (already read): 1, 2, 4 or 8 (s16). */
function varintBytes(b: Uint8Array, p: number, end: number): number {
  return 1 << (u8(b, p, end) >> 6);
}

/**
 * Value of the variable-length integer at p, or -1 when it is not all below end. Values
 * past 2^32 cannot be a length inside one datagram and read as -1 too.
 */
function readVarint(b: Uint8Array, p: number, end: number): number {
  const first = u8(b, p, end);
  if (first < 0) return -1;
  const size = 1 << (first >> 6);
  if (p + size > end) return -1;
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) {
    value = value * 256 + u8(b, p + i, end);
    if (value > 0xffffffff) return -1;
  }
  return value;
}
