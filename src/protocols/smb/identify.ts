// SMB1/2/3 from the first segment of either direction; also the NetBIOS session request that
// precedes SMB on tcp/139 (NBSS carries nothing else in practice, so it is reported as SMB).

import { PROTO } from '../proto';
import { u16be, u16le, u24be, u32be, u8 } from '../reader';
import {
  NBSS_ENCODED_NAME_LENGTH, NBSS_HEADER_BYTES, NBSS_MIN_SESSION_REQUEST_BYTES, NBSS_TYPE,
  SMB1_HEADER_BYTES, SMB2_COMPRESSION_HEADER_BYTES, SMB2_HEADER_BYTES, SMB2_STRUCTURE_SIZE,
  SMB2_TRANSFORM_HEADER_BYTES, SMB_PROTOCOL_ID,
} from './constants';

const ENCODED_NAME_CHARS = 32;
const ENCODED_NAME_FIRST = 0x41; // 'A'
const ENCODED_NAME_LAST = 0x50; // 'P'

export function identifySmb(b: Uint8Array, off: number, end: number, fromClient: boolean): number {
  const type = u8(b, off, end);
  if (type === NBSS_TYPE.SESSION_MESSAGE) {
    // One zero byte and a 24-bit length on direct TCP; RFC 1002 reserves 7 of those bits.
    const length = u24be(b, off + 1, end);
    const minHeader = smbHeaderBytes(b, off + NBSS_HEADER_BYTES, end);
    if (minHeader < 0 || length < minHeader) return PROTO.UNKNOWN;
    return PROTO.SMB;
  }
  if (type === NBSS_TYPE.SESSION_REQUEST && fromClient) return identifySessionRequest(b, off, end);
  // No NBSS header: SMB over QUIC and RDMA carry the SMB2 header directly. Without the
  // framing length to cross-check, the StructureSize must be there and right.
  if (u32be(b, off, end) !== SMB_PROTOCOL_ID.SMB2) return PROTO.UNKNOWN;
  return u16le(b, off + 4, end) === SMB2_STRUCTURE_SIZE ? PROTO.SMB : PROTO.UNKNOWN;
}

/** Size of the SMB header starting at h if its protocol id (and SMB2 size) is right, else -1. */
function smbHeaderBytes(b: Uint8Array, h: number, end: number): number {
  switch (u32be(b, h, end)) {
    case SMB_PROTOCOL_ID.SMB1:
      return SMB1_HEADER_BYTES;
    case SMB_PROTOCOL_ID.SMB2: {
      const size = u16le(b, h + 4, end);
      return size === SMB2_STRUCTURE_SIZE || size === -1 ? SMB2_HEADER_BYTES : -1;
    }
    case SMB_PROTOCOL_ID.TRANSFORM:
      return SMB2_TRANSFORM_HEADER_BYTES;
    case SMB_PROTOCOL_ID.COMPRESSION:
      return SMB2_COMPRESSION_HEADER_BYTES;
    default:
      return -1;
  }
}

/** Type 0x81, flags 0, length >= 68, then a first-level encoded called name. */
function identifySessionRequest(b: Uint8Array, off: number, end: number): number {
  if (u8(b, off + 1, end) !== 0) return PROTO.UNKNOWN;
  const length = u16be(b, off + 2, end);
  if (length < NBSS_MIN_SESSION_REQUEST_BYTES) return PROTO.UNKNOWN;
  const name = off + NBSS_HEADER_BYTES;
  if (u8(b, name, end) !== NBSS_ENCODED_NAME_LENGTH) return PROTO.UNKNOWN;
  for (let i = 1; i <= ENCODED_NAME_CHARS; i++) {
    const c = u8(b, name + i, end);
    if (c < ENCODED_NAME_FIRST || c > ENCODED_NAME_LAST) return PROTO.UNKNOWN;
  }
  return PROTO.SMB;
}
