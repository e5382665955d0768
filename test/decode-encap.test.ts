// Tunnel decapsulation: one hand-built fixture per encapsulation, hostile and cut-short
// tunnel headers, nesting past the limit (the corpus captures with tunnels are checked in
// decode-corpus.test.ts). Every fixture was also read with tcpdump 4.99, which printed the
// inner endpoints asserted here wherever it decodes the tunnel (not ERSPAN).
// Fixtures are assembled from small builders that compute the length fields, with each
// tunnel header written field by field beside its layout. The inner packets are those of
// decode.test.ts, and the outer endpoints differ from them, so a packet reported at the
// wrong layer shows up as wrong addresses.

import t, { Test } from 'tap';
import { MAX_ENCAP_DEPTH } from '../src/decode/constants';
import { DLT, DecodeCounters, ENCAP, ENCAP_NAMES, decodePacket } from '../src/decode/decode';
import { formatAddress } from '../src/decode/flow-key';
import { DecodedPacket, IPPROTO, TCP_FLAG, newDecodedPacket } from '../src/decode/packet';

import {
  ETH_MACS, IPV4_TCP as INNER_TCP, IPV6_UDP as INNER_UDP6, cat, decodeChecked, hex, rng,
} from './helpers/decode-fixtures';

function u16(n: number): string {
  return n.toString(16).padStart(4, '0');
}

const ETH_TCP = cat(ETH_MACS, hex('0800'), INNER_TCP);
const ETH_UDP6 = cat(ETH_MACS, hex('86dd'), INNER_UDP6);

// --- outer builders ----------------------------------------------------------------------------

/**
 * IPv4 (RFC 791) 10.0.0.1 > 10.0.0.2: ver/IHL 45, TOS 00, total length, id 0001, flags and
 * fragment offset, TTL 40, protocol, checksum 0000 (not verified).
 */
function ipv4(proto: number, payload: Uint8Array, fragmentField = 0): Uint8Array {
  const header = `45 00 ${u16(20 + payload.length)} 0001 ${u16(fragmentField)} 40 ` +
    `${proto.toString(16).padStart(2, '0')} 0000 0a000001 0a000002`;
  return cat(hex(header), payload);
}

/** IPv6 (RFC 8200) 2001:db8::a > 2001:db8::b: version 6, payload length, next header, hop 40. */
function ipv6(next: number, payload: Uint8Array): Uint8Array {
  const header = `60000000 ${u16(payload.length)} ${next.toString(16).padStart(2, '0')} 40 ` +
    '20010db800000000000000000000000a 20010db800000000000000000000000b';
  return cat(hex(header), payload);
}

/** UDP (RFC 768): source port (54000 unless given), destination port, length, checksum 0. */
function udp(dstPort: number, payload: Uint8Array, srcPort = 54000): Uint8Array {
  return cat(hex(`${u16(srcPort)} ${u16(dstPort)} ${u16(8 + payload.length)} 0000`), payload);
}

const GRE = 47;
const IPIP = 4;
const IPV6_IN_IP = 41;
const UDP = 17;

// --- tunnel headers --------------------------------------------------------------------------

// GRE (RFC 2784): flags 00 (no C/K/S), version 0, protocol type 0800.
const GRE_IPV4 = hex('0000 0800');
// GRE with C, K and S (b0), version 0, protocol 86dd; checksum 1234 + reserved1 0000, key 42,
// sequence number 7 (RFC 2890 section 2): 16 bytes.
const GRE_ALL_OPTIONS_V6 = hex('b000 86dd 1234 0000 0000002a 00000007');
// VXLAN (RFC 7348 section 5): flags 08 (I), reserved 000000, VNI 000064 (100), reserved 00.
const VXLAN = hex('08000000 00006400');
// GENEVE (RFC 8926 section 3.4): ver 0, opt len 2 (02), flags 40 (C), protocol 6558, VNI 10.
// One option: class ffff, type 01, length 1 word (01), data 00000000.
const GENEVE_ETH = hex('0240 6558 00000a00  ffff 01 01 00000000');

/**
 * GTP-U (3GPP TS 29.281 section 5.1): flags (version 1, PT 1, then E S PN), message type,
 * length of everything after the 8 mandatory bytes (computed), TEID 0x00000001.
 */
function gtpu(flags: number, type: number, rest: Uint8Array): Uint8Array {
  const header = `${flags.toString(16).padStart(2, '0')} ${type.toString(16).padStart(2, '0')} ` +
    `${u16(rest.length)} 00000001`;
  return cat(hex(header), rest);
}
const GTP_U = 2152;
const G_PDU = 0xff;
// Optional block (E set): sequence 0000, N-PDU 00, next extension 85 (PDU session container);
// that extension: length 1 word (01), PDU type 0 + QFI 9 (00 09), next type 00 (end).
const GTPU_PDU_SESSION = hex('0000 00 85  01 0009 00');

// Teredo (RFC 4380 section 5.1.1) origin indication: indicator 0000, the port and address
// XOR all-ones: f227 (port 3544), bec861af (65.55.158.80).
const TEREDO_ORIGIN = hex('0000 f227 bec861af');
// Authentication indicator: 0001, client id length 0, auth length 0, nonce 8 bytes,
// confirmation 00 (13 bytes), as a Teredo server's router advertisement starts.
const TEREDO_AUTH = hex('0001 00 00 0102030405060708 00');
const TEREDO = 3544;

