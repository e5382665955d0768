// The decoder on every public corpus capture, checked packet by packet against tcpdump as an
// independent reference: the same packets must be IP, with the same addresses and ports
// (of the innermost packet tcpdump prints, for tunnels), and no packet may throw. Per
// MANIFEST link type, the decoded IP count must equal tcpdump's.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PcapHandle, forEachRecord } from '../src/capture/pcap';
import { DLT, DecodeCounters, ENCAP, ENCAP_NAMES, decodePacket } from '../src/decode/decode';
import { formatAddress } from '../src/decode/flow-key';
import { IPPROTO, TCP_FLAG, newDecodedPacket } from '../src/decode/packet';

function repoRoot(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}

const CORPUS = path.resolve(repoRoot(__dirname), '../shared/corpus/public');

/** MANIFEST link_type -> the DLT libpcap reports for it. */
const MANIFEST_DLT: Record<string, readonly number[]> = {
  'ether': [DLT.EN10MB],
  'ether+802.1Q': [DLT.EN10MB],
  'linux-sll': [DLT.LINUX_SLL],
  'linux-sll2': [DLT.LINUX_SLL2],
  'null': [DLT.NULL],
  'loop': [DLT.LOOP],
  'ppp': [DLT.PPP],
  'rawip': [DLT.RAW, DLT.RAW_OPENBSD, DLT.LINKTYPE_RAW],
};

/**
 * One tcpdump -nn line per packet. An IP packet's line starts, after the optional SLL2
 * interface/direction, MPLS labels and PPPoE session, with "IP" or "IP6" and the outer
 * "src > dst: " (ports appended with a dot for TCP/UDP).
 */
const TCPDUMP_IP_LINE = new RegExp(
  '^(?:\\S+ +(?:In|Out|M|B|P) +)?(?:MPLS \\([^)]*\\),? )*(?:PPPoE +\\[ses 0x[0-9a-f]+\\] +)?' +
  'IP6? (?:truncated-ip - \\d+ bytes missing! )?(\\S+) > (\\S+): ');

/**
 * What tcpdump prints after "src > dst: " when it decodes a tunnel: the inner "IP"/"IP6"
 * line straight away for IP-in-IP and 6in4, or after the GRE or Geneve summary, which holds
 * no colon before its own ": " (checked on the corpus captures, tcpdump 4.99). The decoder
 * reports the innermost packet, so the innermost endpoints tcpdump printed are compared.
 */
const TCPDUMP_INNER = new RegExp(
  '^(?:GREv[01], [^:]*: |Geneve, [^:]*: )?' +
  'IP6? (?:truncated-ip - \\d+ bytes missing! )?(\\S+) > (\\S+): ');

/**
 * Captures whose tunnels tcpdump does not open, so its endpoints are the outer ones: checked
 * by hand below instead of packet by packet.
 */
const TCPDUMP_STOPS_EARLY: Record<string, string> = {
  // tcpdump 4.99 prints "gre-proto-0x88be": it has no ERSPAN decoder.
  'ja4__gre-erspan-vxlan.pcap': 'ERSPAN',
  // tcpdump 4.99 prints these as plain "UDP, length n": it opens none of the three.
  'ndpi__ipv6_in_gtp.pcap': 'GTP-U',
  'zeek__tunnels__Teredo.pcap': 'Teredo',
  'zeek__tunnels__ayiya3.pcap': 'AYIYA',
};

function tcpdumpEndpoints(file: string): (string | null)[] {
  const text = execFileSync('tcpdump', ['-nn', '-r', file], {
    stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024,
  }).toString();
  return text.split('\n')
    .filter((line) => /^\d\d:\d\d:\d\d\.\d+ /.test(line)) // continuation lines have none
    .map((line) => {
      let m = TCPDUMP_IP_LINE.exec(line.replace(/^\S+ /, ''));
      if (!m) return null;
      let endpoints = `${m[1]} > ${m[2]}`;
      for (let rest = m.input.slice(m[0].length); (m = TCPDUMP_INNER.exec(rest)) !== null;) {
        endpoints = `${m[1]} > ${m[2]}`;
        rest = rest.slice(m[0].length);
      }
      return endpoints;
    });
}

