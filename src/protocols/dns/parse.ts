// DNS message parser (RFC 1035 section 4): header, questions, and the three record
// sections with RDATA decoded for the types tunnel analysis looks at. Pure; never throws on
// packet input; every count from the wire is capped before it drives a loop.
//
// A message with a whole header always parses: what follows is kept up to the first entry
// that cannot be read, and what went wrong is listed in `anomalies` (DNS_ANOMALIES).

import type { ParseResult } from '../../fingerprints/types';
import { u16be, u32be } from '../reader';
import {
  DNS_HEADER_BYTES, DNS_OPCODE_MASK, DNS_OPCODE_SHIFT, DNS_QUESTION_FIXED_BYTES,
  DNS_RCODE_MASK, DNS_RR_FIXED_BYTES, DNS_TCP_LENGTH_BYTES,
} from './constants';
import { readDnsName } from './names';
import type { NameCursor } from './names';
import { decodeRdata } from './rdata';
import type { RdataContext } from './rdata';
import { DNS_HEADER_BIT, DNS_TYPE, MAX_QUESTIONS, MAX_RECORDS } from './record-types';
import type { DnsAnomaly, DnsInvalidReason } from './record-types';
import type { DnsHeader, DnsMessage, DnsRecord } from './types';

export { dnsNameLabels, labelEntropy, longestLabel, registeredDomain } from './names';
export { DNS_ANOMALIES, DNS_TYPE } from './record-types';
export type { DnsAnomaly, DnsInvalidReason } from './record-types';
export type {
  DnsHeader, DnsMessage, DnsQuestion, DnsRdata, DnsRecord,
} from './types';

/** Entries end where the next begins; -1 means parsing stopped (the anomaly is recorded). */
const STOP = -1;

/**
 * One DNS message filling [off, off + len), e.g. a UDP payload. Invalid only when the
 * 12-byte header is not all there; `consumed` ends after the last entry read, so bytes the
 * counts do not cover (`trailing_bytes`) are not included.
 */
export function parseDnsMessage(
  buf: Uint8Array, off: number, len: number,
): ParseResult<DnsMessage> {
  const end = Math.min(off + len, buf.length);
  if (!(off >= 0 && end - off >= DNS_HEADER_BYTES)) {
    const reason: DnsInvalidReason = 'truncated_header';
    return { status: 'invalid', reason };
  }
  const parser = new MessageParser(buf, off, end);
  const used = parser.parse();
  return { status: 'ok', record: parser.message, consumed: used - off };
}

export interface DnsTcpStreamResult {
  messages: DnsMessage[];
  /** Bytes from `off` taken by whole messages, length prefixes included. */
  consumed: number;
  /** Set when the stream cannot be DNS from here on; nothing after `consumed` is used. */
  error?: 'message_too_short';
}

/**
 * DNS over TCP (RFC 1035 section 4.2.2, RFC 7766 section 8): each message after a 2-byte
 * length; one segment may hold several, or part of one. Returns the messages wholly
 * present; the caller keeps the bytes after `consumed` for the next call.
 */
export function parseDnsTcpStream(buf: Uint8Array, off: number, len: number): DnsTcpStreamResult {
  const end = Math.min(off + len, buf.length);
  const messages: DnsMessage[] = [];
  let p = off;
  for (;;) {
    // The loop runs once per message, and each takes at least 14 bytes of [off, end).
    const length = u16be(buf, p, end);
    if (length < 0) break;
    if (length < DNS_HEADER_BYTES) {
      return { messages, consumed: p - off, error: 'message_too_short' };
    }
    const start = p + DNS_TCP_LENGTH_BYTES;
    if (start + length > end) break;
    const r = parseDnsMessage(buf, start, length);
    if (r.status === 'ok') messages.push(r.record);
    p = start + length;
  }
  return { messages, consumed: Math.max(0, p - off) };
}

function parseHeader(b: Uint8Array, at: number, end: number): DnsHeader {
  const flags = u16be(b, at + 2, end);
  return {
    id: u16be(b, at, end),
    qr: (flags & DNS_HEADER_BIT.QR) !== 0,
    opcode: (flags >> DNS_OPCODE_SHIFT) & DNS_OPCODE_MASK,
    aa: (flags & DNS_HEADER_BIT.AA) !== 0,
    tc: (flags & DNS_HEADER_BIT.TC) !== 0,
    rd: (flags & DNS_HEADER_BIT.RD) !== 0,
    ra: (flags & DNS_HEADER_BIT.RA) !== 0,
    ad: (flags & DNS_HEADER_BIT.AD) !== 0,
    cd: (flags & DNS_HEADER_BIT.CD) !== 0,
    rcode: flags & DNS_RCODE_MASK,
    qdcount: u16be(b, at + 4, end),
    ancount: u16be(b, at + 6, end),
    nscount: u16be(b, at + 8, end),
    arcount: u16be(b, at + 10, end),
  };
}