/**
 * AYIYA (SixXS draft-massar-v6ops-ayiya): IDLen 4 (16-byte identity) + IDType 1 (41),
 * SigLen 5 words + hash 2 SHA-1 (52), AutMeth 1 shared secret + opcode 1 forward (11), the
 * next header given, epoch 4af64bfd; identity 2001:db8::c, a 20-byte signature of 5a.
 */
function ayiya(next: number, opcode = 1, first = '41 52'): Uint8Array {
  return hex(`${first} 1${opcode.toString(16)} ${next.toString(16).padStart(2, '0')} 4af64bfd ` +
    `20010db800000000000000000000000c ${'5a'.repeat(20)}`);
}
const AYIYA = 5072;

interface Fixture {
  name: string;
  pkt: Uint8Array;
  dlt?: number;
  encap: number;
  depth?: number;
  v6?: boolean;
}

const FIXTURES: Fixture[] = [
  { name: 'ipip', pkt: ipv4(IPIP, INNER_TCP), encap: ENCAP.IPIP },
  { name: 'ipv4 in ipv6', pkt: ipv6(IPIP, INNER_TCP), encap: ENCAP.IPIP },
  { name: '6in4', pkt: ipv4(IPV6_IN_IP, INNER_UDP6), encap: ENCAP.SIX_IN_FOUR, v6: true },
  { name: '6in6', pkt: ipv6(IPV6_IN_IP, INNER_UDP6), encap: ENCAP.SIX_IN_FOUR, v6: true },
  { name: 'gre ipv4', pkt: ipv4(GRE, cat(GRE_IPV4, INNER_TCP)), encap: ENCAP.GRE },
  { name: 'gre over ipv6', pkt: ipv6(GRE, cat(GRE_IPV4, INNER_TCP)), encap: ENCAP.GRE },
  { name: 'gre checksum+key+sequence ipv6',
    pkt: ipv4(GRE, cat(GRE_ALL_OPTIONS_V6, INNER_UDP6)), encap: ENCAP.GRE, v6: true },
  // Transparent Ethernet bridging (6558) with a key (K, 20): key 100 (NVGRE-style).
  { name: 'gre ethernet', pkt: ipv4(GRE, cat(hex('2000 6558 00000064'), ETH_TCP)),
    encap: ENCAP.GRE },
  // MPLS unicast (8847): one label 29, S=1, TTL 255 (0001d1ff), then IPv4.
  { name: 'gre mpls', pkt: ipv4(GRE, cat(hex('0000 8847 0001d1ff'), INNER_TCP)),
    encap: ENCAP.GRE },
  // ERSPAN type I: GRE 88be without S, no ERSPAN header, the mirrored frame straight away.
  { name: 'erspan type I', pkt: ipv4(GRE, cat(hex('0000 88be'), ETH_TCP)), encap: ENCAP.ERSPAN },
  // ERSPAN type II: GRE S (10), sequence 5; ERSPAN ver 1 + VLAN 064 (1064), COS/En/T 0 +
  // session 0x14 (0014), reserved + index 1 (00000001).
  { name: 'erspan type II',
    pkt: ipv4(GRE, cat(hex('1000 88be 00000005  1064 0014 00000001'), ETH_UDP6)),
    encap: ENCAP.ERSPAN, v6: true },
  // ERSPAN type III: GRE 22eb, sequence 6; ver 2 + VLAN 0 (2000), session 0x14, timestamp
  // 0a0b0c0d, SGT 0000, P=1 FT=0 O=1 (8001), then an 8-byte platform subheader.
  { name: 'erspan type III with subheader',
    pkt: ipv4(GRE, cat(hex('1000 22eb 00000006  2000 0014 0a0b0c0d 0000 8001'),
      hex('0c000000 00000000'), ETH_TCP)), encap: ENCAP.ERSPAN },
  // ERSPAN type III, FT=2 (IP, 8800), no subheader: the IP packet follows directly.
  { name: 'erspan type III ip frame',
    pkt: ipv4(GRE, cat(hex('1000 22eb 00000007  2000 0014 0a0b0c0d 0000 8800'), INNER_TCP)),
    encap: ENCAP.ERSPAN },
  // PPTP (RFC 2637 s4.1): K and S (30), A and version 1 (81), protocol 880b, payload length
  // 48 (ff03 0021 + 44), call id 1780, sequence 6, acknowledgment 5; PPP ff03 0021.
  { name: 'pptp',
    pkt: ipv4(GRE, cat(hex('3081 880b 0030 1780 00000006 00000005  ff03 0021'), INNER_TCP)),
    encap: ENCAP.PPTP },
  // PPTP without acknowledgment (01), PPP with address/control and protocol compressed (21).
  { name: 'pptp compressed ppp',
    pkt: ipv4(GRE, cat(hex('3001 880b 002d 1780 00000007  21'), INNER_TCP)),
    encap: ENCAP.PPTP },
  { name: 'vxlan', pkt: ipv4(UDP, udp(4789, cat(VXLAN, ETH_TCP))), encap: ENCAP.VXLAN },
  { name: 'vxlan over ipv6', pkt: ipv6(UDP, udp(4789, cat(VXLAN, ETH_UDP6))),
    encap: ENCAP.VXLAN, v6: true },
  // VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-13): flags 0c (I, P), reserved, next protocol 01
  // (IPv4), VNI 100, reserved.
  { name: 'vxlan-gpe ipv4', pkt: ipv4(UDP, udp(4790, cat(hex('0c000001 00006400'), INNER_TCP))),
    encap: ENCAP.VXLAN_GPE },
  { name: 'vxlan-gpe ipv6', pkt: ipv4(UDP, udp(4790, cat(hex('0c000002 00006400'), INNER_UDP6))),
    encap: ENCAP.VXLAN_GPE, v6: true },
  // VXLAN-GPE next protocol 03: Ethernet, as in plain VXLAN.
  { name: 'vxlan-gpe ethernet',
    pkt: ipv4(UDP, udp(4790, cat(hex('0c000003 00006400'), ETH_UDP6))),
    encap: ENCAP.VXLAN_GPE, v6: true },
  { name: 'geneve ethernet with option', pkt: ipv4(UDP, udp(6081, cat(GENEVE_ETH, ETH_TCP))),
    encap: ENCAP.GENEVE },
  // GENEVE carrying IPv6 directly: no options, protocol 86dd, VNI 11.
  { name: 'geneve ipv6', pkt: ipv4(UDP, udp(6081, cat(hex('0000 86dd 00000b00'), INNER_UDP6))),
    encap: ENCAP.GENEVE, v6: true },
  // Over Ethernet with a VLAN tag: the capture's VLAN (42) is kept, not the inner tag (7).
  { name: 'vxlan with vlans outside and inside', dlt: DLT.EN10MB,
    pkt: cat(ETH_MACS, hex('8100 002a 0800'), ipv4(UDP, udp(4789, cat(VXLAN, ETH_MACS,
      hex('8100 0007 0800'), INNER_TCP)))), encap: ENCAP.VXLAN },
  // Two layers: GRE carrying an IPv4/UDP VXLAN packet: the innermost tunnel is reported.
  { name: 'vxlan inside gre',
    pkt: ipv4(GRE, cat(GRE_IPV4, ipv4(UDP, udp(4789, cat(VXLAN, ETH_UDP6))))),
    encap: ENCAP.VXLAN, depth: 2, v6: true },
  // GTP-U G-PDU (flags 30: version 1, PT 1, no options) carrying IPv4, port 2152 both sides.
  { name: 'gtp-u ipv4', pkt: ipv4(UDP, udp(GTP_U, gtpu(0x30, G_PDU, INNER_TCP), GTP_U)),
    encap: ENCAP.GTP_U },
  // GTP-U with E (34): the optional block and one PDU session container, then IPv6.
  { name: 'gtp-u ipv6 with extension header',
    pkt: ipv4(UDP, udp(GTP_U, gtpu(0x34, G_PDU, cat(GTPU_PDU_SESSION, INNER_UDP6)))),
    encap: ENCAP.GTP_U, v6: true },
  // GTP-U with S only (32): the 4-byte block is there, its next-type byte (here 85) unread.
  { name: 'gtp-u with sequence number',
    pkt: ipv6(UDP, udp(GTP_U, gtpu(0x32, G_PDU, cat(hex('0007 00 85'), INNER_TCP)))),
    encap: ENCAP.GTP_U },
  // Teredo from the server's port 3544 to a client: origin indication, then IPv6.
  { name: 'teredo with origin indication',
    pkt: ipv4(UDP, udp(40000, cat(TEREDO_ORIGIN, INNER_UDP6), TEREDO)),
    encap: ENCAP.TEREDO, v6: true },
  { name: 'teredo with authentication and origin',
    pkt: ipv4(UDP, udp(40000, cat(TEREDO_AUTH, TEREDO_ORIGIN, INNER_UDP6), TEREDO)),
    encap: ENCAP.TEREDO, v6: true },
  { name: 'teredo to the server', pkt: ipv4(UDP, udp(TEREDO, INNER_UDP6)),
    encap: ENCAP.TEREDO, v6: true },
  // AYIYA client to broker (next header 29 = 41, IPv6), and broker to client (04, IPv4).
  { name: 'ayiya ipv6', pkt: ipv4(UDP, udp(AYIYA, cat(ayiya(41), INNER_UDP6))),
    encap: ENCAP.AYIYA, v6: true },
  { name: 'ayiya ipv4 from the broker port',
    pkt: ipv4(UDP, udp(53000, cat(ayiya(4), INNER_TCP), AYIYA)), encap: ENCAP.AYIYA },
  // Exactly MAX_ENCAP_DEPTH (3) layers still decode without an anomaly.
  { name: 'three layers', pkt: ipv4(IPIP, ipv4(GRE, cat(hex('0000 86dd'), ipv6(IPIP, INNER_TCP)))),
    encap: ENCAP.IPIP, depth: 3 },
];

