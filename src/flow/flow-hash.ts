// The one place that turns a decoded packet into its flow hash, used by the dispatcher (to
// pick a shard) and by the shard (to find the flow), so both always agree.

import { symmetricFlowHash32 } from '../decode/flow-key';
import { DecodedPacket, IPPROTO } from '../decode/packet';

/**
 * Hash of the packet's flow. ICMP type and code sit in the port fields after decoding, but an
 * echo request (8) and its reply (0) belong to one flow, so ICMP is keyed on addresses only:
 * the ports are zeroed here, before both the hash and the flow lookup see them. The hash is
 * signed (symmetricFlowHash32): `>>> 0` gives symmetricFlowHash's unsigned value.
 */
export function flowHashOf(p: DecodedPacket): number {
  if (p.proto === IPPROTO.ICMP || p.proto === IPPROTO.ICMPV6) {
    p.srcPort = 0;
    p.dstPort = 0;
  }
  return symmetricFlowHash32(p);
}
