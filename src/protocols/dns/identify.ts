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
  DNS_OPCODE_SHIFT, DNS_QUESTION_FIXED_BYTES, DNS_RCODE_MASK, DNS_TCP_LENGTH_BYTES,
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
 * Header (RFC 1035 section 4.1.1) and first question (section 4.1.2), read from
 * [start, end); `messageLength` is the full message size (may exceed what was captured).
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
  if (questions < 1 || questions > MAX_DNS_QUESTIONS) return false;

  const isQuery = (flags & DNS_FLAG.QR) === 0;
  if (isQuery && opcode === DNS_OPCODE.QUERY) {
    // A standard query asks; it carries no answers or authority and no error code.
    if ((flags & DNS_RCODE_MASK) !== 0 || answers !== 0 || authority !== 0) return false;
    if (additional > MAX_DNS_QUERY_ADDITIONAL) return false;
  }

  const questionEnd = parseQuestion(b, start + DNS_HEADER_BYTES, end);
  if (questionEnd < 0) return false;
  // Every record takes at least DNS_MIN_RR_BYTES: the counts must fit in the message.
  const records = answers + authority + additional;
  return records * DNS_MIN_RR_BYTES <= messageLength - (questionEnd - start);
}

/** QNAME, QTYPE, QCLASS; returns the offset after them or -1. */
function parseQuestion(b: Uint8Array, p: number, end: number): number {
  let nameBytes = 0;
  for (;;) {
    const length = u8(b, p, end);
    if (length < 0) return -1;
    // The first name in a message has no earlier name for a compression pointer to reach,
    // and extended label types (0x40, 0x80) are deprecated (RFC 6891 section 5).
    if ((length & DNS_LABEL_TYPE_MASK) !== 0) return -1;
    nameBytes += 1 + length;
    if (nameBytes > DNS_MAX_NAME_BYTES) return -1;
    p += 1 + length;
    if (length === 0) break;
    if (length > DNS_MAX_LABEL_BYTES) return -1;
  }
  const qtype = u16be(b, p, end);
  const qclass = u16be(b, p + 2, end) & ~DNS_CLASS_MDNS_UNICAST_BIT;
  if (qtype <= 0 || qclass < 0) return -1;
  if (qclass !== DNS_CLASS.IN && qclass !== DNS_CLASS.CH && qclass !== DNS_CLASS.HS &&
    qclass !== DNS_CLASS.ANY) {
    return -1;
  }
  return p + DNS_QUESTION_FIXED_BYTES;
}
