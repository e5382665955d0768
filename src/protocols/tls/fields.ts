// Field readers shared by the TLS handshake parsers: length-prefixed lists and names, all
// through the bounds-checked reader, and the shared result shapes.

import type { ParseResult } from '../../fingerprints/types';
import { u16be, u24be, u8 } from '../reader';
import {
  MAX_ALPN_PROTOCOLS, MAX_HELLO_BYTES, TLS_HANDSHAKE_HEADER_BYTES, isGrease,
} from './constants';
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

/**
 * The framing both hellos share (RFC 8446 section 4: type, u24 length, body): checks the type
 * and the length bounds, waits for the whole body, then hands it to `parseBody`.
 * `consumed` is header plus body.
 */
export function parseHelloMessage<T>(
  buf: Uint8Array, off: number, len: number, want: { type: number; minBytes: number;
    notIt: TlsParseInvalid },
  parseBody: (b: Uint8Array, p: number, end: number) => T | Invalid,
): ParseResult<T> {
  const end = Math.min(off + len, buf.length);
  const type = u8(buf, off, end);
  const length = u24be(buf, off + 1, end);
  if (type >= 0 && type !== want.type) return invalid(want.notIt);
  if (length < 0) return NEED_MORE;
  if (length < want.minBytes) return invalid('hello_too_short');
  if (length > MAX_HELLO_BYTES) return invalid('hello_too_long');
  const body = off + TLS_HANDSHAKE_HEADER_BYTES;
  if (body + length > end) return NEED_MORE;

  const record = parseBody(buf, body, body + length);
  if (typeof record === 'object' && record !== null && 'status' in record) return record;
  return { status: 'ok', record: record as T, consumed: TLS_HANDSHAKE_HEADER_BYTES + length };
}
