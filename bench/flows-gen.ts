// Synthetic bench captures of many short flows, deterministic for a given seed:
//
//   many-flows  TCP flows (SYN, SYN-ACK, ACK, HTTP request, response, FIN-ACK each way, last
//               ACK) and DNS over UDP (query and answer with a real question section) from
//               distinct clients to a few hundred servers, overlapping in time as on a link.
//   syn-1m      one SYN each from a million distinct clients, all within the idle timeout,
//               so every flow is alive at the end: the table's memory per flow.
//
// Every header is well formed, IPv4 and TCP/UDP checksums included. Addresses: servers in
// 198.18.0.0/15 (RFC 2544, benchmarking), clients in 10.0.0.0/8.

import {
  IPPROTO_TCP, IPPROTO_UDP, IPV4_HEADER_BYTES, PcapWriter, TCP_HEADER_BYTES, UDP_HEADER_BYTES,
  fixTransportChecksum, put16, put32, putEthernet, putIpv4,
} from './pcap-gen';
import { BENCH_EPOCH_SEC } from './bulk-gen';

const FRAME_OVERHEAD = 14 + IPV4_HEADER_BYTES; // Ethernet + IPv4
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
const TCP_FIN = 0x01;
/** MSS option on SYN and SYN-ACK (RFC 9293 3.7.1): kind 2, length 4, 1460. */
const TCP_MSS_OPTION_BYTES = 4;
const TCP_MSS = 1460;
const HTTP_PORT = 80;
const HTTPS_PORT = 443;
const DNS_PORT = 53;

const HTTP_SERVERS = 200;
const DNS_SERVERS = 100;
/** 198.18.0.0: HTTP servers from .0.1, DNS servers from .2.1. */
const SERVER_NET = 0xc6120000;
const CLIENT_NET = 0x0a000000;
/** An odd multiplier makes i -> (i * M) mod 2^24 a bijection: every client address differs. */
const CLIENT_SPREAD = 0x9e3779b1;
/** Share of many-flows flows that are TCP/HTTP (the rest are DNS). */
const TCP_SHARE = 0.7;
/** Share of DNS queries answered NXDOMAIN. */
const NXDOMAIN_SHARE = 0.05;

/** mulberry32 (Tommy Ettinger, public domain): small, fast, good enough for traffic shapes. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clientAddress(i: number, seed: number): number {
  return (CLIENT_NET | ((Math.imul(i, CLIENT_SPREAD) + seed) & 0xffffff)) >>> 0;
}

/** One packet of a flow, written when its time comes. */
interface Pkt {
  atNs: number;
  fromClient: boolean;
  flags: number; // TCP flags; 0 for UDP
  seq: number;
  ack: number;
  payload: string; // latin1
}

interface Flow {
  id: number;
  proto: number;
  client: number;
  server: number;
  clientPort: number;
  serverPort: number;
  ipId: number;
  pkts: Pkt[];
  next: number;
}

const REQUEST_PATHS = ['/', '/index.html', '/api/v1/items', '/static/app.js', '/health'];
const BODY_TEXT = 'the quick brown fox jumps over the lazy dog; '.repeat(40);

function httpFlow(id: number, startNs: number, rnd: () => number, seed: number): Flow {
  const server = SERVER_NET + 1 + Math.floor(rnd() * HTTP_SERVERS);
  const rtt = (1 + rnd() * 49) * 1e6; // 1-50 ms
  const think = rnd() * 5e6; // server time to answer, up to 5 ms
  const path = REQUEST_PATHS[Math.floor(rnd() * REQUEST_PATHS.length)];
  const host = `s${server & 0xff}.bench.test`;
  const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: th-bench/1\r\n` +
    'Accept: */*\r\n\r\n';
  const bodyLength = 40 + Math.floor(rnd() * 600);
  const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${bodyLength}\r\n\r\n${BODY_TEXT.slice(0, bodyLength)}`;
  const c = Math.floor(rnd() * 2 ** 32); // initial sequence numbers
  const s = Math.floor(rnd() * 2 ** 32);
  const q = request.length;
  const r = response.length;
  const t = (n: number) => startNs + n;
  const pkts: Pkt[] = [
    { atNs: t(0), fromClient: true, flags: TCP_SYN, seq: c, ack: 0, payload: '' },
    { atNs: t(rtt / 2), fromClient: false, flags: TCP_SYN | TCP_ACK, seq: s, ack: c + 1,
      payload: '' },
    { atNs: t(rtt), fromClient: true, flags: TCP_ACK, seq: c + 1, ack: s + 1, payload: '' },
    { atNs: t(rtt + 2e4), fromClient: true, flags: TCP_PSH | TCP_ACK, seq: c + 1, ack: s + 1,
      payload: request },
    { atNs: t(1.5 * rtt + think), fromClient: false, flags: TCP_PSH | TCP_ACK, seq: s + 1,
      ack: c + 1 + q, payload: response },
    { atNs: t(2 * rtt + think), fromClient: true, flags: TCP_FIN | TCP_ACK, seq: c + 1 + q,
      ack: s + 1 + r, payload: '' },
    { atNs: t(2.5 * rtt + think), fromClient: false, flags: TCP_FIN | TCP_ACK, seq: s + 1 + r,
      ack: c + 2 + q, payload: '' },
    { atNs: t(3 * rtt + think), fromClient: true, flags: TCP_ACK, seq: c + 2 + q,
      ack: s + 2 + r, payload: '' },
  ];
  return {
    id, proto: IPPROTO_TCP, client: clientAddress(id, seed), server,
    clientPort: 1024 + Math.floor(rnd() * 64_512), serverPort: HTTP_PORT,
    ipId: Math.floor(rnd() * 65_536), pkts, next: 0,
  };
}