/** What a decoded packet says beyond its endpoints: how it was carried, and its payload. */
interface Seen {
  encap: string;
  depth: number;
  vlan: number;
  tcpFlags: number;
  /** The first payload bytes as latin1 text. */
  text: string;
}

interface FileResult {
  linkType: number;
  endpoints: (string | null)[];
  /** Per packet, like endpoints: null where the packet did not decode. */
  seen: (Seen | null)[];
  /** Packets the decoder took out of a tunnel. */
  encapsulated: number;
  threw: number;
  anomalies: Record<string, number>;
}

/** Our view in tcpdump's words: ports only where tcpdump prints them on the outer header. */
function decodeFile(file: string): FileResult {
  const handle = PcapHandle.openFile(file);
  const linkType = handle.datalink().type;
  const buf = new Uint8Array(8 * 1024 * 1024);
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const endpoints: (string | null)[] = [];
  const seen: (Seen | null)[] = [];
  let encapsulated = 0;
  let threw = 0;
  try {
    for (;;) {
      const batch = handle.readBatch(buf, 100_000);
      forEachRecord(buf, batch.bytes, (offset, caplen) => {
        let ok = false;
        try {
          ok = decodePacket(buf, offset, caplen, linkType, p, counters);
        } catch {
          threw++;
        }
        if (!ok) {
          endpoints.push(null);
          seen.push(null);
          return;
        }
        if (p.encap !== ENCAP.NONE) encapsulated++;
        const text = Buffer.from(buf.subarray(p.payloadOffset,
          p.payloadOffset + Math.min(p.payloadLength, 40))).toString('latin1');
        seen.push({ encap: ENCAP_NAMES[p.encap], depth: p.encapDepth, vlan: p.vlan,
          tcpFlags: p.tcpFlags, text });
        // tcpdump prints ports for TCP/UDP, but not on IPv6 fragments (it shows "frag" and
        // the ports after) nor on IPv4 fragments that have none.
        const ports = (p.proto === IPPROTO.TCP || p.proto === IPPROTO.UDP) &&
          !(p.fragment && (p.ipVersion === 6 || (p.srcPort === 0 && p.dstPort === 0)));
        const src = formatAddress(p.src) + (ports ? `.${p.srcPort}` : '');
        const dst = formatAddress(p.dst) + (ports ? `.${p.dstPort}` : '');
        endpoints.push(`${src} > ${dst}`);
      });
      if (batch.eof) break;
    }
  } finally {
    handle.close();
  }
  return { linkType, endpoints, seen, encapsulated, threw, anomalies: counters.toObject() };
}

function readManifest(): { file: string; linkType: string }[] {
  const lines = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const header = lines[0].split('\t');
  const fileCol = header.indexOf('file');
  const linkCol = header.indexOf('link_type');
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    return { file: cells[fileCol], linkType: cells[linkCol] };
  });
}

function haveTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = !fs.existsSync(path.join(CORPUS, 'MANIFEST.tsv'))
  ? `no corpus at ${CORPUS}` : !haveTcpdump() ? 'tcpdump is not installed' : false;

