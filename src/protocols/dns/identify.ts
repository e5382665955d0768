// DNS over UDP and TCP: a header whose fields are all plausible and a first question that
// parses. Random bytes fail the name walk almost always; the header rules cut the rest.
//
// NetBIOS Name Service (RFC 1002, udp/137) shares the header and name format and is
// identified as DNS; LLMNR (RFC 4795) and mDNS (RFC 6762) are DNS by design.

import { PROTO } from '../proto';
import { u16be, u8 } from '../reader';
import {
  DNS_CLASS, DNS_CLASS_MDNS_UNICAST_BIT, DNS_FLAG, DNS_HEADER_BYTES, DNS_LABEL_TYPE_MASK,
  DNS_MAX_LABEL_BYTES, DNS_MAX_NAME_BYTES, DNS_MIN_RR_BYTES, DNS_OPCODE, DNS_OPCODE_MASK,
  DNS_OPCODE_SHIFT, DNS_QUESTION_FIXED_BYTES, DNS_RCODE_MASK, DNS_RR_FIXED_BYTES,
  DNS_TCP_LENGTH_BYTES,
  MAX_DNS_QUERY_ADDITIONAL, MAX_DNS_QUESTIONS,
} from './constants';

/** DNS message filling a UDP payload. */
export function identifyDnsUdp(b: Uint8Array, off: number, end: number): number {
  return isDnsMessage(b, off, end, end - off) ? PROTO.DNS : PROTO.UNKNOWN;
}

/**
 * DNS over TCP: 2-byte length, then the message. The length must cover at least the header
 * and question we parse. If the payload holds more than one message, the next length
 * prefix must also be plausible (pipelined queries, RFC 7766 section 6.2.1.1).
 */
export function identifyDnsTcp(b: Uint8Array, off: number, end: number): number {
  const messageLength = u16be(b, off, end);
  if (messageLength < DNS_HEADER_BYTES + 1 + DNS_QUESTION_FIXED_BYTES) return PROTO.UNKNOWN;
  const start = off + DNS_TCP_LENGTH_BYTES;
  const messageEnd = start + messageLength;
  if (messageEnd < end) {
    const nextLength = u16be(b, messageEnd, end);
    if (nextLength >= 0 && nextLength < DNS_HEADER_BYTES + 1 + DNS_QUESTION_FIXED_BYTES) {
      return PROTO.UNKNOWN;
    }
  }
  const ok = isDnsMessage(b, start, Math.min(end, messageEnd), messageLength);
  return ok ? PROTO.DNS : PROTO.UNKNOWN;
}

/**
 * Header (RFC 1035 section 4.1.1) and first question (section 4.1.2), or first answer for a
 * question-less mDNS response, read from [start, end); `messageLength` is the full message
 * size (may exceed what was captured).
 */
function isDnsMessage(b: Uint8Array, start: number, end: number, messageLength: number): boolean {
  // ID (2) is anything.
  const flags = u16be(b, start + 2, end);
  const questions = u16be(b, start + 4, end);
  const answers = u16be(b, start + 6, end);
  const authority = u16be(b, start + 8, end);
  const additional = u16be(b, start + 10, end);
  if (additional < 0) return false; // header not all there

  const opcode = (flags >> DNS_OPCODE_SHIFT) & DNS_OPCODE_MASK;
  if (opcode !== DNS_OPCODE.QUERY && opcode !== DNS_OPCODE.IQUERY &&
    opcode !== DNS_OPCODE.STATUS && opcode !== DNS_OPCODE.NOTIFY &&
    opcode !== DNS_OPCODE.UPDATE) {
    return false;
  }
  if ((flags & DNS_FLAG.Z) !== 0) return false; // reserved, must be zero
  if (questions > MAX_DNS_QUESTIONS) return false;

  const isQuery = (flags & DNS_FLAG.QR) === 0;
  if (isQuery && opcode === DNS_OPCODE.QUERY) {
    // A standard query asks; it carries no answers or authority and no error code.
    if ((flags & DNS_RCODE_MASK) !== 0 || answers !== 0 || authority !== 0) return false;
    if (additional > MAX_DNS_QUERY_ADDITIONAL) return false;
  }

  let parsedEnd: number;
  let records = answers + authority + additional;
  if (questions > 0) {
    parsedEnd = parseQuestion(b, start + DNS_HEADER_BYTES, end);
  } else {
    // mDNS responses carry no question (RFC 6762 section 6): the first answer must parse.
    if (isQuery || answers < 1) return false;
    parsedEnd = parseRecord(b, start + DNS_HEADER_BYTES, end, start + messageLength);
    records -= 1;
  }
  if (parsedEnd < 0) return false;
  // Every record takes at least DNS_MIN_RR_BYTES: the counts must fit in the message.
  return records * DNS_MIN_RR_BYTES <= messageLength - (parsedEnd - start);
}

/** A name in uncompressed wire form; returns the offset after its root label or -1. */
function parseName(b: Uint8Array, p: number, end: number): number {
  let nameBytes = 0;
  for (;;) {
    const length = u8(b, p, end);
    if (length < 0) return -1;
    // The first name in a message has no earlier name for a compression pointer to reach,
    // and extended label types (0x40, 0x80) are deprecated (RFC 6891 section 5); so the
    // top two bits must be 0, which also caps the label at DNS_MAX_LABEL_BYTES.
    if ((length & DNS_LABEL_TYPE_MASK) !== 0 || length > DNS_MAX_LABEL_BYTES) return -1;
    nameBytes += 1 + length;
    if (nameBytes > DNS_MAX_NAME_BYTES) return -1;
    p += 1 + length;
    if (length === 0) return p;
  }
}

/** Classes a question or record may carry, with mDNS's top bit (QU / cache-flush) ignored. */
function isKnownClass(rawClass: number): boolean {
  if (rawClass < 0) return false;
  const c = rawClass & ~DNS_CLASS_MDNS_UNICAST_BIT;
  return c === DNS_CLASS.IN || c === DNS_CLASS.CH || c === DNS_CLASS.HS || c === DNS_CLASS.ANY;
}

/** QNAME, QTYPE, QCLASS (RFC 1035 section 4.1.2); returns the offset after them or -1. */
function parseQuestion(b: Uint8Array, p: number, end: number): number {
  const q = parseName(b, p, end);
  if (q < 0) return -1;
  if (u16be(b, q, end) <= 0 || !isKnownClass(u16be(b, q + 2, end))) return -1;
  return q + DNS_QUESTION_FIXED_BYTES;
}

/**
 * NAME, TYPE, CLASS, TTL, RDLENGTH, RDATA (RFC 1035 section 4.1.3); RDATA must fit in the
 * message. Returns the offset after the record (possibly past `end`) or -1.
 */
function parseRecord(b: Uint8Array, p: number, end: number, messageEnd: number): number {
  const r = parseName(b, p, end);
  if (r < 0) return -1;
  if (u16be(b, r, end) <= 0 || !isKnownClass(u16be(b, r + 2, end))) return -1;
  const dataLength = u16be(b, r + DNS_RR_FIXED_BYTES - 2, end); // after TTL (4)
  if (dataLength < 0) return -1;
  const recordEnd = r + DNS_RR_FIXED_BYTES + dataLength;
  return recordEnd <= messageEnd ? recordEnd : -1;
}
