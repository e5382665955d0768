// SOCKS: the client's first message. Each is one complete message the client sends before it
// waits for a reply, so its length must match the payload exactly.

import { PROTO } from '../proto';
import { u16be, u32be, u8 } from '../reader';
import {
  MAX_SOCKS4_FIELD_BYTES, SOCKS4A_MAX_IP, SOCKS4_COMMAND, SOCKS4_FIXED_BYTES, SOCKS4_VERSION,
  SOCKS5_FIRST_PRIVATE_METHOD, SOCKS5_MAX_ASSIGNED_METHOD, SOCKS5_NO_ACCEPTABLE_METHOD,
  SOCKS5_VERSION,
} from './constants';

export function identifySocks(
  b: Uint8Array, off: number, end: number, fromClient: boolean,
): number {
  if (!fromClient) return PROTO.UNKNOWN; // server replies are too short to tell apart
  const version = u8(b, off, end);
  if (version === SOCKS4_VERSION) return identifySocks4(b, off, end);
  if (version === SOCKS5_VERSION) return identifySocks5(b, off, end);
  return PROTO.UNKNOWN;
}

/** VN 4, CD 1|2, DSTPORT, DSTIP, USERID NUL [, HOSTNAME NUL for 4a]. */
function identifySocks4(b: Uint8Array, off: number, end: number): number {
  const command = u8(b, off + 1, end);
  if (command !== SOCKS4_COMMAND.CONNECT && command !== SOCKS4_COMMAND.BIND) {
    return PROTO.UNKNOWN;
  }
  const port = u16be(b, off + 2, end);
  const ip = u32be(b, off + 4, end);
  if (port <= 0 || ip <= 0) return PROTO.UNKNOWN; // port 0 / 0.0.0.0 are not destinations
  let p = skipField(b, off + SOCKS4_FIXED_BYTES, end, true);
  if (p < 0) return PROTO.UNKNOWN;
  if (ip <= SOCKS4A_MAX_IP) {
    p = skipField(b, p, end, false); // 4a host name
    if (p < 0) return PROTO.UNKNOWN;
  }
  return p === end ? PROTO.SOCKS4 : PROTO.UNKNOWN;
}

/**
 * A NUL-terminated field of printable ASCII (user ids may hold spaces, host names may not);
 * returns the offset after the NUL or -1.
 */
function skipField(b: Uint8Array, p: number, end: number, spaceAllowed: boolean): number {
  const stop = Math.min(end, p + MAX_SOCKS4_FIELD_BYTES + 1);
  for (let i = p; i < stop; i++) {
    const c = u8(b, i, end);
    if (c === 0) return !spaceAllowed && i === p ? -1 : i + 1; // empty host name
    if (c > 0x7e || c < 0x20 || (c === 0x20 && !spaceAllowed)) return -1;
  }
  return -1;
}

/** VER 5, NMETHODS 1..255, then exactly NMETHODS method bytes (RFC 1928 section 3). */
function identifySocks5(b: Uint8Array, off: number, end: number): number {
  const methods = u8(b, off + 1, end);
  if (methods < 1 || end - off !== 2 + methods) return PROTO.UNKNOWN;
  for (let i = off + 2; i < end; i++) {
    const m = u8(b, i, end);
    const known = m <= SOCKS5_MAX_ASSIGNED_METHOD ||
      (m >= SOCKS5_FIRST_PRIVATE_METHOD && m !== SOCKS5_NO_ACCEPTABLE_METHOD);
    if (!known) return PROTO.UNKNOWN;
  }
  return PROTO.SOCKS5;
}