class MessageParser {
  readonly message: DnsMessage;
  private readonly cursor: NameCursor = { next: 0, failure: undefined };
  private readonly rdata: RdataContext;
  private records = 0;
  private optSeen = false;

  constructor(
    private readonly b: Uint8Array,
    private readonly base: number,
    private readonly end: number,
  ) {
    this.message = {
      header: parseHeader(b, base, end), questions: [], answers: [], authority: [],
      additional: [], anomalies: [], length: end - base,
    };
    this.rdata = { b, base, cursor: this.cursor, anomaly: (a) => this.anomaly(a) };
    if ((u16be(b, base + 2, end) & DNS_HEADER_BIT.Z) !== 0) this.anomaly('z_flag_set');
  }

  /** Returns the offset after the last entry read. */
  parse(): number {
    const h = this.message.header;
    const m = this.message;
    let p = this.base + DNS_HEADER_BYTES;

    const questions = Math.min(h.qdcount, MAX_QUESTIONS);
    for (let i = 0; i < questions; i++) {
      const next = this.question(p);
      if (next === STOP) return p;
      p = next;
    }
    if (h.qdcount > MAX_QUESTIONS) {
      this.anomaly('too_many_questions');
      return p;
    }

    const sections: [number, DnsRecord[]][] = [
      [h.ancount, m.answers], [h.nscount, m.authority], [h.arcount, m.additional],
    ];
    for (const [count, list] of sections) {
      for (let i = 0; i < count; i++) {
        if (this.records === MAX_RECORDS) {
          this.anomaly('too_many_records');
          return p;
        }
        const next = this.record(p, list, list === m.additional);
        if (next === STOP) return p;
        p = next;
      }
    }
    if (p < this.end) this.anomaly('trailing_bytes');
    return p;
  }

  private anomaly(a: DnsAnomaly): void {
    if (!this.message.anomalies.includes(a)) this.message.anomalies.push(a);
  }

  /** The name at p, or STOP after noting why (`cut` when the message ended inside it). */
  private name(p: number, cut: DnsAnomaly): string | undefined {
    if (p >= this.end) {
      // The counts promise another entry, but the message ends cleanly before it.
      this.anomaly('count_mismatch');
      return undefined;
    }
    const name = readDnsName(this.b, this.base, p, this.end, this.cursor);
    if (name === undefined) {
      const why = this.cursor.failure;
      this.anomaly(why === undefined || why === 'truncated' ? cut : why);
    }
    return name;
  }

  /** QNAME, QTYPE, QCLASS (section 4.1.2). */
  private question(p: number): number {
    const name = this.name(p, 'truncated_question');
    if (name === undefined) return STOP;
    const q = this.cursor.next;
    const type = u16be(this.b, q, this.end);
    const qclass = u16be(this.b, q + 2, this.end);
    if (qclass < 0) {
      this.anomaly('truncated_question');
      return STOP;
    }
    this.message.questions.push({ name, type, class: qclass });
    return q + DNS_QUESTION_FIXED_BYTES;
  }

  /** NAME, TYPE, CLASS, TTL, RDLENGTH, RDATA (section 4.1.3). */
  private record(p: number, list: DnsRecord[], inAdditional: boolean): number {
    const name = this.name(p, 'truncated_rr');
    if (name === undefined) return STOP;
    const b = this.b;
    const r = this.cursor.next;
    const type = u16be(b, r, this.end);
    const rclass = u16be(b, r + 2, this.end);
    const ttl = u32be(b, r + 4, this.end);
    const rdlength = u16be(b, r + 8, this.end);
    const start = r + DNS_RR_FIXED_BYTES;
    if (rdlength < 0 || start + rdlength > this.end) {
      this.anomaly('truncated_rr');
      return STOP;
    }
    this.records++;
    if (type === DNS_TYPE.OPT) {
      if (!inAdditional || this.optSeen) this.anomaly('opt_misplaced');
      this.optSeen = true;
    }
    const data = decodeRdata(this.rdata, type, rclass, ttl, start, start + rdlength);
    list.push({ name, type, class: rclass, ttl, rdlength, data });
    return start + rdlength;
  }
}
