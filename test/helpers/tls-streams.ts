// Corpus captures as reassembled TCP connections for the TLS parser and fingerprint tests:
// every packet through the real capture layer and decoder, each direction into its own
// TcpStream, then the bytes of both directions from their starts. Test code: it allocates
// freely (a Map keyed by the 4-tuple string, copies of the stream bytes).

import fs from 'node:fs';
import path from 'node:path';
import { PcapHandle, forEachRecord } from '../../src/capture/pcap';
import { DecodeCounters, decodePacket } from '../../src/decode/decode';
import { formatAddress } from '../../src/decode/flow-key';
import { IPPROTO, TCP_FLAG, newDecodedPacket } from '../../src/decode/packet';
import { TcpStream } from '../../src/flow/tcp-stream';
import type { TcpStreamAnomalies } from '../../src/flow/tcp-stream';
import { parseTlsClientHello } from '../../src/protocols/tls/handshake';

function findRepoRoot(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}

/** IPv6 encapsulated in IPv4 (IANA protocol numbers; RFC 4213). */

export const CORPUS = path.resolve(findRepoRoot(__dirname), '../shared/corpus/public');

export interface Endpoint {
  ip: string;
  port: number;
}

/** One TCP connection, oriented so `client` sent the ClientHello when one was seen. */
export interface TcpConnection {
  client: Endpoint;
  server: Endpoint;
  /** Contiguous bytes of each direction from its start (copies). */
  clientBytes: Uint8Array;
  serverBytes: Uint8Array;
  clientFull: boolean;
  serverFull: boolean;
  anomalies: { client: TcpStreamAnomalies; server: TcpStreamAnomalies };
}

interface Building {
  a: Endpoint;
  b: Endpoint;
  aKey: string;
  streams: Map<string, TcpStream>;
  /** Sequence number of the SYN from `a`, to tell a port reuse from a retransmission. */
  synSeq: number | undefined;
}

/** "ip port" of one endpoint. */
export function endpointKey(e: Endpoint): string {
  return `${e.ip} ${e.port}`;
}

/** Client and server as one string, as the reference readers key flows. */
export function connectionKey(client: Endpoint, server: Endpoint): string {
  return `${endpointKey(client)} > ${endpointKey(server)}`;
}

/** Every TCP connection of a capture that carried payload in at least one direction. */
export function tcpConnections(file: string): TcpConnection[] {
  const handle = PcapHandle.openFile(file);
  const linkType = handle.datalink().type;
  const buf = new Uint8Array(8 * 1024 * 1024);
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const open = new Map<string, Building>();
  const done: Building[] = [];
  try {
    for (;;) {
      const batch = handle.readBatch(buf, 100_000);
      forEachRecord(buf, batch.bytes, (offset, caplen) => {
        if (!decodePacket(buf, offset, caplen, linkType, p, counters)) return;
        if (p.proto !== IPPROTO.TCP || p.fragment) return;
        const src = { ip: formatAddress(p.src), port: p.srcPort };
        const dst = { ip: formatAddress(p.dst), port: p.dstPort };
        const sk = endpointKey(src);
        const dk = endpointKey(dst);
        const key = sk < dk ? `${sk}|${dk}` : `${dk}|${sk}`;
        const syn = (p.tcpFlags & TCP_FLAG.SYN) !== 0;
        const synOnly = syn && (p.tcpFlags & TCP_FLAG.ACK) === 0;
        let c = open.get(key);
        // A new SYN with another sequence number is a new connection on the same ports.
        if (c !== undefined && synOnly && c.synSeq !== undefined && c.synSeq !== p.tcpSeq) {
          done.push(c);
          c = undefined;
        }
        if (c === undefined) {
          c = { a: src, b: dst, aKey: sk, streams: new Map(), synSeq: undefined };
          open.set(key, c);
        }
        if (synOnly && sk === c.aKey) c.synSeq = p.tcpSeq;
        let s = c.streams.get(sk);
        if (s === undefined) c.streams.set(sk, (s = new TcpStream()));
        s.add(p.tcpSeq, syn, buf, p.payloadOffset, p.payloadLength);
      });
      if (batch.eof) break;
    }
  } finally {
    handle.close();
  }
  done.push(...open.values());
  return done.map(orient).filter((c) => c.clientBytes.length + c.serverBytes.length > 0);
}

