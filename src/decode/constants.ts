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