// --- helpers -----------------------------------------------------------------------------------

interface Decoded {
  ok: boolean;
  p: DecodedPacket;
  counters: DecodeCounters;
}

/** Decodes `pkt` placed at offset 16 of a larger buffer whose other bytes are 0xaa garbage. */
function decode(pkt: Uint8Array, dlt: number = DLT.RAW, caplen = pkt.length): Decoded {
  const buf = new Uint8Array(pkt.length + 64).fill(0xaa);
  buf.set(pkt, 16);
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const ok = decodePacket(buf, 16, caplen, dlt, p, counters);
  if (ok) p.payloadOffset -= 16; // report offsets relative to the packet
  return { ok, p, counters };
}

function payloadOf(pkt: Uint8Array, p: DecodedPacket): string {
  return Buffer.from(pkt.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength))
    .toString('hex');
}

function flowOf(p: DecodedPacket): string {
  return `${formatAddress(p.src)}.${p.srcPort} > ${formatAddress(p.dst)}.${p.dstPort}`;
}

function checkInner(tt: Test, f: Fixture, d: Decoded): void {
  tt.ok(d.ok, 'decoded');
  tt.same(d.counters.toObject(), {}, 'no anomaly');
  tt.equal(ENCAP_NAMES[d.p.encap], ENCAP_NAMES[f.encap], 'encap');
  tt.equal(d.p.encapDepth, f.depth ?? 1, 'depth');
  if (f.v6) {
    tt.equal(d.p.ipVersion, 6);
    tt.equal(flowOf(d.p), '2001:db8::1.54321 > 2001:db8::2.53');
    tt.equal(d.p.proto, IPPROTO.UDP);
    tt.equal(payloadOf(f.pkt, d.p), 'deadbeef');
  } else {
    tt.equal(d.p.ipVersion, 4);
    tt.equal(flowOf(d.p), '192.168.0.1.12345 > 192.168.0.2.80');
    tt.equal(d.p.proto, IPPROTO.TCP);
    tt.equal(d.p.tcpFlags, TCP_FLAG.PSH | TCP_FLAG.ACK);
    tt.equal(d.p.tcpSeq, 0x01020304);
    tt.equal(payloadOf(f.pkt, d.p), '47455420');
  }
  tt.equal(d.p.payloadLengthOnWire, 4);
  tt.notOk(d.p.fragment);
}

