// The decoder on every public corpus capture, checked packet by packet against tcpdump as an
// independent reference: the same packets must be IP, with the same addresses and ports,
// and no packet may throw. Per MANIFEST link type, the decoded IP count must equal
// tcpdump's.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PcapHandle, forEachRecord } from '../src/capture/pcap';
import { DLT, DecodeCounters, decodePacket } from '../src/decode/decode';
import { formatAddress } from '../src/decode/flow-key';
import { IPPROTO, newDecodedPacket } from '../src/decode/packet';

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

function tcpdumpEndpoints(file: string): (string | null)[] {
  const text = execFileSync('tcpdump', ['-nn', '-r', file], {
    stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024,
  }).toString();
  return text.split('\n')
    .filter((line) => /^\d\d:\d\d:\d\d\.\d+ /.test(line)) // continuation lines have none
    .map((line) => {
      const m = TCPDUMP_IP_LINE.exec(line.replace(/^\S+ /, ''));
      return m ? `${m[1]} > ${m[2]}` : null;
    });
}

interface FileResult {
  linkType: number;
  endpoints: (string | null)[];
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
          return;
        }
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
  return { linkType, endpoints, threw, anomalies: counters.toObject() };
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
    for (let i = 0; i < Math.min(ours.endpoints.length, reference.length); i++) {
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
