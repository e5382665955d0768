// L2-L4 decoding entry point: link header, IP header (with IPv6 extensions), transport
// header, then any tunnels the packet carries, into one reused DecodedPacket. Pure,
// allocation-free, never throws on packet input: every header is bounds-checked against the
// captured length before any field is read.

import { ANOMALY, failedAnomaly } from './anomalies';
import { IPPROTO_TUNNEL } from './constants';
import { decapsulate } from './encap';
import { udpCarrierOf } from './encap-udp';
import { IP_HAS_TRANSPORT, IP_LENGTH_ZERO, decodeIp, keepPortlessFragment } from './ip';
import { decodeLink } from './link';
import { ENCAP, IPPROTO } from './packet';
import { TRANSPORT_BAD_UDP_LENGTH, decodeTransport } from './transport';
import type { DecodeCounters } from './anomalies';
import type { DecodedPacket } from './packet';

export { DLT } from './constants';
export { ENCAP, ENCAP_NAMES } from './packet';
export { DECODE_ANOMALIES, DecodeCounters } from './anomalies';
export type { DecodeAnomaly } from './anomalies';

/**
 * Decodes one captured packet starting at `offset` in `buf`, `caplen` bytes long. A tunnel
 * it carries (encap.ts) is removed: the fields then describe the innermost packet, and
 * `encap` / `encapDepth` say how it was carried.
 *
 * Returns true when `out` holds an IP packet with a decoded transport header, or an IP
 * packet without one (non-first fragment, or a protocol other than TCP/UDP/ICMP): then
 * `proto` is set and the ports are 0, and the payload span is everything after the IP
 * headers. Returns false, after bumping exactly one counter, for anything it cannot use; then
 * only `ipVersion` (0) is meaningful. Never throws, never allocates.
 */
export function decodePacket(
  buf: Uint8Array, offset: number, caplen: number, linkType: number,
  out: DecodedPacket, counters: DecodeCounters,
): boolean {
  out.ipVersion = 0;
  out.proto = 0;
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  out.tcpSeq = 0;
  out.tcpAck = 0;
  out.payloadOffset = 0;
  out.payloadLength = 0;
  out.payloadLengthOnWire = 0;
  out.fragment = false;
  out.vlan = -1;
  out.encap = ENCAP.NONE;
  out.encapDepth = 0;

  // A caller bug must not turn into reads past the buffer: clamp to what really exists.
  if (!(offset >= 0 && caplen > 0)) return fail(out, counters, ANOMALY.truncated_link);
  const end = Math.min(offset + caplen, buf.length);

  const ipStart = decodeLink(buf, offset, end, linkType, out);
  if (ipStart < 0) return fail(out, counters, failedAnomaly(ipStart));

  // The IP and transport steps are written out here rather than shared with the tunnel path
  // (decodeIpPacket): on Node 20 the extra call level cost about 4 ns a packet, 10 % of the
  // whole decode, measured on the plain packets of the corpus.
  const ipResult = decodeIp(buf, ipStart, end, out);
  if (ipResult < 0) return fail(out, counters, failedAnomaly(ipResult));

  if ((ipResult & IP_HAS_TRANSPORT) !== 0) {
    const payloadOffset = out.payloadOffset;
    const payloadLength = out.payloadLength;
    const payloadLengthOnWire = out.payloadLengthOnWire;
    const transportResult = decodeTransport(buf, out);
    if (transportResult === TRANSPORT_BAD_UDP_LENGTH) {
      counters.add(ANOMALY.bad_udp_length);
    } else if (transportResult < 0) {
      if (!out.fragment) return fail(out, counters, failedAnomaly(transportResult));
      keepPortlessFragment(out, payloadOffset, payloadLength, payloadLengthOnWire);
    }
  }

  // Informational anomalies are counted only now, once the packet is known to be usable.
  if ((ipResult & IP_LENGTH_ZERO) !== 0) counters.add(ANOMALY.ip_length_zero);
  // The carriers encapOf() (encap.ts) names, tested inline: a call here costs as much.
  const proto = out.proto;
  if (!out.fragment && (proto === IPPROTO_TUNNEL.IPV4 || proto === IPPROTO_TUNNEL.IPV6 ||
    proto === IPPROTO_TUNNEL.GRE ||
    (proto === IPPROTO.UDP && udpCarrierOf(out.srcPort, out.dstPort) !== ENCAP.NONE))) {
    decapsulate(buf, out, counters);
  }
  if (out.fragment) {
    counters.add(out.ipVersion === 4 ? ANOMALY.ipv4_fragment : ANOMALY.ipv6_fragment);
  }
  return true;
}

function fail(out: DecodedPacket, counters: DecodeCounters, anomaly: number): false {
  counters.add(anomaly);
  out.ipVersion = 0;
  out.proto = 0;
  out.src.fill(0);
  out.dst.fill(0);
  return false;
}