/** Expects the enclosing packet back (outer endpoints, no tunnel) and one anomaly, or none. */
function keepsOuter(t: Test, pkt: Uint8Array, anomaly: string | null, caplen?: number): Decoded {
  const d = decode(pkt, DLT.RAW, caplen);
  const label = anomaly ?? 'no anomaly';
  t.ok(d.ok, `${label}: still decoded`);
  t.same(d.counters.toObject(), anomaly === null ? {} : { [anomaly]: 1 }, `${label}: counted`);
  t.equal(d.p.encap, ENCAP.NONE, `${label}: not decapsulated`);
  t.equal(d.p.encapDepth, 0);
  t.match(formatAddress(d.p.src), /^(10\.0\.0\.1|2001:db8::a)$/, `${label}: outer source`);
  return d;
}

// --- fixtures ----------------------------------------------------------------------------------

t.test('every encapsulation decodes to its inner packet', async (t) => {
  for (const f of FIXTURES) {
    t.test(f.name, async (tt) => {
      const d = decode(f.pkt, f.dlt ?? DLT.RAW);
      checkInner(tt, f, d);
      tt.equal(d.p.vlan, f.dlt === DLT.EN10MB ? 42 : -1, 'vlan is the capture\'s');
    });
  }
});

t.test('tables', async (t) => {
  t.equal(ENCAP_NAMES.length, Object.keys(ENCAP).length, 'one name per code');
  t.same(Object.values(ENCAP), [...Object.values(ENCAP).keys()], 'codes are 0..n-1');
  t.same([ENCAP_NAMES[ENCAP.NONE], ENCAP_NAMES[ENCAP.IPIP], ENCAP_NAMES[ENCAP.SIX_IN_FOUR],
    ENCAP_NAMES[ENCAP.GRE], ENCAP_NAMES[ENCAP.VXLAN], ENCAP_NAMES[ENCAP.GENEVE]],
  ['none', 'ipip', '6in4', 'gre', 'vxlan', 'geneve']);
  // Names leave the process and are config values: appended, never renumbered.
  t.same([ENCAP.VXLAN_GPE, ENCAP.GTP_U, ENCAP.TEREDO, ENCAP.AYIYA], [8, 9, 10, 11]);
  t.same([ENCAP_NAMES[9], ENCAP_NAMES[10], ENCAP_NAMES[11]], ['gtp-u', 'teredo', 'ayiya']);
  t.equal(newDecodedPacket().encap, ENCAP.NONE);
  t.equal(newDecodedPacket().encapDepth, 0);
});

t.test('plain packets and reuse of the record', async (t) => {
  const p = newDecodedPacket();
  const c = new DecodeCounters();
  const tunnel = ipv4(GRE, cat(GRE_IPV4, INNER_TCP));
  t.ok(decodePacket(tunnel, 0, tunnel.length, DLT.RAW, p, c));
  t.equal(p.encap, ENCAP.GRE);
  t.ok(decodePacket(INNER_TCP, 0, INNER_TCP.length, DLT.RAW, p, c));
  t.equal(p.encap, ENCAP.NONE, 'reset on the next packet');
  t.equal(p.encapDepth, 0);
  t.equal(flowOf(p), '192.168.0.1.12345 > 192.168.0.2.80');
  // A VXLAN source port is not a tunnel: only the destination port identifies one.
  const fromVxlanPort = decode(ipv4(UDP, udp(5555, cat(VXLAN, ETH_TCP), 4789)));
  t.equal(fromVxlanPort.p.encap, ENCAP.NONE);
  t.equal(fromVxlanPort.p.dstPort, 5555);
  t.same(fromVxlanPort.counters.toObject(), {});
  // Likewise GTP-U: G-PDUs go to 2152, a reply from 2152 to another port is not one.
  const fromGtpPort = decode(ipv4(UDP, udp(5555, gtpu(0x30, G_PDU, INNER_TCP), GTP_U)));
  t.equal(fromGtpPort.p.encap, ENCAP.NONE);
  t.same(fromGtpPort.counters.toObject(), {});
});

