// Field readers shared by the TLS handshake parsers: length-prefixed lists and names, all
// through the bounds-checked reader, and the shared result shapes.

import { u16be, u8 } from '../reader';
import { MAX_ALPN_PROTOCOLS, isGrease } from './constants';
import type { TlsParseInvalid } from './constants';

export type Invalid = { status: 'invalid'; reason: TlsParseInvalid };
export const NEED_MORE = { status: 'need-more' } as const;

export function invalid(reason: TlsParseInvalid): Invalid {
  return { status: 'invalid', reason };
}

/** u16 values from p to end (a trailing odd byte is ignored); true when GREASE was seen. */
export function readU16List(b: Uint8Array, p: number, end: number, out: number[]): boolean {
  let grease = false;
  for (let v = u16be(b, p, end); v >= 0; p += 2, v = u16be(b, p, end)) {
    if (isGrease(v)) grease = true;
    else out.push(v);
  }
  return grease;
}

/** ProtocolNameList: u16 length, then u8-length-prefixed names (RFC 7301 section 3.1). */
export function readAlpnList(b: Uint8Array, p: number, end: number, out: string[]): void {
  const listLength = u16be(b, p, end);
  const listEnd = Math.min(p + 2 + listLength, end);
  for (let q = p + 2; q < listEnd && out.length < MAX_ALPN_PROTOCOLS;) {
    const n = u8(b, q, listEnd);
    if (n < 0 || q + 1 + n > listEnd) return;
    out.push(binaryString(b, q + 1, n, listEnd));
    q += 1 + n;
  }
}

/** One char per byte (see types.ts): the exact bytes stay recoverable. */
export function binaryString(b: Uint8Array, p: number, n: number, end: number): string {
  let s = '';
  for (let i = p, c = u8(b, i, end); i < p + n && c >= 0; i++, c = u8(b, i, end)) {
    s += String.fromCharCode(c);
  }
  return s;
}
