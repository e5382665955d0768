// SSH: the identification string each side sends first, in either direction.

import { PROTO } from '../proto';
import { isVisibleAscii, matchAscii, u8 } from '../reader';
import { MAX_SSH_IDENT_BYTES, SSH_VERSION_PREFIXES } from './constants';

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;

/**
 * "SSH-<version>-" then softwareversion: visible US-ASCII (RFC 4253 section 4.2) up to a
 * space (comments follow), CR LF, or the end of the bytes we have. The RFC also forbids '-'
 * there, but Cisco IOS sends "SSH-1.99-Cisco-1.25", so a minus is tolerated.
 *
 * gap: a server MAY send other lines before its identification string (same section); such
 * banners are not skipped, so those servers are identified from the client side only.
 */
export function identifySsh(b: Uint8Array, off: number, end: number): number {
  for (const prefix of SSH_VERSION_PREFIXES) {
    if (!matchAscii(b, off, end, prefix)) continue;
    const stop = Math.min(end, off + MAX_SSH_IDENT_BYTES);
    for (let i = off + prefix.length; i < stop; i++) {
      const c = u8(b, i, end);
      if (c === SPACE || c === CR || c === LF) {
        return i > off + prefix.length ? PROTO.SSH : PROTO.UNKNOWN; // softwareversion empty
      }
      if (!isVisibleAscii(c)) return PROTO.UNKNOWN;
    }
    return PROTO.SSH; // line cut by the segment end or longer than we look
  }
  return PROTO.UNKNOWN;
}
