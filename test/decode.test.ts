// L2-L4 decoder: hand-built hex fixtures per link type, hostile and truncated input.
// Every fixture is written field by field with its layout beside it; addresses and ports are
// chosen so that a wrong offset shows up as a wrong value.

import t, { Test } from 'tap';
import { DECODE_ANOMALIES, DLT, DecodeCounters, decodePacket } from '../src/decode/decode';
import { formatAddress } from '../src/decode/flow-key';
import { DecodedPacket, IPPROTO, TCP_FLAG, newDecodedPacket } from '../src/decode/packet';

import {
  ETH_MACS, IPV4_TCP, IPV6_UDP, cat, decodeChecked, hex, rng,
} from './helpers/decode-fixtures';

interface Decoded {
  ok: boolean;
  p: DecodedPacket;
  counters: DecodeCounters;
}

/** Decodes `pkt` placed at offset 16 of a larger buffer whose other bytes are 0xaa garbage. */
function decode(pkt: Uint8Array, linkType: number, caplen = pkt.length): Decoded {
  const buf = new Uint8Array(pkt.length + 64).fill(0xaa);
  buf.set(pkt, 16);
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const ok = decodePacket(buf, 16, caplen, linkType, p, counters);
  if (ok) p.payloadOffset -= 16; // report offsets relative to the packet
  return { ok, p, counters };
}

function checkV4Tcp(tt: Test, d: Decoded, vlan = -1): void {
  tt.ok(d.ok, 'decoded');
  tt.equal(d.p.ipVersion, 4);
  tt.equal(formatAddress(d.p.src), '192.168.0.1');
  tt.equal(formatAddress(d.p.dst), '192.168.0.2');
  tt.equal(d.p.proto, IPPROTO.TCP);
  tt.equal(d.p.srcPort, 12345);
  tt.equal(d.p.dstPort, 80);
  tt.equal(d.p.tcpSeq, 0x01020304);
  tt.equal(d.p.tcpAck, 0x0a0b0c0d);
  tt.equal(d.p.tcpFlags, TCP_FLAG.PSH | TCP_FLAG.ACK);
  tt.equal(d.p.payloadLength, 4, 'payload is the 4 bytes after the TCP header');
  tt.equal(d.p.payloadLengthOnWire, 4);
  tt.equal(d.p.vlan, vlan, 'vlan');
  tt.equal(d.p.encap, 0, 'not from a tunnel');
  tt.equal(d.p.encapDepth, 0);
  tt.same(d.counters.toObject(), {}, 'no anomaly');
}

function checkV6Udp(tt: Test, d: Decoded): void {
  tt.ok(d.ok, 'decoded');
  tt.equal(d.p.ipVersion, 6);
  tt.equal(formatAddress(d.p.src), '2001:db8::1');
  tt.equal(formatAddress(d.p.dst), '2001:db8::2');
  tt.equal(d.p.proto, IPPROTO.UDP);
  tt.equal(d.p.srcPort, 54321);
  tt.equal(d.p.dstPort, 53);
  tt.equal(d.p.payloadLength, 4);
}

/** The payload the decoder points at, read back from the fixture. */
function payloadOf(pkt: Uint8Array, d: Decoded): string {
  return Buffer.from(pkt.subarray(d.p.payloadOffset, d.p.payloadOffset + d.p.payloadLength))
    .toString('hex');
}

// --- one fixture per link type ------------------------------------------------------------

