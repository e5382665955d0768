// The "bulk" bench capture: our own reference captures (pcaps/), read through the addon and
// laid end to end as one template, then written N times with per-copy addresses and
// timestamps shifted so each copy follows the previous one. Real packet sizes, real
// handshakes, real payloads: a good stand-in for a link of long TCP flows.
//
// Per copy k (0-based) the lab addresses move to a fresh range:
//   IPv4 10.77.0.X  -> 10.(100 + k / 256).(k % 256).X, header checksum recomputed
//   IPv6 fd77::X    -> fd77:0:0:(k + 1)::X (no header checksum in IPv6)
// known gap: TCP/UDP checksums are left as they were, so they are wrong after the rewrite
// (the sensor does not verify them, nor do tcpdump -w and ndpiReader). ARP payloads and
// link-local IPv6 (neighbour discovery) are not rewritten; those few packets repeat as is.

import fs from 'node:fs';
import path from 'node:path';

import { forEachRecord, PcapHandle } from '../src/capture/pcap';
import {
  ETHER_HEADER_BYTES, ETHERTYPE_IPV4, LINKTYPE_ETHERNET, PCAP_RECORD_HEADER_BYTES, PcapWriter,
  fixIpv4Checksum, put16,
} from './pcap-gen';

const ETHERTYPE_IPV6 = 0x86dd;
/** Quiet time between two reference captures in a copy, and between two copies. */
const GAP_NS = 1e9;
/** First timestamp of the bench captures: 2025-01-01T00:00:00Z. */
export const BENCH_EPOCH_SEC = 1_735_689_600;
/** Copies are numbered into the second and third octets: 10.(100 + k/256).(k%256).X. */
const MAX_COPIES = 155 * 256;
const READ_BUFFER_BYTES = 1024 * 1024;

interface TemplatePacket {
  /** Nanoseconds since the template's first packet. */
  relNs: number;
  data: Uint8Array;
  origlen: number;
  /** Offset of the IPv4 or IPv6 header in `data`, or -1. */
  ip: number;
  ipVersion: number;
}

export interface Template {
  packets: TemplatePacket[];
  /** Nanoseconds from the first packet to the last, plus the gap before the next copy. */
  periodNs: number;
  /** Bytes one copy adds to a pcap file (record headers and data). */
  copyFileBytes: number;
}

/** Sorted .pcap and .pcapng files of a directory. */
export function referenceCaptures(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).sort()
    .map((f) => path.join(dir, f));
}

/** Mean frame length (original, on the wire) of a capture's packets, read through the addon. */
export function meanFrameBytes(file: string): number {
  const h = PcapHandle.openFile(file);
  const buf = new Uint8Array(new ArrayBuffer(READ_BUFFER_BYTES));
  let packets = 0;
  let bytes = 0;
  try {
    for (;;) {
      const r = h.readBatch(buf);
      forEachRecord(buf, r.bytes, (_at, _caplen, origlen) => {
        packets++;
        bytes += origlen;
      });
      if (r.eof) break;
    }
  } finally {
    h.close();
  }
  return packets === 0 ? 0 : bytes / packets;
}

/** Reads every capture through PcapHandle; each file starts GAP_NS after the previous one. */
export function loadTemplate(files: string[]): Template {
  const packets: TemplatePacket[] = [];
  const buf = new Uint8Array(new ArrayBuffer(READ_BUFFER_BYTES));
  let cursorNs = 0;
  let copyFileBytes = 0;
  for (const file of files) {
    const h = PcapHandle.openFile(file);
    let firstSec = -1;
    let firstNsec = 0;
    let lastRel = cursorNs;
    try {
      const link = h.datalink().type;
      if (link !== LINKTYPE_ETHERNET) {
        throw new Error(`${file}: link type ${link}, the bulk generator reads Ethernet only`);
      }
      for (;;) {
        const r = h.readBatch(buf);
        forEachRecord(buf, r.bytes, (at, caplen, origlen, sec, nsec) => {
          if (firstSec < 0) {
            firstSec = sec;
            firstNsec = nsec;
          }
          const relNs = cursorNs + (sec - firstSec) * 1e9 + (nsec - firstNsec);
          const data = buf.slice(at, at + caplen);
          const [ip, ipVersion] = ipHeaderOf(data);
          packets.push({ relNs, data, origlen, ip, ipVersion });
          if (relNs > lastRel) lastRel = relNs;
          copyFileBytes += PCAP_RECORD_HEADER_BYTES + caplen;
        });
        if (r.eof) break;
      }
    } finally {
      h.close();
    }
    cursorNs = lastRel + GAP_NS;
  }
  if (packets.length === 0) throw new Error('no packets in the reference captures');
  return { packets, periodNs: cursorNs, copyFileBytes };
}

// gap: VLAN-tagged frames are not looked into; the reference captures have none.
function ipHeaderOf(d: Uint8Array): [number, number] {
  const ip = ETHER_HEADER_BYTES;
  if (d.length < ip + 1) return [-1, 0];
  const type = (d[12] << 8) | d[13];
  const version = d[ip] >> 4;
  if (type === ETHERTYPE_IPV4 && version === 4 && d.length >= ip + (d[ip] & 0x0f) * 4 &&
    (d[ip] & 0x0f) >= 5) {
    return [ip, 4];
  }
  if (type === ETHERTYPE_IPV6 && version === 6 && d.length >= ip + 40) return [ip, 6];
  return [-1, 0];
}

/** Moves 10.77.0.X in the IPv4 address at `a` to copy k's range; true if it changed. */
function rewriteIpv4Address(b: Uint8Array, a: number, k: number): boolean {
  if (b[a] !== 10 || b[a + 1] !== 77 || b[a + 2] !== 0) return false;
  b[a + 1] = 100 + (k >>> 8);
  b[a + 2] = k & 0xff;
  return true;
}

/** Moves fd77::X (the lab's ULA prefix) to fd77:0:0:(k + 1)::X. */
function rewriteIpv6Address(b: Uint8Array, a: number, k: number): void {
  if (b[a] !== 0xfd || b[a + 1] !== 0x77) return;
  put16(b, a + 6, k + 1);
}

export interface BulkResult {
  copies: number;
  packets: number;
  wireBytes: number;
  fileBytes: number;
}

/** Writes `copies` copies of the template to `file`, rewriting as described above. */
export function writeBulk(file: string, t: Template, copies: number): BulkResult {
  if (copies < 1 || copies > MAX_COPIES) {
    throw new RangeError(`copies must be 1..${MAX_COPIES}`);
  }
  const w = new PcapWriter(file);
  const b = w.buf;
  for (let k = 0; k < copies; k++) {
    const baseNs = k * t.periodNs;
    for (const p of t.packets) {
      const ns = baseNs + p.relNs;
      const sec = BENCH_EPOCH_SEC + Math.floor(ns / 1e9);
      const o = w.record(sec, ns % 1e9, p.data.length, p.origlen);
      b.set(p.data, o);
      if (p.ipVersion === 4) {
        const ip = o + p.ip;
        const src = rewriteIpv4Address(b, ip + 12, k);
        const dst = rewriteIpv4Address(b, ip + 16, k);
        if (src || dst) fixIpv4Checksum(b, ip);
      } else if (p.ipVersion === 6) {
        rewriteIpv6Address(b, o + p.ip + 8, k);
        rewriteIpv6Address(b, o + p.ip + 24, k);
      }
    }
  }
  w.close();
  return { copies, packets: w.packets, wireBytes: w.wireBytes, fileBytes: w.fileBytes };
}