t.test('fragments', async (t) => {
  // An outer fragment (MF set, 2000) is never opened: its inner packet is split.
  const outerFragment = decode(ipv4(IPIP, INNER_TCP, 0x2000));
  t.ok(outerFragment.ok);
  t.equal(outerFragment.p.encap, ENCAP.NONE);
  t.equal(outerFragment.p.proto, IPIP);
  t.same(outerFragment.counters.toObject(), { ipv4_fragment: 1 });
  // An inner non-first fragment (offset 0x00b9) is the inner flow without ports, counted.
  const laterFragment = INNER_TCP.slice();
  laterFragment[6] = 0x00; laterFragment[7] = 0xb9;
  const inner = decode(ipv4(IPIP, laterFragment));
  t.ok(inner.ok);
  t.equal(inner.p.encap, ENCAP.IPIP);
  t.ok(inner.p.fragment);
  t.equal(flowOf(inner.p), '192.168.0.1.0 > 192.168.0.2.0', 'no carrier ports leak in');
  t.same(inner.counters.toObject(), { ipv4_fragment: 1 });
  // An inner tiny first fragment (RFC 1858: MF set, 8 bytes of TCP header) is kept without
  // ports, like the captured packet's.
  const tiny = hex('45 00 001c 0001 2000 40 06 0000 c0a80001 c0a80002 3039 0050 01020304');
  const tinyInner = decode(ipv4(IPIP, tiny));
  t.equal(tinyInner.p.encap, ENCAP.IPIP);
  t.equal(flowOf(tinyInner.p), '192.168.0.1.0 > 192.168.0.2.0');
  t.equal(tinyInner.p.payloadLength, 8);
  t.equal(tinyInner.p.tcpSeq, 0);
  t.same(tinyInner.counters.toObject(), { ipv4_fragment: 1 });
  // Inner informational anomalies are counted like the captured packet's.
  const zeroLength = INNER_TCP.slice();
  zeroLength[2] = 0; zeroLength[3] = 0;
  const tso = decode(ipv4(IPIP, zeroLength));
  t.equal(tso.p.encap, ENCAP.IPIP);
  t.same(tso.counters.toObject(), { ip_length_zero: 1 });
  // An inner IPv4 length of 1000 inside a 64-byte carrier: the claim is capped by the
  // carrier's, so the payload on the wire is the 4 bytes the carrier really held.
  const forged = INNER_TCP.slice();
  forged[2] = 0x03; forged[3] = 0xe8;
  const capped = decode(ipv4(IPIP, forged));
  t.equal(capped.p.encap, ENCAP.IPIP);
  t.equal(capped.p.payloadLength, 4);
  t.equal(capped.p.payloadLengthOnWire, 4);
  t.same(capped.counters.toObject(), {});
  // A carrier cut by the snaplen (claims 256 bytes, 64 captured): up to its own claim,
  // 256 - 20 - 40 = 196 bytes of inner payload.
  const cutCarrier = ipv4(IPIP, forged);
  cutCarrier[2] = 0x01; cutCarrier[3] = 0x00;
  const cut = decode(cutCarrier);
  t.equal(cut.p.payloadLength, 4);
  t.equal(cut.p.payloadLengthOnWire, 196);
  // A UDP length past the inner IP payload: counted, the IP length used.
  const longUdp = INNER_UDP6.slice();
  longUdp[45] = 0xff; // UDP length 255 in a 12-byte IPv6 payload
  const badUdp = decode(ipv6(IPV6_IN_IP, longUdp));
  t.equal(badUdp.p.encap, ENCAP.SIX_IN_FOUR);
  t.equal(badUdp.p.payloadLength, 4);
  t.same(badUdp.counters.toObject(), { bad_udp_length: 1 });
});