/** DNS message (RFC 1035 4.1): header, one question, and for answers one A/AAAA record. */
function dnsMessage(id: number, name: string, qtype: number, answer: boolean,
  nxdomain: boolean, rdata: number): string {
  const u16 = (v: number) => String.fromCharCode(v >>> 8, v & 0xff);
  const flags = answer ? (nxdomain ? 0x8183 : 0x8180) : 0x0100; // QR, RD, RA, rcode
  const answers = answer && !nxdomain ? 1 : 0;
  let m = u16(id) + u16(flags) + u16(1) + u16(answers) + u16(0) + u16(0);
  for (const label of name.split('.')) m += String.fromCharCode(label.length) + label;
  m += '\0' + u16(qtype) + u16(1); // class IN
  if (answers === 0) return m;
  m += u16(0xc00c) + u16(qtype) + u16(1) + u16(0) + u16(300); // name -> question, TTL 300
  const octets = qtype === 1 ? 4 : 16;
  m += u16(octets);
  for (let i = 0; i < octets; i++) m += String.fromCharCode((rdata >>> ((i % 4) * 8)) & 0xff);
  return m;
}

function dnsFlow(id: number, startNs: number, rnd: () => number, seed: number): Flow {
  const server = SERVER_NET + 0x201 + Math.floor(rnd() * DNS_SERVERS);
  const rtt = (0.2 + rnd() * 20) * 1e6;
  const name = `h${Math.floor(rnd() * 100_000)}.zone${Math.floor(rnd() * 50)}.bench.test`;
  const qtype = rnd() < 0.8 ? 1 : 28; // A or AAAA
  const nx = rnd() < NXDOMAIN_SHARE;
  const txid = Math.floor(rnd() * 65_536);
  const rdata = Math.floor(rnd() * 2 ** 32);
  return {
    id, proto: IPPROTO_UDP, client: clientAddress(id, seed), server,
    clientPort: 1024 + Math.floor(rnd() * 64_512), serverPort: DNS_PORT,
    ipId: Math.floor(rnd() * 65_536), next: 0, pkts: [
      { atNs: startNs, fromClient: true, flags: 0, seq: 0, ack: 0,
        payload: dnsMessage(txid, name, qtype, false, nx, rdata) },
      { atNs: startNs + rtt, fromClient: false, flags: 0, seq: 0, ack: 0,
        payload: dnsMessage(txid, name, qtype, true, nx, rdata) },
    ],
  };
}

