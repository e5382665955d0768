// What every tunnel header parser (encap.ts, encap-udp.ts) answers with besides an offset.

import { ANOMALY, failWith } from './anomalies';
import type { DecodedPacket } from './packet';

/**
 * A parser's answer for a well-formed layer that carries no packet to decode (a GENEVE or
 * VXLAN-GPE control message, a PPTP acknowledgment, a GTP-U echo, an AYIYA heartbeat): keep
 * the enclosing packet, count nothing. Below every failWith() value, so it cannot be
 * mistaken for an anomaly.
 */
export const KEEP_ENCLOSING = -0x10000;

/**
 * 0 when a tunnel header `bytes` long, counted from the start of the carrier's payload,
 * fits in what was captured. Otherwise: past what the carrier claims on the wire the header
 * is malformed (`bad`); past the capture only, the snaplen cut it.
 */
export function headerFits(out: DecodedPacket, bytes: number, bad: number): number {
  if (bytes <= out.payloadLength) return 0;
  return failWith(bytes > out.payloadLengthOnWire ? bad : ANOMALY.truncated_encap);
}
