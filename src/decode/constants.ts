// Wire constants and limits for the L2-L4 decoder. Values are grouped by the registry that
// assigns them; the decoder matches on these names, never on bare numbers.

/**
 * Link-layer header types as libpcap reports them from pcap_datalink() (tcpdump.org
 * "LINK-LAYER HEADER TYPES"). Files store LINKTYPE_* values; libpcap maps most of them to the
 * same DLT_* number, except raw IP: LINKTYPE_RAW is 101 in files, DLT_RAW is 12 on most
 * systems and 14 on OpenBSD. We accept all three.
 */
export const DLT = {
  NULL: 0,
  EN10MB: 1,
  PPP: 9,
  RAW: 12,
  RAW_OPENBSD: 14,
  PPP_SERIAL: 50,
  PPP_ETHER: 51,
  LINKTYPE_RAW: 101,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** EtherType values (IEEE 802 "EtherType" registry). */
export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  MPLS_UNICAST: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  EAPOL: 0x888e,
  QINQ: 0x88a8,
  LLDP: 0x88cc,
  MACSEC: 0x88e5,
  PTP: 0x88f7,
  LOOPBACK: 0x9000,
  QINQ_LEGACY: 0x9100,
  QINQ_LEGACY2: 0x9200,
  // Protocol types met as a GRE or GENEVE payload type (RFC 2784 section 2.4 uses EtherTypes).
  TRANSPARENT_ETHERNET: 0x6558, // a whole Ethernet frame follows (RFC 1701 section 3.3)
  PPP: 0x880b, // PPTP's enhanced GRE (RFC 2637 section 4.1)
  ERSPAN_II: 0x88be, // ERSPAN type I and II (draft-foschiano-erspan-03 section 4)
  ERSPAN_III: 0x22eb, // ERSPAN type III
} as const;

/** Values at or below this are IEEE 802.3 length fields (LLC follows), not EtherTypes. */
export const ETHER_MAX_LENGTH_FIELD = 1500;

/** EtherTypes that are well-formed but not IP: counted as non_ip, not unknown_ethertype. */
export const NON_IP_ETHERTYPES: ReadonlySet<number> = new Set([
  ETHERTYPE.ARP, ETHERTYPE.RARP, ETHERTYPE.PPPOE_DISCOVERY, ETHERTYPE.EAPOL, ETHERTYPE.LLDP,
  ETHERTYPE.MACSEC, ETHERTYPE.PTP, ETHERTYPE.LOOPBACK,
]);

/** PPP protocol field values (IANA "PPP DLL Protocol Numbers", RFC 1661 section 2). */
export const PPP_PROTO = { IPV4: 0x0021, IPV6: 0x0057 } as const;

/** HDLC address/control bytes that may precede the PPP protocol field (RFC 1662 section 3.1). */
export const PPP_ADDRESS = 0xff;
export const PPP_CONTROL = 0x03;

/** Cisco HDLC address bytes (unicast, broadcast); a 0x00 control byte and an EtherType follow. */
export const CHDLC_UNICAST = 0x0f;
export const CHDLC_BROADCAST = 0x8f;

/** PPPoE session header: ver=1, type=1 in one byte, code 0 for session data (RFC 2516 s4). */
export const PPPOE_VER_TYPE = 0x11;
export const PPPOE_CODE_SESSION = 0x00;

/**
 * Address family values in DLT_NULL / DLT_LOOP headers. IPv6 differs per BSD: 24 on
 * NetBSD/OpenBSD/BSD/OS, 28 on FreeBSD/DragonFly, 30 on Darwin (libpcap pcap-common.c notes).
 */
