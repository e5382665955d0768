// Decoder anomalies: stable snake_case names, counted per worker and never logged per packet.
// The index of a name in DECODE_ANOMALIES is its slot in DecodeCounters.counts; append new
// names at the end so existing indexes stay put.

export const DECODE_ANOMALIES = [
  // Link layer: the packet was dropped.
  'unknown_linktype', // the capture's DLT is not one we decode
  'truncated_link', // caplen ends inside a link, VLAN, PPPoE or MPLS header
  'unknown_ethertype', // EtherType (or SLL protocol) we do not know
  'non_ip', // well-formed frame carrying something other than IP (ARP, LLDP, LCP, 802.3 LLC)
  'vlan_too_deep', // more than MAX_VLAN_TAGS 802.1Q tags
  'mpls_too_deep', // more than MAX_MPLS_LABELS labels without bottom-of-stack
  'bad_pppoe_header', // PPPoE session frame whose ver/type or code is wrong
  // Network layer: the packet was dropped.
  'bad_ip_version', // version nibble not 4/6, or not the version the link layer announced
  'truncated_ipv4', // caplen ends inside the IPv4 header
  'bad_ipv4_header', // IHL < 5 or total length < header length
  'truncated_ipv6', // caplen ends inside the fixed IPv6 header
  'ipv6_ext_too_deep', // more than MAX_IPV6_EXT_HEADERS extension headers
  'truncated_ipv6_ext', // caplen ends inside an extension header
  'bad_ipv6_ext', // an extension header runs past the IPv6 payload length
  // Transport layer: the packet was dropped.
  'truncated_tcp', // caplen ends inside the TCP header
  'bad_tcp_offset', // data offset < 5 or past the IP payload length
  'truncated_udp', // caplen ends inside the UDP header
  'truncated_icmp', // caplen ends inside the 8-byte ICMP/ICMPv6 header
  // Counted on packets that were still decoded (decodePacket returned true).
  'ipv4_fragment', // MF set or fragment offset != 0
  'ipv6_fragment', // fragment extension header present
  'ip_length_zero', // IPv4 total length or IPv6 payload length 0 (TSO, jumbogram): capture used
  'bad_udp_length', // UDP length < 8 or > IP payload: the IP length was used
  // Tunnels (encap.ts), counted on packets that were still decoded: the layer that failed is
  // not removed, and the packet is reported as the enclosing packet that carried it.
  'encap_too_deep', // more than MAX_ENCAP_DEPTH tunnel layers: the deepest allowed one is kept
  'truncated_encap', // caplen ends inside a tunnel header or the inner packet's headers
  'bad_gre_header', // GRE version, reserved flags or PPTP fields wrong, or options past the end
  'bad_erspan_header', // ERSPAN version not the one its GRE protocol type announces
  'bad_vxlan_header', // VXLAN without the I flag; VXLAN-GPE without I or P, or version not 0
  'bad_geneve_header', // GENEVE version not 0, or options past the UDP payload
  'bad_inner_packet', // the inner packet's link, IP or transport header is invalid
  'encap_non_ip', // the tunnel carries something other than IP (ARP, NSH, unknown type)
  'bad_gtpu_header', // GTP-U not version 1 / PT 1, length not the datagram's, bad extensions
  'bad_teredo_header', // Teredo indicators malformed, or no IPv6 header of the datagram's size
  'bad_ayiya_header', // AYIYA field values undefined, or identity and signature past the end
] as const;

export type DecodeAnomaly = (typeof DECODE_ANOMALIES)[number];

/** Slot of each anomaly name, for the hot path: `counters.add(ANOMALY.truncated_tcp)`. */
export const ANOMALY = Object.freeze(
  Object.fromEntries(DECODE_ANOMALIES.map((name, i) => [name, i])),
) as Readonly<Record<DecodeAnomaly, number>>;

/**
 * Per-worker anomaly counters. Slots are u32: at a sustained million anomalies per second
 * they wrap after about 70 minutes, so owners drain them (toObject, then reset) on every
 * stats interval and keep totals in the merged record.
 */
export class DecodeCounters {
  readonly counts = new Uint32Array(DECODE_ANOMALIES.length);

  add(i: number): void {
    this.counts[i]++;
  }

  /** Non-zero counters by name. */
  toObject(): Record<string, number> {
    const result: Record<string, number> = {};
    for (let i = 0; i < DECODE_ANOMALIES.length; i++) {
      if (this.counts[i] !== 0) result[DECODE_ANOMALIES[i]] = this.counts[i];
    }
    return result;
  }

  /** Adds counts by name (e.g. from another worker). Unknown names and bad values are ignored. */
  merge(other: Record<string, number>): void {
    for (const name of Object.keys(other)) {
      const value = other[name];
      if (!Object.hasOwn(ANOMALY, name) || !Number.isFinite(value) || value <= 0) continue;
      this.counts[ANOMALY[name as DecodeAnomaly]] += value;
    }
  }

  reset(): void {
    this.counts.fill(0);
  }
}

/**
 * Layer decoders return a non-negative offset or result on success and `failWith(anomaly)`
 * (always negative) on failure, so no result object is allocated per packet.
 */
export function failWith(anomaly: number): number {
  return -1 - anomaly;
}

/** The anomaly slot encoded in a negative layer result. */
export function failedAnomaly(result: number): number {
  return -1 - result;
}