const LINK_FIXTURES: { name: string; dlt: number; pkt: Uint8Array; v6?: boolean }[] = [
  // Ethernet II + IPv4 + 2 bytes of padding and a 4-byte trailer that must not count.
  { name: 'ethernet ipv4', dlt: DLT.EN10MB,
    pkt: cat(ETH_MACS, hex('0800'), IPV4_TCP, hex('0000 f5f5f5f5')) },
  { name: 'ethernet ipv6', dlt: DLT.EN10MB, pkt: cat(ETH_MACS, hex('86dd'), IPV6_UDP), v6: true },
  // Linux SLL: packet type 0 (to us), ARPHRD 1, addr len 6, addr (8, padded), proto 0800.
  { name: 'linux sll', dlt: DLT.LINUX_SLL,
    pkt: cat(hex('0000 0001 0006 001122334455 0000 0800'), IPV4_TCP) },
  // Linux SLL2: proto 86dd, reserved, ifindex 2, ARPHRD 1, pkttype 4 (outgoing), len 6, addr.
  { name: 'linux sll2', dlt: DLT.LINUX_SLL2,
    pkt: cat(hex('86dd 0000 00000002 0001 04 06 001122334455 0000'), IPV6_UDP), v6: true },
  { name: 'raw ip (12)', dlt: DLT.RAW, pkt: IPV4_TCP },
  { name: 'raw ip (14, OpenBSD)', dlt: DLT.RAW_OPENBSD, pkt: IPV6_UDP, v6: true },
  { name: 'raw ip (LINKTYPE 101)', dlt: DLT.LINKTYPE_RAW, pkt: IPV4_TCP },
  { name: 'ipv4 (228)', dlt: DLT.IPV4, pkt: IPV4_TCP },
  { name: 'ipv6 (229)', dlt: DLT.IPV6, pkt: IPV6_UDP, v6: true },
  // BSD NULL, family 2 written little-endian by an x86 host.
  { name: 'null le', dlt: DLT.NULL, pkt: cat(hex('02000000'), IPV4_TCP) },
  // BSD NULL written by a big-endian host; family 30 = Darwin AF_INET6.
  { name: 'null be darwin v6', dlt: DLT.NULL, pkt: cat(hex('0000001e'), IPV6_UDP), v6: true },
  { name: 'null le freebsd v6', dlt: DLT.NULL, pkt: cat(hex('1c000000'), IPV6_UDP), v6: true },
  { name: 'null le netbsd v6', dlt: DLT.NULL, pkt: cat(hex('18000000'), IPV6_UDP), v6: true },
  // OpenBSD LOOP: always network byte order.
  { name: 'loop', dlt: DLT.LOOP, pkt: cat(hex('00000002'), IPV4_TCP) },
  // PPP in HDLC-like framing: address ff, control 03, protocol 0021.
  { name: 'ppp ff03', dlt: DLT.PPP, pkt: cat(hex('ff03 0021'), IPV4_TCP) },
  { name: 'ppp no ff03', dlt: DLT.PPP, pkt: cat(hex('0057'), IPV6_UDP), v6: true },
  // Protocol-field compression: the single odd byte 0x21.
  { name: 'ppp pfc', dlt: DLT.PPP, pkt: cat(hex('ff03 21'), IPV4_TCP) },
  { name: 'ppp serial', dlt: DLT.PPP_SERIAL, pkt: cat(hex('ff03 0021'), IPV4_TCP) },
  // Cisco HDLC: address 0f, control 00, EtherType 0800.
  { name: 'cisco hdlc', dlt: DLT.C_HDLC, pkt: cat(hex('0f00 0800'), IPV4_TCP) },
  // PPPoE without Ethernet: ver/type 11, code 00, session 0001, length 002e, PPP 0021.
  { name: 'ppp ether', dlt: DLT.PPP_ETHER, pkt: cat(hex('1100 0001 002e 0021'), IPV4_TCP) },
];

t.test('every link type decodes its fixture', async (t) => {
  for (const f of LINK_FIXTURES) {
    t.test(f.name, async (tt) => {
      const d = decode(f.pkt, f.dlt);
      if (f.v6) checkV6Udp(tt, d);
      else checkV4Tcp(tt, d);
      tt.equal(payloadOf(f.pkt, d), f.v6 ? 'deadbeef' : '47455420', 'payload bytes');
    });
  }
});

