// RDP: the X.224 Connection Request from the client or Connection Confirm from the server.
// TPKT + X.224 is also used by ISO-TSAP services (S7comm and ICCP on tcp/102); those carry
// TSAP parameters (0xc0-0xc2) in the variable part, which we reject, so only RDP's
// cookie / negotiation structures make a match.

import { PROTO } from '../proto';
import { matchAscii, u16be, u16le, u8 } from '../reader';
import {
  MAX_X224_CONNECTION_BYTES, RDP_COOKIE_PREFIX, RDP_NEG_LENGTH, RDP_NEG_TYPE, TPKT_HEADER_BYTES,
  TPKT_VERSION, X224_CLASS_0, X224_CONNECTION_MIN_BYTES, X224_TPDU,
} from './constants';

export function identifyRdp(b: Uint8Array, off: number, end: number, fromClient: boolean): number {
  // TPKT: version (1), reserved (1), length (2) covering the whole packet.
  if (u8(b, off, end) !== TPKT_VERSION || u8(b, off + 1, end) !== 0) return PROTO.UNKNOWN;
  const length = u16be(b, off + 2, end);
  if (length < X224_CONNECTION_MIN_BYTES || length > MAX_X224_CONNECTION_BYTES) {
    return PROTO.UNKNOWN;
  }

  // X.224: length indicator (excludes itself), TPDU code, DST-REF (2), SRC-REF (2), class.
  const x = off + TPKT_HEADER_BYTES;
  if (u8(b, x, end) !== length - TPKT_HEADER_BYTES - 1) return PROTO.UNKNOWN;
  const code = fromClient ? X224_TPDU.CONNECTION_REQUEST : X224_TPDU.CONNECTION_CONFIRM;
  if (u8(b, x + 1, end) !== code) return PROTO.UNKNOWN;
  // A Connection Request has no peer reference yet (X.224 section 13.3.3).
  if (fromClient && u16be(b, x + 2, end) !== 0) return PROTO.UNKNOWN;
  if (u8(b, x + 6, end) !== X224_CLASS_0) return PROTO.UNKNOWN;

  const v = off + X224_CONNECTION_MIN_BYTES;
  if (length === X224_CONNECTION_MIN_BYTES || v >= end) return PROTO.RDP; // no variable part
  const first = u8(b, v, end);
  if (fromClient) {
    if (matchAscii(b, v, end, RDP_COOKIE_PREFIX)) return PROTO.RDP;
    if (end - v < RDP_COOKIE_PREFIX.length && first === RDP_COOKIE_PREFIX.charCodeAt(0)) {
      return PROTO.RDP; // cut inside the cookie
    }
    return first === RDP_NEG_TYPE.REQUEST && isNegLength(b, v, end) ? PROTO.RDP : PROTO.UNKNOWN;
  }
  const isNeg = first === RDP_NEG_TYPE.RESPONSE || first === RDP_NEG_TYPE.FAILURE;
  return isNeg && isNegLength(b, v, end) ? PROTO.RDP : PROTO.UNKNOWN;
}

/** type (1), flags (1), length (2, little-endian, always 8); a cut length is accepted. */
function isNegLength(b: Uint8Array, v: number, end: number): boolean {
  const negLength = u16le(b, v + 2, end);
  return negLength === RDP_NEG_LENGTH || negLength === -1;
}