/** The side whose stream parses as a ClientHello is the client; else whoever came first. */
function orient(c: Building): TcpConnection {
  const bKey = endpointKey(c.b);
  const sa = c.streams.get(c.aKey) ?? new TcpStream(1);
  const sb = c.streams.get(bKey) ?? new TcpStream(1);
  const bytesA = sa.bytes.slice(0, sa.contiguous);
  const bytesB = sb.bytes.slice(0, sb.contiguous);
  const aHello = parseTlsClientHello(bytesA, 0, bytesA.length).status === 'ok';
  const bHello = parseTlsClientHello(bytesB, 0, bytesB.length).status === 'ok';
  const swap = bHello && !aHello;
  return {
    client: swap ? c.b : c.a,
    server: swap ? c.a : c.b,
    clientBytes: swap ? bytesB : bytesA,
    serverBytes: swap ? bytesA : bytesB,
    clientFull: swap ? sb.full : sa.full,
    serverFull: swap ? sa.full : sb.full,
    anomalies: swap ? { client: sb.anomalies, server: sa.anomalies }
      : { client: sa.anomalies, server: sb.anomalies },
  };
}

/** Captures of the corpus (not their reference outputs), by MANIFEST order. */
export function corpusCaptures(): string[] {
  const manifest = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  return manifest.slice(1).map((line) => line.split('\t')[0])
    .filter((f) => fs.existsSync(path.join(CORPUS, f)));
}

// ---- Reference outputs ----

export interface SnapStream {
  transport: string;
  client: Endpoint;
  server: Endpoint;
  sni?: string;
  ja4?: string;
  ja4_r?: string;
  ja4s?: string;
}

/**
 * FoxIO's Rust snapshot (insta YAML): a list of streams, each a "- stream: N" item whose
 * scalar fields sit at two spaces of indent; nested lists (certificates) are skipped.
 */
export function readJa4Snap(file: string): SnapStream[] {
  const out: SnapStream[] = [];
  let cur: Record<string, string> | undefined;
  const flush = (): void => {
    if (cur === undefined) return;
    out.push({
      transport: cur.transport,
      client: { ip: cur.src, port: Number(cur.src_port) },
      server: { ip: cur.dst, port: Number(cur.dst_port) },
      sni: cur.tls_server_name, ja4: cur.ja4, ja4_r: cur.ja4_r, ja4s: cur.ja4s,
    });
  };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const item = /^- stream: (\d+)/.exec(line);
    if (item) {
      flush();
      cur = {};
      continue;
    }
    const field = /^ {2}([a-z0-9_]+): (.+)$/.exec(line);
    if (field && cur !== undefined) cur[field[1]] = field[2].replace(/^"(.*)"$/, '$1');
  }
  flush();
  return out;
}

export interface NdpiFlow {
  transport: string;
  /** nDPI prints the initiator first; the key sorts both ends so orientation cannot miss. */
  pairKey: string;
  line: string;
  ja3c?: string;
  ja3s?: string;
  ja4?: string;
  issuer?: string;
  subject?: string;
  validity?: string;
}

/** Both endpoints in sorted order. */
export function pairKey(x: Endpoint, y: Endpoint): string {
  const a = endpointKey(x);
  const b = endpointKey(y);
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** nDPI's flow lines ("\tN\tTCP a:p <-> b:p [..][JA3C: ..]..."); IPv6 is "[addr]:port". */
export function readNdpi(file: string): NdpiFlow[] {
  const out: NdpiFlow[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\t\d+\t(TCP|UDP) (\S+) <?-> (\S+) /.exec(line);
    if (!m) continue;
    const [x, y] = [m[2], m[3]].map(parseNdpiEndpoint);
    if (x === undefined || y === undefined) continue;
    // Values may carry a note after a space, e.g. "[JA3S: <md5> (WEAK)]".
    const tag = (name: string): string | undefined =>
      new RegExp(`\\[${name}: ([^\\]]*)\\]`).exec(line)?.[1];
    const hash = (name: string): string | undefined => tag(name)?.split(' ')[0];
    out.push({
      transport: m[1].toLowerCase(), pairKey: pairKey(x, y), line,
      ja3c: hash('JA3C'), ja3s: hash('JA3S'), ja4: hash('JA4'), issuer: tag('Issuer'),
      subject: tag('Subject'), validity: tag('Validity'),
    });
  }
  return out;
}

function parseNdpiEndpoint(s: string): Endpoint | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  return m ? { ip: canonicalIp(m[1]), port: Number(m[2]) } : undefined;
}

/**
 * An address as formatAddress prints it: nDPI's inet_ntop may shorten a single zero group
 * to "::", which RFC 5952 section 4.2.2 (and our formatter) does not.
 */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  const groups = [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  return formatAddress(words);
}