t.test('802.1Q, QinQ, PPPoE in VLAN, MPLS', async (t) => {
  // 802.1Q TCI 0x2064: priority 1, VLAN 100; inner EtherType 0800.
  checkV4Tcp(t, decode(cat(ETH_MACS, hex('8100 2064 0800'), IPV4_TCP), DLT.EN10MB), 100);
  // 802.1ad outer VLAN 200, then 802.1Q VLAN 100: the outermost id is kept.
  const qinq = decode(cat(ETH_MACS, hex('88a8 00c8 8100 0064 86dd'), IPV6_UDP), DLT.EN10MB);
  checkV6Udp(t, qinq);
  t.equal(qinq.p.vlan, 200, 'outermost vlan');
  // Legacy 0x9100 QinQ outer tag, VLAN 7.
  checkV4Tcp(t, decode(cat(ETH_MACS, hex('9100 0007 8100 0064 0800'), IPV4_TCP), DLT.EN10MB), 7);
  // As in the nDPI dns.pcap: VLAN 421, VLAN 785, PPPoE session 556a, length 46, PPP 0021.
  const pppoe = cat(ETH_MACS, hex('8100 01a5 8100 0311 8864 11 00 556a 002e 0021'), IPV4_TCP);
  checkV4Tcp(t, decode(pppoe, DLT.EN10MB), 421);
  // MPLS: label 16 (S=0, TTL 255), label 29 (S=1): 00010 0ff, 0001d 1ff.
  checkV4Tcp(t, decode(cat(ETH_MACS, hex('8847 000100ff 0001d1ff'), IPV4_TCP), DLT.EN10MB));
  // SLL carrying a VLAN tag that libpcap re-inserted.
  const sllVlan = cat(hex('0000 0001 0006 001122334455 0000 8100 0005 0800'), IPV4_TCP);
  checkV4Tcp(t, decode(sllVlan, DLT.LINUX_SLL), 5);
});

t.test('IPv4 details', async (t) => {
  // IHL 6 with one option word (four NOPs); total length 48.
  const withOptions = hex(`46 00 0030 1234 0000 40 06 0000 c0a80001 c0a80002 01010101
    3039 0050 01020304 0a0b0c0d 50 18 ffff 0000 0000 47455420`);
  checkV4Tcp(t, decode(withOptions, DLT.RAW));

  // Snaplen cut: total length claims 1000 bytes, 44 captured.
  const cut = IPV4_TCP.slice();
  cut[2] = 0x03; cut[3] = 0xe8;
  const d = decode(cut, DLT.RAW);
  t.ok(d.ok);
  t.equal(d.p.payloadLength, 4, 'captured payload');
  t.equal(d.p.payloadLengthOnWire, 1000 - 40, 'claimed payload');

  // Total length 0 (segmentation offload): the capture length is used and counted.
  const tso = IPV4_TCP.slice();
  tso[2] = 0; tso[3] = 0;
  const z = decode(tso, DLT.RAW);
  t.ok(z.ok);
  t.equal(z.p.payloadLength, 4);
  t.same(z.counters.toObject(), { ip_length_zero: 1 });

  // ICMP echo request (type 8, code 0, checksum, id 1, seq 1) + "abcd"; total length 32.
  const icmp = hex(`45 00 0020 0001 0000 40 01 0000 0a000001 0a000002
    08 00 f7ff 0001 0001 61626364`);
  const i = decode(icmp, DLT.RAW);
  t.ok(i.ok);
  t.equal(i.p.proto, IPPROTO.ICMP);
  t.equal(i.p.srcPort, 8, 'type in srcPort');
  t.equal(i.p.dstPort, 0, 'code in dstPort');
  t.equal(payloadOf(icmp, i), '61626364');

  // GRE (47) whose inner IPv4 header is cut at 8 bytes: the tunnel is not removed
  // (decode-encap.test.ts), so the outer flow stays, ports 0, payload = GRE header onward.
  const gre = hex('45 00 0020 0001 0000 40 2f 0000 0a000001 0a000002 0000 0800 45000000 00000000');
  const g = decode(gre, DLT.RAW);
  t.ok(g.ok);
  t.equal(g.p.proto, 47);
  t.equal(g.p.srcPort, 0);
  t.equal(g.p.payloadLength, 12);
  t.equal(g.p.encap, 0);
  t.same(g.counters.toObject(), { bad_inner_packet: 1 });

  // UDP length 10 inside a 12-byte IP payload: the UDP length wins (2 payload bytes).
  const udp = hex('45 00 0020 0001 0000 40 11 0000 0a000001 0a000002 0035 0035 000a 0000 aabbccdd');
  const u = decode(udp, DLT.RAW);
  t.equal(u.p.payloadLength, 2);
  t.equal(u.p.payloadLengthOnWire, 2);
  // UDP length 200 > IP payload: counted, the IP length wins.
  const badUdp = udp.slice();
  badUdp[24] = 0; badUdp[25] = 200;
  const bu = decode(badUdp, DLT.RAW);
  t.ok(bu.ok);
  t.equal(bu.p.payloadLength, 4);
  t.same(bu.counters.toObject(), { bad_udp_length: 1 });
});

