// The UDP carriers that are not data-centre overlays: GTP-U (mobile core user plane), and
// Teredo and AYIYA (host IPv6 transition tunnels). Each carries a bare IP packet, no
// Ethernet. Their ports are also used by unrelated traffic (Teredo and AYIYA on either
// side), so a port match alone opens nothing: the header's defined values must hold and the
// inner packet's length must be the datagram's, or the packet stays the outer UDP flow and
// counts bad_gtpu_header, bad_teredo_header or bad_ayiya_header.
//
// gap: Teredo is only recognised with port 3544 on one side, i.e. between a client and its
// server (qualification, bubbles, the first packets). Data a client exchanges with a relay
// runs between two ephemeral ports (RFC 4380 section 5.4) and stays keyed on its outer UDP
// flow: telling it apart needs per-client state that the stateless decoder and the
// dispatcher's shard key could not share.

import { ANOMALY, failWith } from './anomalies';
import { be16 } from './bytes';
import {
  AYIYA_AUTH, AYIYA_FIXED_BYTES, AYIYA_HASH, AYIYA_ID_TYPE, AYIYA_MAX_OPCODE, AYIYA_OPCODE,
  AYIYA_SIG_UNIT_BYTES, ENCAP_UDP_PORT, GTPU_EXT_NONE, GTPU_EXT_UNIT_BYTES, GTPU_FLAG,
  GTPU_HEADER_BYTES, GTPU_MSG, GTPU_OPTIONAL_BYTES, GTPU_VERSION, GTPU_VERSION_SHIFT,
  HOST_TUNNEL_UDP_PORT, IPPROTO_TUNNEL, IPV4_MIN_HEADER_BYTES, IPV6_HEADER_BYTES,
  MAX_GTPU_EXT_HEADERS, TEREDO_AUTH_FIXED_BYTES, TEREDO_INDICATOR, TEREDO_ORIGIN_BYTES,
} from './constants';
import { KEEP_ENCLOSING, headerFits } from './encap-common';
import { ENCAP } from './packet';
import type { DecodedPacket } from './packet';

/** Bytes a Teredo indicator type takes before its body (RFC 4380 section 5.1.1). */
const TEREDO_INDICATOR_TYPE_BYTES = 2;

/**
 * The ENCAP code of a UDP datagram's carrier by its ports, or ENCAP.NONE. The one list of
 * UDP carrier ports: decode.ts, encapOf() and the dispatcher's shard key all ask here, so
 * the fast path and the full decoder agree on which flows are tunnels. Overlays and GTP-U
 * are matched on the destination port only (their source port is a per-flow choice).
 */
export function udpCarrierOf(srcPort: number, dstPort: number): number {
  switch (dstPort) {
    case ENCAP_UDP_PORT.VXLAN:
      return ENCAP.VXLAN;
    case ENCAP_UDP_PORT.VXLAN_GPE:
      return ENCAP.VXLAN_GPE;
    case ENCAP_UDP_PORT.GENEVE:
      return ENCAP.GENEVE;
    case ENCAP_UDP_PORT.GTP_U:
      return ENCAP.GTP_U;
    case HOST_TUNNEL_UDP_PORT.TEREDO:
      return ENCAP.TEREDO;
    case HOST_TUNNEL_UDP_PORT.AYIYA:
      return ENCAP.AYIYA;
  }
  if (srcPort === HOST_TUNNEL_UDP_PORT.TEREDO) return ENCAP.TEREDO;
  if (srcPort === HOST_TUNNEL_UDP_PORT.AYIYA) return ENCAP.AYIYA;
  return ENCAP.NONE;
}

/**
 * GTP-U (3GPP TS 29.281 section 5): 8-byte header, optional 4 bytes, extension headers, then
 * the user's IPv4 or IPv6 packet in a G-PDU. Other messages (echo, error indication, end
 * marker) are signalling between the tunnel endpoints and keep the outer flow.
 */
