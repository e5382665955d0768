// Protocol identification on real captures: the first payload of each direction of every
// TCP/UDP flow in the public corpus, through the real decoder. Known captures must name
// their protocol; across the whole corpus, the rarer protocols must appear only in the
// captures that really carry them (false positives on real traffic).

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PcapHandle, forEachRecord } from '../src/capture/pcap';
import { DecodeCounters, decodePacket } from '../src/decode/decode';
import { formatAddress } from '../src/decode/flow-key';
import { IPPROTO, newDecodedPacket } from '../src/decode/packet';
import { PROTO_NAMES, identifyPayload } from '../src/protocols/identify';

function repoRoot(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}

const CORPUS = path.resolve(repoRoot(__dirname), '../shared/corpus/public');

/**
 * "proto/transport/serverPort/c|s" for the first payload of each flow direction, where the
 * client is whoever sent the first packet seen (captures may start mid-flow).
 */
function identifyFile(file: string): string[] {
  const handle = PcapHandle.openFile(file);
  const linkType = handle.datalink().type;
  const buf = new Uint8Array(8 * 1024 * 1024);
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const flows = new Map<string, { client: string; serverPort: number; seen: Set<string> }>();
  const labels: string[] = [];
  try {
    for (;;) {
      const batch = handle.readBatch(buf, 100_000);
      forEachRecord(buf, batch.bytes, (offset, caplen) => {
        if (!decodePacket(buf, offset, caplen, linkType, p, counters)) return;
        if (p.proto !== IPPROTO.TCP && p.proto !== IPPROTO.UDP) return;
        if (p.fragment || p.payloadLength === 0) return;
        const src = `${formatAddress(p.src)}.${p.srcPort}`;
        const dst = `${formatAddress(p.dst)}.${p.dstPort}`;
        const key = `${p.proto} ${src < dst ? `${src} ${dst}` : `${dst} ${src}`}`;
        let flow = flows.get(key);
        if (flow === undefined) {
          flow = { client: src, serverPort: p.dstPort, seen: new Set() };
          flows.set(key, flow);
        }
        const fromClient = src === flow.client;
        const dir = fromClient ? 'c' : 's';
        if (flow.seen.has(dir)) return;
        flow.seen.add(dir);
        const code = identifyPayload(buf, p.payloadOffset, p.payloadLength, p.proto, fromClient);
        const transport = p.proto === IPPROTO.TCP ? 'tcp' : 'udp';
        labels.push(`${PROTO_NAMES[code]}/${transport}/${flow.serverPort}/${dir}`);
      });
      if (batch.eof) break;
    }
  } finally {
    handle.close();
  }
  return labels;
}

const skip = fs.existsSync(path.join(CORPUS, 'MANIFEST.tsv')) ? false : `no corpus at ${CORPUS}`;

t.test('known captures name their protocol', { skip }, async (t) => {
  const expected: [string, string[]][] = [
    ['ndpi__rdp.pcap', ['rdp/tcp/3389/c', 'rdp/tcp/3389/s']],
    ['zeek__rdp__rdp-to-ssl.pcap', ['rdp/tcp/3389/c', 'rdp/tcp/3389/s']],
    ['zeek__smb__smb311.pcap', ['smb/tcp/445/c', 'smb/tcp/445/s']],
    ['ndpi__smbv1.pcap', ['smb/tcp/445/c', 'smb/tcp/445/s']],
    ['ja4__socks4-https.pcap', ['socks4/tcp/9901/c']],
    ['zeek__socks.pcap', ['socks5/tcp/8124/c']],
    ['ja4__ssh.pcapng', ['ssh/tcp/22/c', 'ssh/tcp/22/s']],
    ['zeek__http__get-to-ssh-server.pcap', ['http/tcp/22/c', 'ssh/tcp/22/s']],
    ['suricata-verify__dns-tcp-www-google-com__dns.pcap', ['dns/tcp/53/c', 'dns/tcp/53/s']],
    ['ndpi__dns.pcap', ['dns/udp/53/c', 'dns/udp/53/s']],
    ['ndpi__http2.pcapng', ['http2/tcp/29518/c']],
    ['zeek__http-qinq-0.pcap', ['http/tcp/80/c', 'http/tcp/80/s']],
    ['ndpi__tls_port_80.pcapng', ['tls/tcp/80/c', 'tls/tcp/80/s']],
    ['zeek__tls__ml-dsa-44-cert.pcap', ['tls/tcp/443/c', 'tls/tcp/443/s']],
    ['zeek__quic__quicv2-http3-443.pcap', ['quic/udp/443/c']],
    ['ndpi__dlt_ppp.pcap', ['quic/udp/443/c']],
    ['zeek__quic__quicdoq.pcap', ['quic/udp/853/c']],
  ];
  for (const [file, labels] of expected) {
    const got = new Set(identifyFile(path.join(CORPUS, file)));
    for (const label of labels) t.ok(got.has(label), `${file}: ${label}`);
  }
});

t.test('rare protocols appear only where they are', { skip }, async (t) => {
  // Captures that really carry each protocol; anywhere else a match is a false positive.
  const homes: Record<string, RegExp> = {
    rdp: /rdp/,
    smb: /smb/,
    socks4: /socks/,
    socks5: /socks|shadowsocks|trojan|vmess/,
    // tcpdump-geneve carries an SSH session inside GENEVE, seen since decapsulation.
    ssh: /ssh|tcpdump-geneve/,
    http2: /http2|dns-over-http2/,
  };
  const files = fs.readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f));
  const strays: string[] = [];
  const totals: Record<string, number> = {};
  for (const file of files) {
    for (const label of identifyFile(path.join(CORPUS, file))) {
      const name = label.split('/')[0];
      totals[name] = (totals[name] ?? 0) + 1;
      const home = homes[name];
      if (home !== undefined && !home.test(file)) strays.push(`${file}: ${label}`);
    }
  }
  t.comment(`first payloads identified across ${files.length} captures: ${JSON.stringify(totals)}`);
  t.same(strays, [], 'no rare protocol outside its captures');
  for (const name of Object.keys(homes)) t.ok((totals[name] ?? 0) > 0, `${name} seen`);
});
