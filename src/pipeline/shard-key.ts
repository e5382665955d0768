// Which shard a packet goes to, without decoding it twice. The dispatcher only needs a
// value that is equal for both directions of a flow, and equal to what the shard's own full
// decode would make of the flow; the shard then decodes the packet once, for real.
//
// The common case (Ethernet, at most two VLAN tags, IPv4 or IPv6 without extension headers,
// TCP or UDP, no fragment, not a tunnel carrier) is read here in a few loads and hashed with
// the same function as the flow table (flowHashOf), over the same five fields decode.ts
// would produce. Everything else takes the full decoder and flowHashOf: a fragment and the
// unfragmented packets of its flow, or a flow whose packets take different paths, still
// agree, because both paths hash the same tuple with the same function.

import { be16, be32 } from '../decode/bytes';
import { DecodeCounters, decodePacket, DLT } from '../decode/decode';
import { ETHERTYPE } from '../decode/constants';
import { udpCarrierOf } from '../decode/encap-udp';
import { symmetricFlowHash32 } from '../decode/flow-key';
import { DecodedPacket, ENCAP, IPPROTO, newDecodedPacket } from '../decode/packet';
import { flowHashOf } from '../flow/flow-hash';

const ETHER_HEADER_BYTES = 14;
const VLAN_TAG_BYTES = 4;
/** Tags read here; deeper stacks (rare) go through the full decoder. */
const FAST_VLAN_TAGS = 2;
const IPV4_MIN_HEADER_BYTES = 20;
const IPV6_HEADER_BYTES = 40;
/** Source and destination port: all a TCP or UDP header must hold for the key. */
const PORT_BYTES = 4;

/** Shard key of undecodable packets: the shard that gets them counts their anomaly. */
const UNDECODABLE_KEY = 0;

export class ShardKeyer {
  private readonly p: DecodedPacket = newDecodedPacket();
  /** The full decoder's counters here are scratch: the shard counts every anomaly. */
  private readonly scratch = new DecodeCounters();
  /** Packets keyed by the full decoder (tests and the bench read it). */
  slowPath = 0;

  /** Signed 32-bit key of the record's packet; `>>> 0` then `% shards` picks the shard. */
  key(buf: Uint8Array, off: number, caplen: number, linkType: number): number {
    if (linkType === DLT.EN10MB) {
      const k = this.ethernetKey(buf, off, Math.min(off + caplen, buf.length));
      if (k !== null) return k;
    }
    this.slowPath++;
    const p = this.p;
    if (!decodePacket(buf, off, caplen, linkType, p, this.scratch)) return UNDECODABLE_KEY;
    return flowHashOf(p);
  }

  /** The common case, or null when the full decoder must decide. */
  private ethernetKey(b: Uint8Array, off: number, end: number): number | null {
    let at = off + ETHER_HEADER_BYTES;
    if (at > end) return null;
    let type = be16(b, at - 2);
    for (let tags = 0; type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ; tags++) {
      if (tags === FAST_VLAN_TAGS || at + VLAN_TAG_BYTES > end) return null;
      type = be16(b, at + 2);
      at += VLAN_TAG_BYTES;
    }
    const p = this.p;
    let proto: number;
    if (type === ETHERTYPE.IPV4) {
      if (at + IPV4_MIN_HEADER_BYTES > end || b[at] >> 4 !== 4) return null;
      const headerBytes = (b[at] & 0x0f) * 4;
      // Any fragment bit or offset: the full decoder knows which fragments carry ports.
      if (headerBytes < IPV4_MIN_HEADER_BYTES || (be16(b, at + 6) & 0x3fff) !== 0) return null;
      proto = b[at + 9];
      p.src[0] = 0; p.src[1] = 0; p.src[2] = 0xffff; p.src[3] = be32(b, at + 12);
      p.dst[0] = 0; p.dst[1] = 0; p.dst[2] = 0xffff; p.dst[3] = be32(b, at + 16);
      at += headerBytes;
    } else if (type === ETHERTYPE.IPV6) {
      if (at + IPV6_HEADER_BYTES > end || b[at] >> 4 !== 6) return null;
      proto = b[at + 6]; // extension headers are not TCP or UDP: the full decoder walks them
      for (let i = 0; i < 4; i++) {
        p.src[i] = be32(b, at + 8 + i * 4);
        p.dst[i] = be32(b, at + 24 + i * 4);
      }
      at += IPV6_HEADER_BYTES;
    } else {
      return null;
    }
    if ((proto !== IPPROTO.TCP && proto !== IPPROTO.UDP) || at + PORT_BYTES > end) return null;
    const dstPort = be16(b, at + 2);
    const srcPort = be16(b, at);
    // The carriers decode.ts opens, asked the same way it asks: the key is the inner flow's.
    if (proto === IPPROTO.UDP && udpCarrierOf(srcPort, dstPort) !== ENCAP.NONE) return null;
    p.proto = proto;
    p.srcPort = srcPort;
    p.dstPort = dstPort;
    return symmetricFlowHash32(p);
  }
}