export const BSD_AF = { INET: 2, INET6_BSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

/** ARPHRD_NETLINK: an SLL/SLL2 frame whose protocol field is a netlink family, never IP. */
export const ARPHRD_NETLINK = 824;

/** IP protocol numbers of IPv6 extension headers (IANA "IPv6 Extension Header Types"). */
export const IPV6_EXT = {
  HOP_BY_HOP: 0,
  ROUTING: 43,
  FRAGMENT: 44,
  AH: 51,
  DEST_OPTS: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
} as const;

/**
 * IP protocol numbers whose payload is another packet (IANA "Assigned Internet Protocol
 * Numbers"): IPv4 (RFC 2003), IPv6 (RFC 4213, RFC 2473) and GRE (RFC 2784).
 */
export const IPPROTO_TUNNEL = { IPV4: 4, IPV6: 41, GRE: 47 } as const;

/**
 * UDP destination ports of overlay encapsulations (IANA "Service Name and Transport Protocol
 * Port Number Registry"). Only the destination port identifies them: the source port is a
 * per-flow hash for ECMP (RFC 7348 section 5, RFC 8926 section 3.3).
 */
export const ENCAP_UDP_PORT = {
  VXLAN: 4789, VXLAN_GPE: 4790, GENEVE: 6081,
  // G-PDUs go to 2152; the sender picks its source port (3GPP TS 29.281 section 4.4.2.3).
  GTP_U: 2152,
} as const;
/**
 * UDP ports of host tunnels, matched on either side: a Teredo server or relay (RFC 4380
 * section 5.2) and an AYIYA tunnel broker (SixXS AYIYA draft, port 5072) answer from the
 * well-known port to the client's ephemeral one.
 */
export const HOST_TUNNEL_UDP_PORT = { TEREDO: 3544, AYIYA: 5072 } as const;

/**
 * GRE flag bits of the first header byte (RFC 2784 section 2, RFC 2890 section 2). Routing,
 * strict source route and the top recursion bit are RFC 1701 leftovers that RFC 2784
 * section 2.3 requires a receiver to discard.
 */
export const GRE_FLAG = {
  CHECKSUM: 0x80, ROUTING: 0x40, KEY: 0x20, SEQUENCE: 0x10, STRICT_ROUTE: 0x08,
  RECURSION_HIGH: 0x04,
} as const;
/** Second GRE byte: acknowledgment present (PPTP only, RFC 2637 section 4.1), version. */
export const GRE_ACK = 0x80;
export const GRE_FLAGS2_RESERVED = 0x78;
export const GRE_VERSION_MASK = 0x07;
export const GRE_VERSION = { STANDARD: 0, PPTP: 1 } as const;

/** ERSPAN header version nibble (draft-foschiano-erspan-03 sections 4.2 and 4.3). */
export const ERSPAN_VERSION = { TYPE_II: 1, TYPE_III: 2 } as const;
/**
 * ERSPAN type III bytes 10-11: P (1), frame type FT (5), hardware id (6), D (1), Gra (2),
 * O (1). FT says what the mirror carries; O that an 8-byte platform subheader follows.
 */
export const ERSPAN_FRAME_TYPE = { ETHERNET: 0, IP: 2 } as const;
export const ERSPAN_III_FT_MASK = 0x7c00;
export const ERSPAN_III_FT_SHIFT = 10;
export const ERSPAN_III_FLAG_O = 0x0001;

/** VXLAN flags byte: I, "the VNI is valid", must be set (RFC 7348 section 5). */
export const VXLAN_FLAG_I = 0x08;
/**
 * VXLAN-GPE flags byte (draft-ietf-nvo3-vxlan-gpe-13 section 3.3): R R Ver(2) I P B O. I and
 * P (the next-protocol byte is present) must be set; O marks an OAM packet.
 */
export const VXLAN_GPE_FLAG = { I: 0x08, P: 0x04, O: 0x01 } as const;
export const VXLAN_GPE_VERSION_MASK = 0x30; // version 0 is the only one defined
/** VXLAN-GPE next protocol (draft-ietf-nvo3-vxlan-gpe-13 section 3.3). */
export const VXLAN_GPE_NEXT = { IPV4: 1, IPV6: 2, ETHERNET: 3, NSH: 4 } as const;

/** GENEVE first two bytes (RFC 8926 section 3.4): Ver(2) Opt Len(6), then O C Rsvd(6). */
export const GENEVE_OPT_LEN_MASK = 0x3f;
export const GENEVE_VERSION_SHIFT = 6;
export const GENEVE_FLAG_O = 0x80;

/**
 * GTP-U flags byte (3GPP TS 29.281 section 5.1): version (3), PT (1), spare (1), E, S, PN.
 * Version 1 and PT = 1 (GTP, not GTP') are the only values a user-plane packet may carry.
 */
export const GTPU_VERSION_SHIFT = 5;
export const GTPU_VERSION = 1;
export const GTPU_FLAG = { PT: 0x10, E: 0x04, S: 0x02, PN: 0x01 } as const;
/** GTP-U message types (3GPP TS 29.281 section 6.1): only a G-PDU carries a user packet. */
export const GTPU_MSG = {
  ECHO_REQUEST: 1, ECHO_RESPONSE: 2, ERROR_INDICATION: 26, SUPPORTED_EXT_HEADERS: 31,
  TUNNEL_STATUS: 253, END_MARKER: 254, G_PDU: 255,
} as const;
/** Next-extension-header type that ends the chain (3GPP TS 29.281 section 5.2.1). */
export const GTPU_EXT_NONE = 0;

/** Teredo indicators before the IPv6 packet (RFC 4380 sections 5.1.1 and 5.1.2). */
export const TEREDO_INDICATOR = { ORIGIN: 0x0000, AUTH: 0x0001 } as const;

/**
 * AYIYA header (SixXS AYIYA draft, "Anything In Anything"): IDLen (4) IDType (4), SigLen (4)
 * HshMeth (4), AutMeth (4) OpCode (4), Next Header (8), epoch (32), identity, signature. The
 * identity is 2^IDLen bytes, the signature SigLen 4-byte words.
 */
export const AYIYA_ID_TYPE = { NONE: 0, INTEGER: 1, STRING: 2 } as const;
export const AYIYA_HASH = { NONE: 0, MD5: 1, SHA1: 2 } as const;
export const AYIYA_AUTH = { NONE: 0, SHARED_SECRET: 1, PUBLIC_KEY: 2 } as const;
/** Opcodes 1 (forward) and 3 (echo request and forward) carry a packet; the rest are control. */
export const AYIYA_OPCODE = { NOOP: 0, FORWARD: 1, ECHO_REQUEST_FORWARD: 3 } as const;
/** The largest opcode the draft defines (7, query response); above it the header is bad. */
export const AYIYA_MAX_OPCODE = 7;
export const AYIYA_SIG_UNIT_BYTES = 4;

// Header sizes fixed by the specifications.
export const ETHER_HEADER_BYTES = 14;
export const VLAN_TAG_BYTES = 4; // IEEE 802.1Q: TCI (2) + inner EtherType (2)
export const PPPOE_HEADER_BYTES = 6; // RFC 2516 section 4
export const MPLS_ENTRY_BYTES = 4; // RFC 3032 section 2.1
export const NULL_HEADER_BYTES = 4;
export const SLL_HEADER_BYTES = 16;
export const SLL2_HEADER_BYTES = 20;
export const IPV4_MIN_HEADER_BYTES = 20; // RFC 791: IHL >= 5
export const IPV6_HEADER_BYTES = 40; // RFC 8200 section 3
export const IPV6_FRAGMENT_HEADER_BYTES = 8; // RFC 8200 section 4.5
export const TCP_MIN_HEADER_BYTES = 20; // RFC 9293: data offset >= 5
export const UDP_HEADER_BYTES = 8; // RFC 768
/** ICMP (RFC 792) and ICMPv6 (RFC 4443) messages start with type, code, checksum, 4 more. */
export const ICMP_HEADER_BYTES = 8;
export const GRE_BASE_HEADER_BYTES = 4; // RFC 2784 section 2: flags, version, protocol type
export const GRE_OPTION_BYTES = 4; // checksum+reserved, key, sequence, ack: 4 bytes each
export const ERSPAN_II_HEADER_BYTES = 8;
export const ERSPAN_III_HEADER_BYTES = 12;
export const ERSPAN_III_SUBHEADER_BYTES = 8; // platform-specific, present when O is set
export const VXLAN_HEADER_BYTES = 8; // RFC 7348 section 5; VXLAN-GPE has the same size
export const GENEVE_HEADER_BYTES = 8; // RFC 8926 section 3.4, before the options
export const GENEVE_OPT_UNIT_BYTES = 4; // Opt Len counts 4-byte words, at most 63 (252 bytes)
export const GTPU_HEADER_BYTES = 8; // TS 29.281 s5.1: flags, type, length, TEID
/** Sequence number (2), N-PDU number (1), next extension type (1): present if E, S or PN. */
export const GTPU_OPTIONAL_BYTES = 4;
export const GTPU_EXT_UNIT_BYTES = 4; // an extension header's length counts 4-byte words
export const TEREDO_ORIGIN_BYTES = 8; // RFC 4380 s5.1.2: indicator, port, address
/** RFC 4380 s5.1.1: indicator (2), id len (1), auth len (1), nonce (8), confirmation (1). */
export const TEREDO_AUTH_FIXED_BYTES = 13;
export const AYIYA_FIXED_BYTES = 8; // the four nibble/byte fields and the epoch

// Limits: each one bounds a loop over attacker-controlled header chains.
/** 802.1Q tags followed: QinQ uses 2; 4 leaves room for provider stacks, rejects loops. */
export const MAX_VLAN_TAGS = 4;
/** MPLS label stack entries followed before giving up (RFC 3032 sets no limit; real <= 5). */
export const MAX_MPLS_LABELS = 8;
/**
 * IPv6 extension headers followed. RFC 8200 section 4.1 allows each once (destination
 * options twice), about seven in a valid chain; more is an evasion attempt.
 */
export const MAX_IPV6_EXT_HEADERS = 8;
/**
 * Tunnel layers removed from one packet. A mirrored overlay (ERSPAN carrying VXLAN) is two
 * deep; three leaves room for one tunnel inside that. Deeper nesting is not deployed, and
 * each layer costs a header walk, so more is a loop or an evasion attempt.
 */
export const MAX_ENCAP_DEPTH = 3;
/**
 * GTP-U extension headers followed. TS 29.281 defines about ten types and real packets carry
 * one or two (PDU session container, PDCP number); a longer chain is malformed or hostile.
 */
export const MAX_GTPU_EXT_HEADERS = 8;