t.test('hostile tunnel headers keep the outer packet', async (t) => {
  // GRE with C, K and S needs 16 bytes; 10 are on the wire: malformed.
  keepsOuter(t, ipv4(GRE, hex('b000 0800 1234 0000 0000')), 'bad_gre_header');
  // The same header whole on the wire, but the capture stops after 10 GRE bytes: cut.
  const fullGre = ipv4(GRE, cat(GRE_ALL_OPTIONS_V6, INNER_UDP6));
  keepsOuter(t, fullGre, 'truncated_encap', 30);
  keepsOuter(t, ipv4(GRE, hex('0000')), 'bad_gre_header');
  keepsOuter(t, ipv4(GRE, cat(hex('0002 0800'), INNER_TCP)), 'bad_gre_header'); // version 2
  keepsOuter(t, ipv4(GRE, cat(hex('4000 0800'), INNER_TCP)), 'bad_gre_header'); // routing
  keepsOuter(t, ipv4(GRE, cat(hex('0800 0800'), INNER_TCP)), 'bad_gre_header'); // strict route
  // PPTP with a checksum, without a key, with a non-PPP protocol, with reserved flags.
  keepsOuter(t, ipv4(GRE, hex('b001 880b 0000 0000 0030 1780 00000006')), 'bad_gre_header');
  keepsOuter(t, ipv4(GRE, hex('1001 880b 00000006 ff030021')), 'bad_gre_header');
  keepsOuter(t, ipv4(GRE, hex('3001 0800 0030 1780 00000006')), 'bad_gre_header');
  keepsOuter(t, ipv4(GRE, hex('3009 880b 0030 1780 00000006')), 'bad_gre_header');
  // A PPTP acknowledgment without payload (length 0) is well-formed: nothing to count.
  const ack = keepsOuter(t, ipv4(GRE, hex('2081 880b 0000 1780 00000005')), null);
  t.equal(ack.p.proto, GRE);
  // ERSPAN type II whose version nibble says type III; type III with an unknown frame type.
  keepsOuter(t, ipv4(GRE, cat(hex('1000 88be 00000005 2064 0014 00000001'), ETH_TCP)),
    'bad_erspan_header');
  keepsOuter(t, ipv4(GRE, cat(hex('1000 22eb 00000006 2000 0014 0a0b0c0d 0000 8400'),
    ETH_TCP)), 'encap_non_ip');
  keepsOuter(t, ipv4(GRE, hex('1000 22eb 00000006 2000 0014 0a0b0c0d 0000 8001')),
    'bad_erspan_header'); // subheader announced, not there
  // GRE carrying ARP, and an unknown protocol type.
  keepsOuter(t, ipv4(GRE, cat(hex('0000 0806'), new Uint8Array(28))), 'encap_non_ip');
  keepsOuter(t, ipv4(GRE, cat(hex('0000 1234'), INNER_TCP)), 'encap_non_ip');

  // VXLAN without the I flag: the UDP flow to 4789 is what is left.
  const noI = keepsOuter(t, ipv4(UDP, udp(4789, cat(hex('00000000 00006400'), ETH_TCP))),
    'bad_vxlan_header');
  t.equal(flowOf(noI.p), '10.0.0.1.54000 > 10.0.0.2.4789', 'outer UDP flow');
  keepsOuter(t, ipv4(UDP, udp(4789, hex('0800'))), 'bad_vxlan_header');
  keepsOuter(t, ipv4(UDP, udp(4789, cat(VXLAN, ETH_MACS, hex('0806'), new Uint8Array(28)))),
    'encap_non_ip');
  keepsOuter(t, ipv4(UDP, udp(4789, cat(VXLAN, ETH_MACS))), 'bad_inner_packet');
  // VXLAN-GPE version 1, without P, OAM (O) without anomaly, NSH (next protocol 4) and an
  // unassigned value (05) not followed.
  keepsOuter(t, ipv4(UDP, udp(4790, cat(hex('1c000001 00006400'), INNER_TCP))),
    'bad_vxlan_header');
  keepsOuter(t, ipv4(UDP, udp(4790, cat(VXLAN, ETH_TCP))), 'bad_vxlan_header');
  keepsOuter(t, ipv4(UDP, udp(4790, cat(hex('0d000001 00006400'), INNER_TCP))), null);
  keepsOuter(t, ipv4(UDP, udp(4790, cat(hex('0c000004 00006400'), INNER_TCP))),
    'encap_non_ip');
  keepsOuter(t, ipv4(UDP, udp(4790, cat(hex('0c000005 00006400'), INNER_TCP))),
    'encap_non_ip');

  // GENEVE options length 63 words (3f): 252 bytes past the UDP payload.
  keepsOuter(t, ipv4(UDP, udp(6081, cat(hex('3f00 6558 00000a00'), ETH_TCP))),
    'bad_geneve_header');
  // The options are on the wire but the capture ends inside them.
  const geneve = ipv4(UDP, udp(6081, cat(GENEVE_ETH, ETH_TCP)));
  keepsOuter(t, geneve, 'truncated_encap', 20 + 8 + 12);
  keepsOuter(t, ipv4(UDP, udp(6081, cat(hex('4000 6558 00000a00'), ETH_TCP))),
    'bad_geneve_header'); // version 1
  keepsOuter(t, ipv4(UDP, udp(6081, hex('0000 65'))), 'bad_geneve_header');
  // A control message (O) is between the tunnel endpoints: not interpreted, not counted.
  keepsOuter(t, ipv4(UDP, udp(6081, cat(hex('0080 6558 00000a00'), ETH_TCP))), null);
});