t.test('every corpus capture decodes like tcpdump sees it', { skip }, async (t) => {
  const manifest = readManifest();
  const perLinkType = new Map<string, { files: number; ours: number; tcpdump: number }>();
  for (const row of manifest) {
    const file = path.join(CORPUS, row.file);
    if (!fs.existsSync(file)) {
      t.fail(`${row.file}: listed in MANIFEST.tsv but missing`);
      continue;
    }
    const ours = decodeFile(file);
    const reference = tcpdumpEndpoints(file);
    t.equal(ours.threw, 0, `${row.file}: no packet threw`);
    const dlts = MANIFEST_DLT[row.linkType];
    if (dlts === undefined) t.fail(`${row.file}: MANIFEST link type ${row.linkType} not mapped`);
    else t.ok(dlts.includes(ours.linkType), `${row.file}: DLT ${ours.linkType} is ${row.linkType}`);

    t.equal(ours.endpoints.length, reference.length, `${row.file}: packet count = tcpdump`);
    const mismatches: string[] = [];
    const stops = TCPDUMP_STOPS_EARLY[row.file];
    if (stops !== undefined) {
      t.ok(ours.encapsulated > 0, `${row.file}: tcpdump stops at ${stops}; checked by hand`);
    }
    const compared = stops === undefined ? Math.min(ours.endpoints.length, reference.length) : 0;
    for (let i = 0; i < compared; i++) {
      if (ours.endpoints[i] !== reference[i]) {
        mismatches.push(`#${i}: ours ${ours.endpoints[i]}, tcpdump ${reference[i]}`);
      }
    }
    t.same(mismatches.slice(0, 5), [], `${row.file}: every packet agrees with tcpdump`);

    const sums = perLinkType.get(row.linkType) ?? { files: 0, ours: 0, tcpdump: 0 };
    sums.files++;
    sums.ours += ours.endpoints.filter((e) => e !== null).length;
    sums.tcpdump += reference.filter((e) => e !== null).length;
    perLinkType.set(row.linkType, sums);
  }

  for (const [linkType, sums] of perLinkType) {
    t.equal(sums.ours, sums.tcpdump,
      `${linkType}: ${sums.files} captures, ${sums.ours} IP packets decoded = tcpdump`);
  }
  // The corpus must keep exercising the link types the decoder claims to handle.
  for (const needed of ['ether', 'ether+802.1Q', 'linux-sll', 'linux-sll2', 'null', 'ppp',
    'rawip']) {
    t.ok((perLinkType.get(needed)?.tcpdump ?? 0) > 0, `corpus has IP packets over ${needed}`);
  }
});

t.test('known captures: encapsulations and anomalies', { skip }, async (t) => {
  // PPPoE session inside two 802.1Q tags (outer VLAN 421): all 5 packets are IP.
  const pppoe = decodeFile(path.join(CORPUS, 'ndpi__dns.pcap'));
  t.equal(pppoe.endpoints.filter((e) => e !== null).length, 5, 'dns.pcap: 5 IP packets');
  t.equal(pppoe.endpoints[4], '82.178.158.181.53 > 82.178.113.245.47255', 'PPPoE-in-VLAN DNS');

  // IPv6 fragments are flagged and counted, not dropped.
  const frag = decodeFile(path.join(CORPUS, 'zeek__ipv6-fragmented-dns.pcap'));
  t.ok((frag.anomalies.ipv6_fragment ?? 0) > 0, 'ipv6_fragment counted');
  t.equal(frag.endpoints.filter((e) => e === null).length, 0, 'no fragment dropped');

  // MPLS-labelled telnet with an F5 Ethernet trailer: decoded through the label stack.
  const mpls = decodeFile(path.join(CORPUS, 'zeek__mixed-vlan-mpls.pcap'));
  t.equal(mpls.endpoints[0], '10.1.2.1.11001 > 10.34.0.1.23', 'MPLS packet decoded');
});

