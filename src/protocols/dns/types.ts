// What the DNS parser returns: plain objects, safe to copy across threads and to log.
//
// Names are in presentation form (RFC 1035 section 5.1): labels joined by '.', no trailing
// dot, the root as "."; inside a label '.' and '\' are escaped as "\." and "\\", and bytes
// outside visible ASCII as "\DDD" (decimal), so binary tunnel labels stay unambiguous.
// Case is kept as sent (DNS 0x20 randomisation, RFC 4343, shows).

import type { DnsAnomaly } from './record-types';

export interface DnsHeader {
  id: number;
  /** True for a response. */
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** DNSSEC bits (RFC 4035 section 3.2). */
  ad: boolean;
  cd: boolean;
  /** The 4-bit header RCODE; an OPT record may extend it. */
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsQuestion {
  name: string;
  type: number;
  /** Raw QCLASS: mDNS puts its unicast-response bit in the top bit (RFC 6762 s5.4). */
  class: number;
}

/** Decoded RDATA by record type; `kind` names the layout. */
export type DnsRdata =
  | { kind: 'a'; address: string }
  | { kind: 'aaaa'; address: string }
  /** CNAME, NS, PTR. */
  | { kind: 'name'; name: string }
  | { kind: 'mx'; preference: number; exchange: string }
  /** Character-strings, one UTF-16 unit per byte (latin1), so lengths count bytes. */
  | { kind: 'txt'; strings: string[] }
  | {
    kind: 'soa'; mname: string; rname: string; serial: number; refresh: number;
    retry: number; expire: number; minimum: number;
  }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  /** NULL: its length and the first DNS_NULL_PREVIEW_BYTES as lower-case hex. */
  | { kind: 'null'; length: number; head: string }
  /** EDNS (RFC 6891 section 6.1.3); `options` lists option codes in order. */
  | {
    kind: 'opt'; udpSize: number; extendedRcode: number; version: number;
    dnssecOk: boolean; options: number[];
  }
  /** SVCB and HTTPS: priority and target only; SvcParams are left opaque. */
  | { kind: 'svcb'; priority: number; target: string };

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  rdlength: number;
  /** Absent for types not decoded, and when the RDATA is malformed (see anomalies). */
  data?: DnsRdata;
}

export interface DnsMessage {
  header: DnsHeader;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
  /** Each at most once, in the order first seen. */
  anomalies: DnsAnomaly[];
  /** Message length in bytes (the UDP payload, or the TCP length prefix's value). */
  length: number;
}
