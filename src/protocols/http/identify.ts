// HTTP/1.x request or status line (RFC 9112 sections 3 and 4), and the HTTP/2 prior-knowledge
// preface. Both directions are accepted: a status line from the client side or a request
// from the server side is still HTTP on the wire, and the flow layer judges direction.
//
// gap: HTTP over UDP (SSDP, udp/1900) is not identified; it is discovery, not a service.

import { PROTO } from '../proto';
import {
  isAlpha, isDigit, isVisibleAscii, matchAscii, matchAsciiPrefix, u8,
} from '../reader';
import {
  HTTP1_STATUS_PREFIXES, HTTP1_VERSION_PREFIX, HTTP2_PREFACE, HTTP2_PREFACE_MIN_BYTES,
  HTTP_METHODS, MAX_REQUEST_TARGET_SCAN,
} from './constants';

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const SLASH = 0x2f;
const STAR = 0x2a;
const OPEN_BRACKET = 0x5b;

export function identifyHttp(b: Uint8Array, off: number, end: number): number {
  const first = u8(b, off, end);
  if (first === 0x48 /* H */ && identifyStatusLine(b, off, end) === PROTO.HTTP) {
    return PROTO.HTTP;
  }
  if (first === 0x50 /* P */ && matchAsciiPrefix(b, off, end, HTTP2_PREFACE,
    HTTP2_PREFACE_MIN_BYTES)) {
    return PROTO.HTTP2;
  }
  for (const method of HTTP_METHODS) {
    if (matchAscii(b, off, end, method) && u8(b, off + method.length, end) === SP) {
      return identifyRequestTarget(b, off + method.length + 1, end);
    }
  }
  return PROTO.UNKNOWN;
}

/** "HTTP/1.0 " or "HTTP/1.1 ", a status code 100-599, then SP or CR (or the end). */
function identifyStatusLine(b: Uint8Array, off: number, end: number): number {
  for (const prefix of HTTP1_STATUS_PREFIXES) {
    if (!matchAscii(b, off, end, prefix)) continue;
    const s = off + prefix.length;
    const d0 = u8(b, s, end);
    if (d0 < 0x31 || d0 > 0x35 || !isDigit(u8(b, s + 1, end)) || !isDigit(u8(b, s + 2, end))) {
      return PROTO.UNKNOWN;
    }
    const after = u8(b, s + 3, end);
    return after === SP || after === CR || after === -1 ? PROTO.HTTP : PROTO.UNKNOWN;
  }
  return PROTO.UNKNOWN;
}

/**
 * request-target SP HTTP-version. The target must start like one of the four forms
 * (origin "/", asterisk "*", absolute "scheme:", authority "host:port" or "[v6]:port") and
 * hold no control characters or spaces; bytes >= 0x80 are tolerated because real clients
 * send raw UTF-8 paths. If the segment ends before the SP, the line was cut: the method, SP
 * and a well-formed start of target are enough. A CR or LF before any version (HTTP/0.9)
 * is rejected.
 */
function identifyRequestTarget(b: Uint8Array, t: number, end: number): number {
  const first = u8(b, t, end);
  if (first !== SLASH && first !== STAR && first !== OPEN_BRACKET && !isAlpha(first) &&
    !isDigit(first)) {
    return PROTO.UNKNOWN;
  }
  const stop = Math.min(end, t + MAX_REQUEST_TARGET_SCAN);
  for (let i = t + 1; i < stop; i++) {
    const c = u8(b, i, end);
    if (c === SP) return identifyRequestVersion(b, i + 1, end);
    if (c < 0x80 && !isVisibleAscii(c)) return PROTO.UNKNOWN; // CR, LF, controls, DEL
  }
  return PROTO.HTTP;
}

/** "HTTP/1." DIGIT then CR or LF; a cut version must still agree with what is there. */
function identifyRequestVersion(b: Uint8Array, v: number, end: number): number {
  if (end - v <= HTTP1_VERSION_PREFIX.length) {
    return matchAsciiPrefix(b, v, end, HTTP1_VERSION_PREFIX, 0) ? PROTO.HTTP : PROTO.UNKNOWN;
  }
  if (!matchAscii(b, v, end, HTTP1_VERSION_PREFIX)) return PROTO.UNKNOWN;
  const minor = u8(b, v + HTTP1_VERSION_PREFIX.length, end);
  if (!isDigit(minor)) return PROTO.UNKNOWN;
  const after = u8(b, v + HTTP1_VERSION_PREFIX.length + 1, end);
  return after === CR || after === LF || after === -1 ? PROTO.HTTP : PROTO.UNKNOWN;
}