t.test('hostile GTP-U, Teredo and AYIYA keep the outer UDP flow', async (t) => {
  const gtp = (flags: number, type: number, rest: Uint8Array) =>
    ipv4(UDP, udp(GTP_U, gtpu(flags, type, rest)));
  // Something else on 2152 (a DNS query's first bytes): the UDP flow is what is left.
  const dns = keepsOuter(t, ipv4(UDP, udp(GTP_U, hex('abcd 0100 0001 0000 0000 0000'))),
    'bad_gtpu_header');
  t.equal(flowOf(dns.p), '10.0.0.1.54000 > 10.0.0.2.2152', 'outer UDP flow');
  keepsOuter(t, gtp(0x50, G_PDU, INNER_TCP), 'bad_gtpu_header'); // version 2 (GTPv2-C)
  keepsOuter(t, gtp(0x20, G_PDU, INNER_TCP), 'bad_gtpu_header'); // PT 0: GTP'
  keepsOuter(t, gtp(0x30, 0x10, INNER_TCP), 'bad_gtpu_header'); // a GTPv1-C message type
  // The length field one byte short of the datagram.
  const shortLength = gtpu(0x30, G_PDU, INNER_TCP);
  shortLength[3]--;
  keepsOuter(t, ipv4(UDP, udp(GTP_U, shortLength)), 'bad_gtpu_header');
  // An extension of length 0, and a chain of nine one-word extensions (limit 8).
  keepsOuter(t, gtp(0x34, G_PDU, cat(hex('0000 00 85  00 0009 00'), INNER_TCP)),
    'bad_gtpu_header');
  keepsOuter(t, gtp(0x34, G_PDU, cat(hex('0000 00 85'), hex('01 0000 85'.repeat(9)),
    INNER_TCP)), 'bad_gtpu_header');
  // An extension that says 255 words, past the datagram.
  keepsOuter(t, gtp(0x34, G_PDU, cat(hex('0000 00 85  ff 0009 00'), INNER_TCP)),
    'bad_gtpu_header');
  // A G-PDU whose payload is not IP, and one cut by the snaplen inside the extension.
  keepsOuter(t, gtp(0x30, G_PDU, hex('deadbeef 00000000 00000000')), 'bad_inner_packet');
  keepsOuter(t, gtp(0x34, G_PDU, cat(GTPU_PDU_SESSION, INNER_UDP6)), 'truncated_encap',
    20 + 8 + 8 + 6);
  // An echo request (type 1, S set, sequence 3): signalling, kept without an anomaly.
  keepsOuter(t, gtp(0x32, 1, hex('0003 00 00')), null);

  // A DNS response from port 3544: not IPv6, so not Teredo.
  const fromTeredo = keepsOuter(t, ipv4(UDP, udp(40000, hex('abcd 8180 0001 0001'), TEREDO)),
    'bad_teredo_header');
  t.equal(flowOf(fromTeredo.p), '10.0.0.1.3544 > 10.0.0.2.40000', 'outer UDP flow');
  // IPv6 whose payload length does not fill the datagram (one trailing byte).
  keepsOuter(t, ipv4(UDP, udp(TEREDO, cat(TEREDO_ORIGIN, INNER_UDP6, hex('00')))),
    'bad_teredo_header');
  // Origin indication followed by IPv4; authentication whose client id runs past the end.
  keepsOuter(t, ipv4(UDP, udp(TEREDO, cat(TEREDO_ORIGIN, INNER_TCP))), 'bad_teredo_header');
  keepsOuter(t, ipv4(UDP, udp(TEREDO, hex('0001 ff 00 0102030405060708 00'))),
    'bad_teredo_header');
  keepsOuter(t, ipv4(UDP, udp(TEREDO, hex('60'))), 'bad_teredo_header');

  // AYIYA identity type 3, hash method 3, auth method 3, opcode 8: values the draft lacks.
  keepsOuter(t, ipv4(UDP, udp(AYIYA, cat(ayiya(41, 1, '43 52'), INNER_UDP6))),
    'bad_ayiya_header');
  keepsOuter(t, ipv4(UDP, udp(AYIYA, cat(ayiya(41, 1, '41 53'), INNER_UDP6))),
    'bad_ayiya_header');
  const auth3 = cat(ayiya(41), INNER_UDP6);
  auth3[2] = 0x31;
  keepsOuter(t, ipv4(UDP, udp(AYIYA, auth3)), 'bad_ayiya_header');
  keepsOuter(t, ipv4(UDP, udp(AYIYA, cat(ayiya(41, 8), INNER_UDP6))), 'bad_ayiya_header');
  // Signature length 15 words (f2): 60 bytes, past the datagram.
  keepsOuter(t, ipv4(UDP, udp(AYIYA, ayiya(41, 1, '41 f2'))), 'bad_ayiya_header');
  // Forwarding UDP (next header 17): not an IP packet.
  keepsOuter(t, ipv4(UDP, udp(AYIYA, cat(ayiya(17), INNER_UDP6))), 'encap_non_ip');
  // An IPv6 length that does not fill the datagram, and IPv4 announced as IPv6.
  keepsOuter(t, ipv4(UDP, udp(AYIYA, cat(ayiya(41), INNER_UDP6, hex('0000')))),
    'bad_ayiya_header');
  keepsOuter(t, ipv4(UDP, udp(AYIYA, cat(ayiya(41), INNER_TCP))), 'bad_ayiya_header');
  // A heartbeat (opcode 0, next header 59, no payload) is well-formed: nothing counted.
  keepsOuter(t, ipv4(UDP, udp(AYIYA, ayiya(59, 0))), null);
});

t.test('a Teredo bubble is the inner IPv6 flow, without an anomaly', async (t) => {
  // RFC 4380 section 5.2.6: IPv6 payload length 0, next header 59 (no next header).
  const bubble = hex('60000000 0000 3b 15 fe800000000000000000000000000001 ' +
    '20010000413799500000000000000002');
  const d = decode(ipv4(UDP, udp(40000, cat(TEREDO_ORIGIN, bubble), TEREDO)));
  t.ok(d.ok);
  t.same(d.counters.toObject(), {}, 'payload length 0 is the bubble, not ip_length_zero');
  t.equal(d.p.encap, ENCAP.TEREDO);
  t.equal(d.p.proto, 59);
  t.equal(`${formatAddress(d.p.src)} > ${formatAddress(d.p.dst)}`,
    'fe80::1 > 2001:0:4137:9950::2');
  t.equal(d.p.payloadLength, 0);
});

