// DNS wire constants (RFC 1035 section 4.1; IANA "Domain Name System (DNS) Parameters").

export const DNS_HEADER_BYTES = 12;

/** Header flag bits, second 16-bit word (RFC 1035 s4.1.1, RFC 4035 s3.2 for AD/CD). */
export const DNS_FLAG = { QR: 0x8000, Z: 0x0040 } as const;
export const DNS_OPCODE_SHIFT = 11;
export const DNS_OPCODE_MASK = 0x0f;
export const DNS_RCODE_MASK = 0x000f;

/** DNS OpCodes (IANA registry): QUERY, IQUERY (obsolete, RFC 3425), STATUS, NOTIFY, UPDATE. */
export const DNS_OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

/** DNS CLASSes usable in a question (IANA registry): IN, CH (Chaos), HS (Hesiod), ANY. */
export const DNS_CLASS = { IN: 1, CH: 3, HS: 4, ANY: 255 } as const;
/** mDNS sets the top bit of QCLASS to ask for a unicast answer (RFC 6762 section 5.4). */
export const DNS_CLASS_MDNS_UNICAST_BIT = 0x8000;

/** Label length byte: top two bits 00 = label, 11 = compression pointer (RFC 1035 4.1.4). */
export const DNS_LABEL_TYPE_MASK = 0xc0;
export const DNS_MAX_LABEL_BYTES = 63; // RFC 1035 section 2.3.4
export const DNS_MAX_NAME_BYTES = 255; // RFC 1035 section 2.3.4, wire form

/**
 * Questions per message: RFC 9619 makes QDCOUNT exactly 1 for QUERY; we accept a few for
 * old stacks, and only parse the first.
 */
export const MAX_DNS_QUESTIONS = 4;
/** A query carries no answers; OPT, TSIG or SIG(0) in additional: more is not a client. */
export const MAX_DNS_QUERY_ADDITIONAL = 3;
/** Smallest resource record: root name (1), type, class, TTL, rdlength (10), no rdata. */
export const DNS_MIN_RR_BYTES = 11;
/** Record fields after the name: TYPE (2), CLASS (2), TTL (4), RDLENGTH (2). */
export const DNS_RR_FIXED_BYTES = 10;
/** Question fields after the name: QTYPE (2), QCLASS (2). */
export const DNS_QUESTION_FIXED_BYTES = 4;
/** DNS over TCP prefixes each message with a 2-byte length (RFC 1035 s4.2.2, RFC 7766). */
export const DNS_TCP_LENGTH_BYTES = 2;