/** Writes packet `p` of flow `f` as one Ethernet/IPv4/TCP or UDP frame. */
function writePacket(w: PcapWriter, f: Flow, p: Pkt): void {
  const tcp = f.proto === IPPROTO_TCP;
  const options = tcp && (p.flags & TCP_SYN) !== 0 ? TCP_MSS_OPTION_BYTES : 0;
  const l4Header = tcp ? TCP_HEADER_BYTES + options : UDP_HEADER_BYTES;
  const l4Length = l4Header + p.payload.length;
  const frame = FRAME_OVERHEAD + l4Length;
  const ns = p.atNs;
  const o = w.record(BENCH_EPOCH_SEC + Math.floor(ns / 1e9), Math.floor(ns % 1e9), frame);
  const b = w.buf;
  const ip = putEthernet(b, o, p.fromClient);
  const src = p.fromClient ? f.client : f.server;
  const dst = p.fromClient ? f.server : f.client;
  const l4 = putIpv4(b, ip, IPV4_HEADER_BYTES + l4Length, (f.ipId + f.next) & 0xffff, f.proto,
    src, dst);
  put16(b, l4, p.fromClient ? f.clientPort : f.serverPort);
  put16(b, l4 + 2, p.fromClient ? f.serverPort : f.clientPort);
  if (tcp) {
    put32(b, l4 + 4, p.seq >>> 0);
    put32(b, l4 + 8, p.ack >>> 0);
    b[l4 + 12] = (l4Header / 4) << 4; // data offset
    b[l4 + 13] = p.flags;
    put16(b, l4 + 14, 64_240); // window
    put16(b, l4 + 18, 0); // urgent pointer
    if (options > 0) {
      b[l4 + 20] = 2;
      b[l4 + 21] = TCP_MSS_OPTION_BYTES;
      put16(b, l4 + 22, TCP_MSS);
    }
  } else {
    put16(b, l4 + 4, l4Length);
  }
  b.write(p.payload, l4 + l4Header, 'latin1');
  fixTransportChecksum(b, ip, l4, l4Length, f.proto, l4 + (tcp ? 16 : 6));
}

/** Min-heap of flows by the time of their next packet (then by id, so output is stable). */
class FlowHeap {
  private readonly items: Flow[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Flow {
    return this.items[0];
  }

  push(f: Flow): void {
    const a = this.items;
    a.push(f);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  pop(): Flow {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function nextAt(f: Flow): number {
  return f.pkts[f.next].atNs;
}

function before(x: Flow, y: Flow): boolean {
  const tx = nextAt(x);
  const ty = nextAt(y);
  return tx < ty || (tx === ty && x.id < y.id);
}

export interface FlowsResult {
  flows: number;
  packets: number;
  wireBytes: number;
  fileBytes: number;
  /** Most flows open at once (first packet written, last not yet). */
  peakOpen: number;
}

/**
 * Writes `flows` short flows starting `flowsPerSec` apart in packet time; the share
 * TCP_SHARE of them TCP/HTTP, the rest DNS. Packets are written in time order.
 */
export function writeManyFlows(file: string, flows: number, flowsPerSec: number,
  seed: number): FlowsResult {
  const rnd = mulberry32(seed);
  const w = new PcapWriter(file);
  const heap = new FlowHeap();
  const spacingNs = 1e9 / flowsPerSec;
  let started = 0;
  let peakOpen = 0;
  while (started < flows || heap.size > 0) {
    const nextStart = started * spacingNs;
    if (started < flows && (heap.size === 0 || nextStart <= nextAt(heap.peek()))) {
      const f = rnd() < TCP_SHARE ? httpFlow(started, nextStart, rnd, seed)
        : dnsFlow(started, nextStart, rnd, seed);
      heap.push(f);
      started++;
      if (heap.size > peakOpen) peakOpen = heap.size;
      continue;
    }
    const f = heap.pop();
    writePacket(w, f, f.pkts[f.next]);
    f.next++;
    if (f.next < f.pkts.length) heap.push(f);
  }
  w.close();
  const { packets, wireBytes, fileBytes } = w;
  return { flows, packets, wireBytes, fileBytes, peakOpen };
}

/** One SYN from each of `flows` distinct clients, `flowsPerSec` apart, to port 80 or 443. */
export function writeSynFlows(file: string, flows: number, flowsPerSec: number,
  seed: number): FlowsResult {
  const rnd = mulberry32(seed);
  const w = new PcapWriter(file);
  const spacingNs = 1e9 / flowsPerSec;
  for (let i = 0; i < flows; i++) {
    const f: Flow = {
      id: i, proto: IPPROTO_TCP, client: clientAddress(i, seed),
      server: SERVER_NET + 1 + Math.floor(rnd() * HTTP_SERVERS),
      clientPort: 1024 + Math.floor(rnd() * 64_512),
      serverPort: rnd() < 0.5 ? HTTP_PORT : HTTPS_PORT, ipId: Math.floor(rnd() * 65_536),
      next: 0, pkts: [],
    };
    writePacket(w, f, { atNs: i * spacingNs, fromClient: true, flags: TCP_SYN,
      seq: Math.floor(rnd() * 2 ** 32), ack: 0, payload: '' });
  }
  w.close();
  return { flows, packets: w.packets, wireBytes: w.wireBytes, fileBytes: w.fileBytes,
    peakOpen: flows };
}