t.test('bad inner packets keep the outer packet', async (t) => {
  const ihl4 = INNER_TCP.slice();
  ihl4[0] = 0x44;
  keepsOuter(t, ipv4(IPIP, ihl4), 'bad_inner_packet');
  // Protocol 4 announces IPv4; an IPv6 packet inside is a version mismatch.
  keepsOuter(t, ipv4(IPIP, INNER_UDP6), 'bad_inner_packet');
  // The carrier ends, on the wire, 12 bytes into the inner header: malformed, not cut.
  keepsOuter(t, ipv4(IPIP, INNER_TCP.subarray(0, 12)), 'bad_inner_packet');
  // The carrier is whole on the wire but the snaplen cut the inner TCP header: cut.
  keepsOuter(t, ipv4(IPIP, INNER_TCP), 'truncated_encap', 20 + 30);
  keepsOuter(t, ipv4(IPV6_IN_IP, new Uint8Array(0)), 'bad_inner_packet');
});

t.test('nesting past MAX_ENCAP_DEPTH stops at the limit', async (t) => {
  t.equal(MAX_ENCAP_DEPTH, 3);
  // Four IPv4-in-IPv4 layers: the third is reported, still carrying protocol 4.
  const four = ipv4(IPIP, ipv4(IPIP, ipv4(IPIP, ipv4(IPIP, INNER_TCP))));
  const d = decode(four);
  t.ok(d.ok);
  t.same(d.counters.toObject(), { encap_too_deep: 1 });
  t.equal(d.p.encap, ENCAP.IPIP);
  t.equal(d.p.encapDepth, MAX_ENCAP_DEPTH);
  t.equal(d.p.proto, IPIP);
  t.equal(formatAddress(d.p.src), '10.0.0.1');
  // Forty GRE layers: the work is bounded by the limit, not by the packet.
  let deep = INNER_TCP;
  for (let i = 0; i < 40; i++) deep = ipv4(GRE, cat(GRE_IPV4, deep));
  const g = decode(deep);
  t.same(g.counters.toObject(), { encap_too_deep: 1 });
  t.equal(g.p.encapDepth, MAX_ENCAP_DEPTH);
  t.equal(g.p.proto, GRE);
  // A failure below the first layer keeps the layer above it, not the captured packet.
  const ihl4 = INNER_TCP.slice();
  ihl4[0] = 0x44;
  const nested = decode(ipv4(GRE, cat(GRE_IPV4, ipv4(IPIP, ihl4))));
  t.same(nested.counters.toObject(), { bad_inner_packet: 1 });
  t.equal(nested.p.encap, ENCAP.GRE);
  t.equal(nested.p.encapDepth, 1);
  t.equal(nested.p.proto, IPIP);
});

// --- invariants on every prefix and on mutations ---------------------------------------------

/** The shared invariants, plus the encapsulation fields; returns whether it decoded. */
function checkInvariants(
  t: Test, buf: Uint8Array, caplen: number, dlt: number, label: string,
): boolean {
  const p = decodeChecked(t, buf, 8, caplen, dlt, label);
  if (p === null) return false;
  if (p.encapDepth < 0 || p.encapDepth > MAX_ENCAP_DEPTH) t.fail(`${label}: depth`);
  if ((p.encap === ENCAP.NONE) !== (p.encapDepth === 0)) t.fail(`${label}: encap/depth`);
  return true;
}

t.test('every prefix of every tunnel fixture is safe', async (t) => {
  let checked = 0;
  for (const f of FIXTURES) {
    const buf = new Uint8Array(f.pkt.length + 32).fill(0x45); // garbage that looks like IP
    buf.set(f.pkt, 8);
    for (let caplen = 0; caplen <= f.pkt.length; caplen++) {
      checkInvariants(t, buf, caplen, f.dlt ?? DLT.RAW, `${f.name} prefix ${caplen}`);
      checked++;
    }
  }
  t.ok(checked > 1500, `${checked} prefixes checked`);
});

t.test('mutated tunnel fixtures never throw', async (t) => {
  const next = rng(0xe7ca9);
  let decoded = 0;
  let inner = 0;
  for (const f of FIXTURES) {
    const buf = new Uint8Array(f.pkt.length + 32);
    for (let n = 0; n < 3000; n++) {
      buf.fill(0x45);
      buf.set(f.pkt, 8);
      // Flip 1-4 bytes past the outer IP header, where the tunnel headers are.
      const flips = 1 + (next() % 4);
      for (let i = 0; i < flips; i++) buf[8 + 20 + (next() % (f.pkt.length - 20))] = next() & 0xff;
      if (checkInvariants(t, buf, f.pkt.length, f.dlt ?? DLT.RAW, `${f.name} mutation ${n}`)) {
        decoded++;
      }
      const p = newDecodedPacket();
      if (decodePacket(buf, 8, f.pkt.length, f.dlt ?? DLT.RAW, p, new DecodeCounters()) &&
        p.encap !== ENCAP.NONE) inner++;
    }
  }
  t.ok(decoded > 0 && inner > 0, `${decoded} mutations decoded, ${inner} still as tunnels`);
});
