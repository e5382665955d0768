// SoftEther VPN's UDP NAT traversal: a VPN server behind NAT registers with SoftEther's NAT-T
// servers (udp/5004) so clients can reach it without a port forward. Two wire formats show
// in the head: the PACK serialisation every SoftEther control message uses (Mayaqua Pack.c:
// a big-endian element count, then per element a name, a value type and a value count), and
// the NAT-T server's answer to a one-byte "A" keep-alive, "IP=<address>,PORT=<port>" in text.

import { isDigit, matchAscii, u8, u32be } from '../protocols/reader';

// PACK value types (Mayaqua Pack.h VALUE_INT ... VALUE_INT64).
const VALUE_INT = 0;
const VALUE_DATA = 1;
const VALUE_STR = 2;
const VALUE_UNISTR = 3;
const VALUE_INT64 = 4;

/** Element names are at most 63 bytes (Pack.h MAX_ELEMENT_NAME_LEN). */
const MAX_ELEMENT_NAME = 63;
/** Our caps, far above any PACK SoftEther sends (a NAT-T register carries about a dozen). */
const MAX_PACK_ELEMENTS = 4096;
const MAX_VALUES_PER_ELEMENT = 65536;
/** Elements walked in one head (64 bytes hold two or three). */
const MAX_ELEMENTS_WALKED = 8;
/** One-byte "A" keep-alives a client may send before its first PACK (the head joins them). */
const MAX_KEEPALIVES = 16;
const KEEPALIVE = 0x41;

function isNameByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c) || c === 0x5f;
}

/**
 * True when bytes from `at` are a PACK whose first element header is complete and whose later
 * elements, as far as the head reaches, are well formed. A PACK cut by the head end passes;
 * a head too short for the first element header does not.
 */
export function isSoftEtherPack(b: Uint8Array, at: number): boolean {
  const end = b.length;
  const count = u32be(b, at, end);
  if (count < 1 || count > MAX_PACK_ELEMENTS) return false;
  let p = at + 4;
  for (let n = 0; n < Math.min(count, MAX_ELEMENTS_WALKED); n++) {
    // The name is stored as strlen + 1 followed by strlen bytes (no terminator on the wire).
    const nameField = u32be(b, p, end);
    if (nameField < 0) return n > 0;
    const nameLen = nameField - 1;
    if (nameLen < 1 || nameLen > MAX_ELEMENT_NAME) return false;
    for (let k = 0; k < nameLen; k++) {
      const c = u8(b, p + 4 + k, end);
      if (c < 0) return n > 0;
      if (!isNameByte(c)) return false;
    }
    p += 4 + nameLen;
    const type = u32be(b, p, end);
    const values = u32be(b, p + 4, end);
    if (type < 0 || values < 0) return n > 0;
    if (type > VALUE_INT64 || values < 1 || values > MAX_VALUES_PER_ELEMENT) return false;
    p += 8;
    const next = skipValues(b, p, type, values);
    if (next < 0) return true; // the head ended inside this element's values
    p = next;
  }
  return true;
}

/** Offset after `values` values of `type`, or -1 when the head ends first. */
function skipValues(b: Uint8Array, at: number, type: number, values: number): number {
  const end = b.length;
  let p = at;
  for (let v = 0; v < values; v++) {
    if (type === VALUE_INT) p += 4;
    else if (type === VALUE_INT64) p += 8;
    else if (type === VALUE_DATA || type === VALUE_STR || type === VALUE_UNISTR) {
      const len = u32be(b, p, end);
      if (len < 0) return -1;
      p += 4 + len;
    }
    if (p >= end) return -1;
  }
  return p;
}

/** "IP=" dotted-quad ",PORT=" 1-65535: the NAT-T server telling a host its public address. */
export function isSoftEtherNatTReply(b: Uint8Array): boolean {
  const end = b.length;
  if (!matchAscii(b, 0, end, 'IP=')) return false;
  let p = 3;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (u8(b, p, end) !== 0x2e /* . */) return false;
      p++;
    }
    const [value, next] = decimal(b, p, 3);
    if (value < 0 || value > 255) return false;
    p = next;
  }
  if (!matchAscii(b, p, end, ',PORT=')) return false;
  const [port] = decimal(b, p + 6, 5);
  return port >= 1 && port <= 65535;
}

/** Up to maxDigits decimal digits at `at`: [value, offset after], value -1 when none. */
function decimal(b: Uint8Array, at: number, maxDigits: number): [number, number] {
  let value = 0;
  let p = at;
  while (p - at < maxDigits && isDigit(u8(b, p, b.length))) value = value * 10 + b[p++] - 0x30;
  return [p === at ? -1 : value, p];
}

/**
 * SoftEther NAT-T both ways: the client sends keep-alives and/or a PACK, the server answers
 * with its address reply or a PACK. A server PACK alone could be any tool's TLV; the client
 * side has to be SoftEther-shaped too.
 */
export function softEtherNatT(c: Uint8Array, s: Uint8Array): string | null {
  let at = 0;
  while (at < MAX_KEEPALIVES && u8(c, at, c.length) === KEEPALIVE) at++;
  const clientPack = at < c.length && isSoftEtherPack(c, at);
  if (at === 0 && !clientPack) return null;
  if (at > 0 && at < c.length && !clientPack) return null;
  const serverReply = isSoftEtherNatTReply(s);
  const serverPack = !serverReply && isSoftEtherPack(s, 0);
  if (!serverReply && !serverPack) return null;
  const sent = [at > 0 ? `${at} keep-alive byte(s)` : '', clientPack ? 'a PACK' : '']
    .filter((x) => x !== '').join(' then ');
  return `client sent ${sent}, server answered with ` +
    (serverReply ? 'an IP=,PORT= address reply' : 'a PACK');
}