export function decodeGtpu(b: Uint8Array, out: DecodedPacket): number {
  const p = out.payloadOffset;
  const bad = ANOMALY.bad_gtpu_header;
  let fits = headerFits(out, GTPU_HEADER_BYTES, bad);
  if (fits < 0) return fits;
  // flags (1), message type (1), length (2), TEID (4)
  const flags = b[p];
  const type = b[p + 1];
  const length = be16(b, p + 2);
  if (flags >> GTPU_VERSION_SHIFT !== GTPU_VERSION || (flags & GTPU_FLAG.PT) === 0) {
    return failWith(bad);
  }
  // The length counts every byte after the mandatory header (section 5.1): one datagram
  // holds one message, so a length that is not the rest of it is not GTP-U.
  if (GTPU_HEADER_BYTES + length !== out.payloadLengthOnWire) return failWith(bad);
  if (type !== GTPU_MSG.G_PDU) return isGtpuSignalling(type) ? KEEP_ENCLOSING : failWith(bad);

  let at = GTPU_HEADER_BYTES;
  if ((flags & (GTPU_FLAG.E | GTPU_FLAG.S | GTPU_FLAG.PN)) !== 0) {
    // sequence number (2), N-PDU number (1), next extension header type (1): present as a
    // block when any of the three flags is set, meaningful only where its flag is.
    at += GTPU_OPTIONAL_BYTES;
    fits = headerFits(out, at, bad);
    if (fits < 0) return fits;
    let next = (flags & GTPU_FLAG.E) !== 0 ? b[p + at - 1] : GTPU_EXT_NONE;
    // Each extension: length in 4-byte words (1), content, next type (1) as its last byte.
    for (let n = 0; next !== GTPU_EXT_NONE; n++) {
      if (n === MAX_GTPU_EXT_HEADERS) return failWith(bad);
      fits = headerFits(out, at + 1, bad);
      if (fits < 0) return fits;
      const bytes = b[p + at] * GTPU_EXT_UNIT_BYTES;
      if (bytes === 0) return failWith(bad); // section 5.2.1: a length of 0 is invalid
      fits = headerFits(out, at + bytes, bad);
      if (fits < 0) return fits;
      at += bytes;
      next = b[p + at - 1];
    }
  }
  out.ipVersion = 0; // no type field: the version nibble says IPv4 or IPv6 (section 4.3.1)
  return p + at;
}

/** GTP-U messages other than a G-PDU (TS 29.281 section 6.1, table 6.1-1). */
function isGtpuSignalling(type: number): boolean {
  switch (type) {
    case GTPU_MSG.ECHO_REQUEST:
    case GTPU_MSG.ECHO_RESPONSE:
    case GTPU_MSG.ERROR_INDICATION:
    case GTPU_MSG.SUPPORTED_EXT_HEADERS:
    case GTPU_MSG.TUNNEL_STATUS:
    case GTPU_MSG.END_MARKER:
      return true;
    default:
      return false;
  }
}

/**
 * Teredo (RFC 4380 section 5.1): the datagram is an IPv6 packet, optionally preceded by an
 * authentication indicator and then an origin indication. Teredo has no header of its own
 * to check, so the IPv6 packet must fill the datagram exactly. A bubble (section 5.2.6) is
 * an IPv6 packet without payload (next header 59): it decodes as the inner flow.
 */
export function decodeTeredo(b: Uint8Array, out: DecodedPacket): number {
  const p = out.payloadOffset;
  const bad = ANOMALY.bad_teredo_header;
  let at = 0;
  let fits = headerFits(out, TEREDO_INDICATOR_TYPE_BYTES, bad);
  if (fits < 0) return fits;
  if (be16(b, p) === TEREDO_INDICATOR.AUTH) {
    // indicator (2), client id length (1), auth value length (1), client id, auth value,
    // nonce (8), confirmation (1). Both lengths are bytes, so at most 523 bytes in all.
    fits = headerFits(out, TEREDO_AUTH_FIXED_BYTES, bad);
    if (fits < 0) return fits;
    at = TEREDO_AUTH_FIXED_BYTES + b[p + 2] + b[p + 3];
    fits = headerFits(out, at + TEREDO_INDICATOR_TYPE_BYTES, bad);
    if (fits < 0) return fits;
  }
  // indicator (2), obfuscated port (2), obfuscated address (4): the server saw the client
  // here (section 5.1.1); only servers and relays send it, after the authentication.
  if (be16(b, p + at) === TEREDO_INDICATOR.ORIGIN) at += TEREDO_ORIGIN_BYTES;
  return ipFillsDatagram(b, out, at, 6, bad);
}