t.test('IPv4 fragments', async (t) => {
  // First fragment: MF set (2000), offset 0: ports decoded, fragment flagged.
  const first = IPV4_TCP.slice();
  first[6] = 0x20; first[7] = 0x00;
  const f = decode(first, DLT.RAW);
  t.ok(f.ok);
  t.ok(f.p.fragment);
  t.equal(f.p.dstPort, 80);
  t.same(f.counters.toObject(), { ipv4_fragment: 1 });
  // Later fragment: offset 0x00b9 (1480 bytes): no transport header, proto kept, ports 0.
  const later = IPV4_TCP.slice();
  later[6] = 0x00; later[7] = 0xb9;
  const l = decode(later, DLT.RAW);
  t.ok(l.ok);
  t.ok(l.p.fragment);
  t.equal(l.p.proto, IPPROTO.TCP);
  t.equal(l.p.srcPort, 0);
  t.equal(l.p.payloadLength, 24, 'whole IP payload');
  // Tiny first fragment (RFC 1858): only 8 bytes of TCP header. Kept, without ports.
  const tiny = hex('45 00 001c 0001 2000 40 06 0000 0a000001 0a000002 3039 0050 01020304');
  const ti = decode(tiny, DLT.RAW);
  t.ok(ti.ok);
  t.equal(ti.p.srcPort, 0);
  t.equal(ti.p.payloadLength, 8);
  t.same(ti.counters.toObject(), { ipv4_fragment: 1 });
});

t.test('IPv6 extension headers', async (t) => {
  const addrs = '20010db8000000000000000000000001 20010db8000000000000000000000002';
  const udp = 'd431 0035 000c 0000 deadbeef';
  // Hop-by-hop (next 3c, len 0, PadN 01 04 00000000), destination options (next 11,
  // len 0, PadN), then UDP. Payload length 8 + 8 + 12 = 28 (0x1c).
  const chain = hex(`60000000 001c 00 40 ${addrs} 3c 00 0104 00000000 11 00 0104 00000000 ${udp}`);
  checkV6Udp(t, decode(chain, DLT.RAW));
  // AH (RFC 4302): next 11, payload len 4 -> (4+2)*4 = 24 bytes. Payload length 36 (0x24).
  const ah = hex(`60000000 0024 33 40 ${addrs} 11 04 0000 00000001 00000001
    000000000000000000000000 ${udp}`);
  checkV6Udp(t, decode(ah, DLT.RAW));
  // Fragment header, offset 0, M=1, id 0x11223344: ports decoded, fragment counted.
  const frag0 = hex(`60000000 0014 2c 40 ${addrs} 11 00 0001 11223344 ${udp}`);
  const f0 = decode(frag0, DLT.RAW);
  checkV6Udp(t, f0);
  t.ok(f0.p.fragment);
  t.same(f0.counters.toObject(), { ipv6_fragment: 1 });
  // Fragment offset 0x0170 >> 3 = 46 units: no transport header.
  const frag1 = hex(`60000000 0014 2c 40 ${addrs} 11 00 0170 11223344 ${udp}`);
  const f1 = decode(frag1, DLT.RAW);
  t.ok(f1.ok);
  t.equal(f1.p.proto, IPPROTO.UDP);
  t.equal(f1.p.srcPort, 0);
  t.equal(f1.p.payloadLength, 12);
  // ICMPv6 echo request 80 00, checksum, id, seq.
  const icmp6 = hex(`60000000 000c 3a 40 ${addrs} 80 00 0000 0001 0002 61626364`);
  const i6 = decode(icmp6, DLT.RAW);
  t.equal(i6.p.proto, IPPROTO.ICMPV6);
  t.equal(i6.p.srcPort, 128);
  // "No next header" (59) after the fixed header.
  const none = decode(hex(`60000000 0000 3b 40 ${addrs}`), DLT.RAW);
  t.ok(none.ok);
  t.equal(none.p.proto, 59);
});

