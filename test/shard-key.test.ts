// The dispatcher's shard key against the flow table's hash, packet by packet, on every
// capture we have: for each packet the full decoder accepts, the key must equal flowHashOf
// of the decoded packet (else the two directions of a flow, or a flow's fragments, could
// reach different shards), and the fast path must have served the common case.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PcapHandle, forEachRecord } from '../src/capture/pcap';
import { DLT, DecodeCounters, decodePacket } from '../src/decode/decode';
import { newDecodedPacket } from '../src/decode/packet';
import { flowHashOf } from '../src/flow/flow-hash';
import { ShardKeyer } from '../src/pipeline/shard-key';

const ROOT = path.resolve(__dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/corpus/public');

function captures(): string[] {
  const own = fs.readdirSync(path.join(ROOT, 'pcaps')).filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => path.join(ROOT, 'pcaps', f));
  const corpus = fs.existsSync(CORPUS)
    ? fs.readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(CORPUS, f))
    : [];
  return [...own, ...corpus];
}

t.test('shard key equals the flow hash of every decodable packet', async (t) => {
  const keyer = new ShardKeyer();
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const buf = new Uint8Array(1 << 20);
  let packets = 0;
  let ethernetIp = 0;
  let mismatches = 0;
  const where: string[] = [];
  for (const file of captures()) {
    let h: PcapHandle;
    try {
      h = PcapHandle.openFile(file);
    } catch {
      continue; // a corpus file libpcap cannot open is the decode tests' business
    }
    const link = h.datalink().type;
    for (;;) {
      const r = h.readBatch(buf);
      forEachRecord(buf, r.bytes, (off, caplen) => {
        packets++;
        const key = keyer.key(buf, off, caplen, link);
        if (!decodePacket(buf, off, caplen, link, p, counters)) return;
        if (link === DLT.EN10MB && p.encap === 0) ethernetIp++;
        if (key !== flowHashOf(p)) {
          mismatches++;
          if (where.length < 5) where.push(`${path.basename(file)} packet at ${off}`);
        }
      });
      if (r.eof) break;
    }
    h.close();
  }
  t.ok(packets > 1000, `${packets} packets read`);
  t.equal(mismatches, 0, `key differs from flowHashOf: ${where.join(', ')}`);
  // Most Ethernet IP packets are plain TCP/UDP: the full decoder must be the exception.
  t.ok(keyer.slowPath < packets - ethernetIp / 2,
    `full decoder used for ${keyer.slowPath} of ${packets} packets (${ethernetIp} Ethernet IP)`);
});

t.test('GTP-U, Teredo and AYIYA ports take the full decoder', async (t) => {
  // Ethernet, IPv4 10.0.0.1 > 10.0.0.2 UDP, carrying IPv6 2001:db8::1.54321 > 2001:db8::2.53.
  const inner = Buffer.from('60000000000c1140' + '20010db8000000000000000000000001' +
    '20010db8000000000000000000000002' + 'd4310035000c0000deadbeef', 'hex');
  const frame = (srcPort: number, dstPort: number, carrierHeader: string) => {
    const payload = Buffer.concat([Buffer.from(carrierHeader.replace(/ /g, ''), 'hex'), inner]);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(srcPort, 0);
    udp.writeUInt16BE(dstPort, 2);
    udp.writeUInt16BE(8 + payload.length, 4);
    const ip = Buffer.from('450000000001000040110000' + '0a000001' + '0a000002', 'hex');
    ip.writeUInt16BE(20 + 8 + payload.length, 2);
    return Buffer.concat([Buffer.from('00112233445566778899aabb0800', 'hex'), ip, udp, payload]);
  };
  const gtpHeader = `30ff ${inner.length.toString(16).padStart(4, '0')} 00000001`;
  const ayiyaHeader = `41521129 4af64bfd ${'00'.repeat(16)} ${'5a'.repeat(20)}`;
  const cases: Array<[string, Buffer]> = [
    ['gtp-u to 2152', frame(40000, 2152, gtpHeader)],
    ['teredo from 3544', frame(3544, 40000, '0000 f227 bec861af')],
    ['teredo to 3544', frame(40000, 3544, '')],
    ['ayiya from 5072', frame(5072, 40000, ayiyaHeader)],
    ['ayiya to 5072', frame(40000, 5072, ayiyaHeader)],
  ];
  const keyer = new ShardKeyer();
  const p = newDecodedPacket();
  for (const [name, pkt] of cases) {
    const before = keyer.slowPath;
    const key = keyer.key(pkt, 0, pkt.length, DLT.EN10MB);
    t.equal(keyer.slowPath, before + 1, `${name}: full decoder`);
    t.ok(decodePacket(pkt, 0, pkt.length, DLT.EN10MB, p, new DecodeCounters()));
    t.not(p.encap, 0, `${name}: decapsulated`);
    t.equal(p.dstPort, 53, `${name}: the inner flow`);
    t.equal(key, flowHashOf(p), `${name}: keyed on the inner flow`);
  }
  // A reply from 2152 to another port is not GTP-U: the fast path keys it as the outer flow.
  const reply = frame(2152, 40000, gtpHeader);
  const before = keyer.slowPath;
  const key = keyer.key(reply, 0, reply.length, DLT.EN10MB);
  t.equal(keyer.slowPath, before, 'gtp-u source port: fast path');
  t.ok(decodePacket(reply, 0, reply.length, DLT.EN10MB, p, new DecodeCounters()));
  t.equal(p.encap, 0);
  t.equal(key, flowHashOf(p));
});
