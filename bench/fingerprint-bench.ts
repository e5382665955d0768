// Fingerprint throughput: handshakes parsed and fingerprinted per second, on the real
// handshakes of the public corpus (TLS ClientHellos and SSH banner+KEXINIT streams).
//   npm run build && node dist/bench/fingerprint-bench.js [corpus-dir]

import fs from 'node:fs';
import path from 'node:path';
import { forEachRecord, PcapHandle } from '../src/capture/pcap';
import { DecodeCounters, decodePacket } from '../src/decode/decode';
import { formatAddress } from '../src/decode/flow-key';
import { newDecodedPacket } from '../src/decode/packet';
import { sshFingerprints } from '../src/fingerprints/hassh';
import { tlsFingerprints } from '../src/fingerprints/tls';
import { identifyPayload, PROTO } from '../src/protocols/identify';
import { parseSshHandshake } from '../src/protocols/ssh/handshake';
import { parseTlsClientHello } from '../src/protocols/tls/handshake';

const CORPUS = process.argv[2] ?? path.resolve(__dirname, '../../../shared/corpus/public');
/** Bytes of each client direction collected (in capture order: good enough for a bench). */
const COLLECT_BYTES = 16384;
const RUN_MS = 2000;

function collect(): { tls: Uint8Array[]; ssh: Uint8Array[] } {
  const streams = new Map<string, { proto: number; chunks: Buffer[]; len: number }>();
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const buf = new Uint8Array(1 << 20);
  for (const f of fs.readdirSync(CORPUS).filter((n) => /\.(pcap|pcapng)$/.test(n))) {
    const h = PcapHandle.openFile(path.join(CORPUS, f));
    const link = h.datalink().type;
    for (;;) {
      const r = h.readBatch(buf);
      forEachRecord(buf, r.bytes, (off, caplen) => {
        if (!decodePacket(buf, off, caplen, link, p, counters)) return;
        if (p.proto !== 6 || p.payloadLength === 0) return;
        const key = `${f} ${formatAddress(p.src)}:${p.srcPort}>` +
          `${formatAddress(p.dst)}:${p.dstPort}`;
        let s = streams.get(key);
        if (s === undefined) {
          const proto = identifyPayload(buf, p.payloadOffset, p.payloadLength, 6, true);
          if (proto !== PROTO.TLS && proto !== PROTO.SSH) return;
          s = { proto, chunks: [], len: 0 };
          streams.set(key, s);
        }
        if (s.len >= COLLECT_BYTES) return;
        const end = p.payloadOffset + p.payloadLength;
        s.chunks.push(Buffer.from(buf.subarray(p.payloadOffset, end)));
        s.len += p.payloadLength;
      });
      if (r.eof) break;
    }
    h.close();
  }
  const tls: Uint8Array[] = [];
  const ssh: Uint8Array[] = [];
  for (const s of streams.values()) {
    const bytes = new Uint8Array(Buffer.concat(s.chunks));
    if (s.proto === PROTO.TLS && parseTlsClientHello(bytes, 0, bytes.length).status === 'ok') {
      tls.push(bytes);
    }
    if (s.proto === PROTO.SSH) {
      const r = parseSshHandshake(bytes, 0, bytes.length);
      if (r.status === 'ok' && r.record.kexinit !== undefined) ssh.push(bytes);
    }
  }
  return { tls, ssh };
}

function rate(items: Uint8Array[], fn: (b: Uint8Array) => void): number {
  let n = 0;
  const end = Date.now() + RUN_MS;
  const t0 = process.hrtime.bigint();
  while (Date.now() < end) {
    for (const b of items) fn(b);
    n += items.length;
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function main(): void {
  const { tls, ssh } = collect();
  const tlsRate = rate(tls, (b) => {
    const r = parseTlsClientHello(b, 0, b.length);
    if (r.status === 'ok') tlsFingerprints(r.record, undefined, 't');
  });
  const sshRate = rate(ssh, (b) => {
    const r = parseSshHandshake(b, 0, b.length);
    if (r.status === 'ok') sshFingerprints(r.record, r.record);
  });
  console.log(`TLS ClientHello parse + JA4 + JA3: ${tls.length} distinct handshakes, ` +
    `${Math.round(tlsRate)} handshakes/s`);
  console.log(`SSH banner + KEXINIT parse + HASSH + HASSH-server: ${ssh.length} distinct, ` +
    `${Math.round(sshRate)} handshakes/s`);
}

main();