/** Expects decoding to fail with exactly this one anomaly. */
function rejects(t: Test, pkt: Uint8Array, dlt: number, anomaly: string, caplen?: number) {
  const d = decode(pkt, dlt, caplen);
  t.notOk(d.ok, `${anomaly}: rejected`);
  t.same(d.counters.toObject(), { [anomaly]: 1 }, `${anomaly}: counted once`);
  t.equal(d.p.ipVersion, 0);
}

t.test('hostile and unusable packets', async (t) => {
  const addrs = '20010db8000000000000000000000001 20010db8000000000000000000000002';
  rejects(t, IPV4_TCP, 147, 'unknown_linktype');
  rejects(t, cat(ETH_MACS, hex('08')), DLT.EN10MB, 'truncated_link');
  rejects(t, cat(ETH_MACS, hex('0806'), new Uint8Array(28)), DLT.EN10MB, 'non_ip');
  rejects(t, cat(ETH_MACS, hex('0026 aaaa03'), new Uint8Array(40)), DLT.EN10MB, 'non_ip');
  rejects(t, cat(ETH_MACS, hex('1234'), IPV4_TCP), DLT.EN10MB, 'unknown_ethertype');
  const fiveTags = hex('8100 0001 8100 0002 8100 0003 8100 0004 8100 0005 0800');
  rejects(t, cat(ETH_MACS, fiveTags, IPV4_TCP), DLT.EN10MB, 'vlan_too_deep');
  rejects(t, cat(ETH_MACS, hex('8847'), hex('000100ff'.repeat(9)), IPV4_TCP), DLT.EN10MB,
    'mpls_too_deep');
  rejects(t, cat(ETH_MACS, hex('8864 1109 556a 002e 0021'), IPV4_TCP), DLT.EN10MB,
    'bad_pppoe_header');
  rejects(t, cat(hex('ff03 c021'), new Uint8Array(20)), DLT.PPP, 'non_ip'); // LCP
  rejects(t, cat(hex('07000000'), IPV4_TCP), DLT.NULL, 'non_ip');
  rejects(t, cat(ETH_MACS, hex('0800'), IPV6_UDP), DLT.EN10MB, 'bad_ip_version');
  rejects(t, IPV6_UDP, DLT.IPV4, 'bad_ip_version');
  rejects(t, hex('5500000000'), DLT.RAW, 'bad_ip_version');
  // IHL 4 (< 5) and IHL 15 (60 bytes) past the capture.
  const ihl4 = IPV4_TCP.slice(); ihl4[0] = 0x44;
  rejects(t, ihl4, DLT.RAW, 'bad_ipv4_header');
  const ihl15 = IPV4_TCP.slice(); ihl15[0] = 0x4f;
  rejects(t, ihl15.subarray(0, 40), DLT.RAW, 'truncated_ipv4');
  const shortTotal = IPV4_TCP.slice(); shortTotal[3] = 16;
  rejects(t, shortTotal, DLT.RAW, 'bad_ipv4_header');
  rejects(t, IPV4_TCP, DLT.RAW, 'truncated_ipv4', 19);
  rejects(t, IPV6_UDP, DLT.RAW, 'truncated_ipv6', 39);
  // TCP data offset 4 (< 5), 15 (past the IP payload), 8 (past the capture only).
  const doff4 = IPV4_TCP.slice(); doff4[32] = 0x40;
  rejects(t, doff4, DLT.RAW, 'bad_tcp_offset');
  const doff15 = IPV4_TCP.slice(); doff15[32] = 0xf0;
  rejects(t, doff15, DLT.RAW, 'bad_tcp_offset');
  const doff8 = IPV4_TCP.slice(); doff8[32] = 0x80; doff8[3] = 0x40; // total 64
  rejects(t, doff8, DLT.RAW, 'truncated_tcp');
  rejects(t, IPV4_TCP, DLT.RAW, 'truncated_tcp', 30);
  rejects(t, IPV6_UDP, DLT.RAW, 'truncated_udp', 44);
  rejects(t, hex('45 00 0020 0001 0000 40 01 0000 0a000001 0a000002 0800f7ff'), DLT.RAW,
    'truncated_icmp');
  // IPv6 chain of 9 destination-options headers (next 3c each): over the limit of 8.
  const deep = hex(`60000000 0048 3c 40 ${addrs} ${'3c00 010400000000'.repeat(9)}`);
  rejects(t, deep, DLT.RAW, 'ipv6_ext_too_deep');
  // A hop-by-hop header pointing at itself, repeated to the end: bounded by the same cap.
  const loop = hex(`60000000 0050 00 40 ${addrs} ${'0000 010400000000'.repeat(10)}`);
  rejects(t, loop, DLT.RAW, 'ipv6_ext_too_deep');
  // Destination options claiming 255 * 8 + 8 bytes: past the payload length.
  rejects(t, hex(`60000000 0008 3c 40 ${addrs} 11ff 010400000000`), DLT.RAW, 'bad_ipv6_ext');
  // Payload length 100 but the capture ends inside the extension header.
  rejects(t, hex(`60000000 0064 3c 40 ${addrs} 1100 0104`), DLT.RAW, 'truncated_ipv6_ext');
  // Caller mistakes: negative offset, zero caplen.
  const p = newDecodedPacket();
  const c = new DecodeCounters();
  t.notOk(decodePacket(IPV4_TCP, -1, 10, DLT.RAW, p, c));
  t.notOk(decodePacket(IPV4_TCP, 0, 0, DLT.RAW, p, c));
  t.same(c.toObject(), { truncated_link: 2 });
  // caplen past the buffer end is clamped to the buffer.
  t.ok(decodePacket(IPV4_TCP, 0, 4096, DLT.RAW, p, c));
  t.equal(p.payloadLength, 4);
});