t.test('tunnels: packets are keyed on their innermost flow', { skip }, async (t) => {
  const layers = (r: FileResult) => new Set(r.seen.map((s) => s && `${s.encap}/${s.depth}`));

  // IPv6 in IPv4 (protocol 41) carrying ICMPv6, DNS and TLS: every packet is unwrapped.
  const sixIn4 = decodeFile(path.join(CORPUS, 'ndpi__6in4tunnel.pcap'));
  t.equal(sixIn4.endpoints.length, 127);
  t.same(layers(sixIn4), new Set(['6in4/1']), '6in4tunnel.pcap: all 127 are 6in4');
  t.same(sixIn4.anomalies, {});
  t.equal(sixIn4.endpoints[0], '2001:470:1f17:13f:3e97:eff:fe73:4dec > 2604:a880:1:20::224:b001');
  const syn = sixIn4.endpoints.findIndex((e, i) => e?.endsWith('.443') &&
    sixIn4.seen[i]?.tcpFlags === TCP_FLAG.SYN);
  t.equal(sixIn4.endpoints[syn],
    '2001:470:1f17:13f:3e97:eff:fe73:4dec.53234 > 2a03:2880:1010:6f03:face:b00c:0:2.443',
    '6in4tunnel.pcap: TLS keyed on the inner IPv6 endpoints');

  // GENEVE (UDP 6081, one 8-byte option on one side) carrying ICMP and SSH between 30.0.0.x.
  const geneve = decodeFile(path.join(CORPUS, 'ja4__tcpdump-geneve.pcap'));
  t.equal(geneve.endpoints.length, 39);
  t.same(layers(geneve), new Set(['geneve/1']), 'tcpdump-geneve.pcap: all are GENEVE');
  t.same(geneve.anomalies, {});
  t.equal(geneve.endpoints[0], '30.0.0.1 > 30.0.0.2', 'ICMP echo request inside');
  const tcp = new Set(geneve.endpoints.filter((e) => e?.includes('.22')));
  t.same([...tcp].sort(), ['30.0.0.1.22 > 30.0.0.2.51225', '30.0.0.2.51225 > 30.0.0.1.22'],
    'one SSH connection, 30.0.0.2 -> 30.0.0.1:22');
  const texts = geneve.seen.map((s) => s?.text ?? '');
  t.ok(texts.some((x) => x.startsWith('SSH-2.0-OpenSSH_5.9p1')), 'server banner');
  t.ok(texts.some((x) => x.startsWith('SSH-2.0-OpenSSH_5.3')), 'client banner');

  // Read from tcpdump -xx: outer 100.20.9.2 > 100.20.9.1 GRE (S, 88be) + ERSPAN II +
  // Ethernet + IPv4 172.16.27.131 > 172.16.27.121 UDP 4789 > 4790 VXLAN-GPE (I, P, next 3)
  // + Ethernet + IPv4 TCP: HTTP between 10.16.27.12 and 10.16.27.131.
  const erspan = decodeFile(path.join(CORPUS, 'ja4__gre-erspan-vxlan.pcap'));
  t.same(erspan.anomalies, {});
  t.same(layers(erspan), new Set(['vxlan-gpe/2']), 'gre-erspan-vxlan.pcap: two layers');
  const client = '10.16.27.12.65174 > 10.16.27.131.80';
  const server = '10.16.27.131.80 > 10.16.27.12.65174';
  t.same(erspan.endpoints, [client, server, client, client, server, client, server]);
  t.equal(erspan.seen[0]?.tcpFlags, TCP_FLAG.SYN);
  t.equal(erspan.seen[3]?.text, 'GET /Hello Arkime HTTP/1.0\r\n\r\n');
  t.match(erspan.seen[4]?.text, /^HTTP\/1\.1 200 OK/);

  // PPTP's enhanced GRE (version 1) carrying PPP, in VLAN 142.
  const sip = decodeFile(path.join(CORPUS, 'ndpi__gre.pcapng'));
  t.equal(sip.endpoints[0], '192.168.10.210.5060 > 192.168.103.40.5060');
  t.match(sip.seen[0], { encap: 'pptp', depth: 1, vlan: 142, text: /^SIP\/2\.0 100 Trying/ });
  // IPv6 > IPv4 (protocol 4) > PPTP GRE > PPP > IPv4 UDP DNS, in VLAN 100: two layers.
  const dns = decodeFile(path.join(CORPUS, 'zeek__tunnels__gre-pptp.pcap'));
  t.same(dns.anomalies, {});
  t.same(dns.endpoints, ['172.16.44.3.40768 > 8.8.8.8.53', '8.8.8.8.53 > 172.16.44.3.40768']);
  t.same(layers(dns), new Set(['pptp/2']));
  t.ok(dns.seen.every((s) => s?.vlan === 100), 'the capture\'s VLAN, not a tunnel\'s');

  // Read from tcpdump -xx: 802.1Q-tagged IPv4 UDP 2152 > 2152, GTP-U flags 30 type ff (a
  // G-PDU without options), then IPv6: UDP 49120 > 25658, and ESP (protocol 50).
  const gtp = decodeFile(path.join(CORPUS, 'ndpi__ipv6_in_gtp.pcap'));
  t.same(gtp.anomalies, {});
  t.same(layers(gtp), new Set(['gtp-u/1']), 'ipv6_in_gtp.pcap: both are GTP-U');
  t.same(gtp.endpoints, [
    '2607:fc20:4052:39e:490a:ea4d:17fe:e09c.49120 > fd00:976a:bc67:193e::7.25658',
    '2a01:4c8:c014:144e:1:2:945b:6761 > 2a01:4c8:f000:f49::4']);
  t.equal(gtp.seen[0]?.vlan, 3233, 'the outer 802.1Q tag (0ca1)');

  // Teredo between 192.168.2.16 and the servers 65.55.158.80/.81 (port 3544): router
  // solicitation and advertisement (origin indication), an echo request, and a bubble (next
  // header 59). gap: the HTTP that follows runs through a relay on port 32900, no 3544 on
  // either side, and stays on its outer UDP flow (encap-udp.ts).
  const teredo = decodeFile(path.join(CORPUS, 'zeek__tunnels__Teredo.pcap'));
  t.same(teredo.anomalies, {}, 'Teredo.pcap: the bubble is not ip_length_zero');
  t.equal(teredo.encapsulated, 4, 'Teredo.pcap: the four packets on port 3544');
  const inner = teredo.endpoints.filter((e, i) => teredo.seen[i]?.encap === 'teredo');
  t.same(inner, [
    'fe80::8000:ffff:ffff:fffd > ff02::2',
    'fe80::8000:f227:bec8:61af > fe80::8000:ffff:ffff:fffd',
    '2001:0:4137:9e50:8000:f12a:b9c8:2815 > 2001:4860:0:2001::68',
    'fe80::708d:fe83:4114:a512 > 2001:0:4137:9e50:8000:f12a:b9c8:2815']);
  t.ok(teredo.endpoints.includes('192.168.2.16.3797 > 83.170.1.38.32900'), 'relay: outer');

  // AYIYA (UDP 5072 both ways): header 41 52 11 29, a 16-byte identity and a 20-byte SHA-1
  // signature, then IPv6: neighbour discovery, ICMPv6 echo and HTTP to 2001:4860:b002::68.
  // The three 44-byte datagrams are heartbeats (opcode 0): kept as the outer flow.
  const ayiya = decodeFile(path.join(CORPUS, 'zeek__tunnels__ayiya3.pcap'));
  t.same(ayiya.anomalies, {});
  t.equal(ayiya.encapsulated, 32, 'ayiya3.pcap: 35 packets, 3 heartbeats');
  t.equal(ayiya.endpoints.filter((e) => e === '192.168.3.101.53859 > 216.14.98.22.5072').length,
    3);
  t.same(layers(ayiya), new Set(['ayiya/1', 'none/0']));
  const http = ayiya.endpoints.findIndex((e, i) => e?.endsWith('.80') &&
    ayiya.seen[i]?.text.startsWith('GET '));
  t.equal(ayiya.endpoints[http], '2001:4978:f:4c::2.53382 > 2001:4860:b002::68.80',
    'ayiya3.pcap: HTTP keyed on the inner IPv6 endpoints');
});
