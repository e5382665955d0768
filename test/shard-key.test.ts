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