t.test('every prefix of every fixture is safe', async (t) => {
  let checked = 0;
  for (const f of LINK_FIXTURES) {
    const buf = new Uint8Array(f.pkt.length + 32).fill(0x45); // garbage that looks like IP
    buf.set(f.pkt, 8);
    for (let caplen = 0; caplen <= f.pkt.length; caplen++) {
      decodeChecked(t, buf, 8, caplen, f.dlt, `${f.name} prefix ${caplen}`);
      checked++;
    }
  }
  t.ok(checked > 500, `${checked} prefixes checked`);
});

t.test('random bytes never throw, for every link type', async (t) => {
  const next = rng(0x7e57);
  const links = [...new Set(Object.values(DLT))];
  const buf = new Uint8Array(256);
  let decoded = 0;
  for (const dlt of links) {
    for (let n = 0; n < 20000; n++) {
      const len = next() % 200;
      for (let i = 0; i < len + 16; i++) buf[i] = next() & 0xff;
      // Bias the first bytes toward valid headers so the deeper layers get exercised too.
      if (n % 2 === 0) buf[8] = n % 4 === 0 ? 0x45 : 0x60;
      if (decodeChecked(t, buf, 4, len, dlt, `dlt ${dlt} case ${n}`) !== null) decoded++;
    }
  }
  t.ok(decoded > 0, `${decoded} random packets decoded without breaking invariants`);
});

t.test('counters', async (t) => {
  const c = new DecodeCounters();
  t.equal(c.counts.length, DECODE_ANOMALIES.length);
  c.add(DECODE_ANOMALIES.indexOf('non_ip'));
  c.merge({ non_ip: 2, truncated_tcp: 1, not_a_name: 5, toString: 3, bad_tcp_offset: -1 });
  t.same(c.toObject(), { non_ip: 3, truncated_tcp: 1 });
  t.equal(new Set(DECODE_ANOMALIES).size, DECODE_ANOMALIES.length, 'names unique');
  for (const name of DECODE_ANOMALIES) t.match(name, /^[a-z0-9]+(_[a-z0-9]+)*$/, name);
  c.reset();
  t.same(c.toObject(), {});
});