/**
 * AYIYA, "Anything In Anything" (SixXS draft-massar-v6ops-ayiya): an 8-byte header, the
 * sender's identity and a signature, then the packet of the next-header protocol. Opcodes
 * other than the two forwarding ones (heartbeats, echoes, MOTD, queries) carry none and
 * keep the outer flow; a forwarded packet must be IPv4 or IPv6 and fill the datagram.
 */
export function decodeAyiya(b: Uint8Array, out: DecodedPacket): number {
  const p = out.payloadOffset;
  const bad = ANOMALY.bad_ayiya_header;
  let fits = headerFits(out, AYIYA_FIXED_BYTES, bad);
  if (fits < 0) return fits;
  // IDLen IDType (1), SigLen HshMeth (1), AutMeth OpCode (1), next header (1), epoch (4)
  const idType = b[p] & 0x0f;
  const hash = b[p + 1] & 0x0f;
  const auth = b[p + 2] >> 4;
  const opcode = b[p + 2] & 0x0f;
  const next = b[p + 3];
  if (idType > AYIYA_ID_TYPE.STRING || hash > AYIYA_HASH.SHA1 ||
    auth > AYIYA_AUTH.PUBLIC_KEY || opcode > AYIYA_MAX_OPCODE) {
    return failWith(bad);
  }
  // IDLen is a power of two (identity of 2^IDLen bytes, 16 for an IPv6 address), SigLen a
  // count of 4-byte words: at most 32768 + 60 bytes, checked against the datagram.
  const at = AYIYA_FIXED_BYTES + (1 << (b[p] >> 4)) + (b[p + 1] >> 4) * AYIYA_SIG_UNIT_BYTES;
  fits = headerFits(out, at, bad);
  if (fits < 0) return fits;
  if (opcode !== AYIYA_OPCODE.FORWARD && opcode !== AYIYA_OPCODE.ECHO_REQUEST_FORWARD) {
    return KEEP_ENCLOSING;
  }
  if (next === IPPROTO_TUNNEL.IPV6) return ipFillsDatagram(b, out, at, 6, bad);
  if (next === IPPROTO_TUNNEL.IPV4) return ipFillsDatagram(b, out, at, 4, bad);
  return failWith(ANOMALY.non_ip); // counted as encap_non_ip
}

/**
 * The offset of the inner IP header `at` bytes into the datagram, with out.ipVersion set,
 * when an IPv`version` header is there whose own length ends exactly where the datagram
 * ends on the wire; failWith(bad) otherwise. For carriers without a header of their own to
 * trust, this is what tells a tunnel from other traffic on the same port.
 */
function ipFillsDatagram(
  b: Uint8Array, out: DecodedPacket, at: number, version: number, bad: number,
): number {
  const i = out.payloadOffset + at;
  const room = out.payloadLengthOnWire - at;
  if (version === 6) {
    const fits = headerFits(out, at + IPV6_HEADER_BYTES, bad);
    if (fits < 0) return fits;
    // version (4) traffic class (8) flow label (20), payload length (2)
    if (b[i] >> 4 !== 6 || IPV6_HEADER_BYTES + be16(b, i + 4) !== room) return failWith(bad);
  } else {
    const fits = headerFits(out, at + IPV4_MIN_HEADER_BYTES, bad);
    if (fits < 0) return fits;
    // version (4) IHL (4), TOS (1), total length (2)
    if (b[i] >> 4 !== 4 || be16(b, i + 2) !== room) return failWith(bad);
  }
  out.ipVersion = version;
  return i;
}
