// Capture walking for the handshake tests: every TCP/UDP payload of a file through the real
// decoder (Geneve unwrapped, for the FoxIO capture that tunnels SSH in it), and each TCP
// direction put in order by src/flow/tcp-stream.ts. Test code: it allocates freely.

import fs from 'node:fs';
import path from 'node:path';

import { PcapHandle, forEachRecord } from '../../src/capture/pcap';
import { DecodeCounters, decodePacket } from '../../src/decode/decode';
import { formatAddress } from '../../src/decode/flow-key';
import { IPPROTO, TCP_FLAG, newDecodedPacket } from '../../src/decode/packet';
import type { DecodedPacket } from '../../src/decode/packet';
import { TcpStream } from '../../src/flow/tcp-stream';

/** Geneve over UDP (RFC 8926 section 3.3 port, section 3.4 header). */
/** Per-direction bytes kept: far more than any handshake or DNS-over-TCP test needs. */
const MAX_STREAM_BYTES = 1024 * 1024;

export interface PacketView {
  p: DecodedPacket;
  buf: Uint8Array;
  src: string;
  dst: string;
}

/** Calls fn for every decoded TCP or UDP packet that carries payload (not fragments). */
export function forEachTransportPayload(file: string, fn: (v: PacketView) => void): void {
  walkCapture(file, (v) => {
    if (v.p.payloadLength > 0) fn(v);
  });
}

/** Every decoded, unfragmented TCP or UDP packet, with or without payload. */
function walkCapture(file: string, fn: (v: PacketView) => void): void {
  const handle = PcapHandle.openFile(file);
  const linkType = handle.datalink().type;
  const buf = new Uint8Array(8 * 1024 * 1024);
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  try {
    for (;;) {
      const batch = handle.readBatch(buf, 100_000);
      forEachRecord(buf, batch.bytes, (offset, caplen) => {
        if (!decodePacket(buf, offset, caplen, linkType, p, counters)) return;
        if (p.proto !== IPPROTO.TCP && p.proto !== IPPROTO.UDP) return;
        if (p.fragment) return;
        const src = `${formatAddress(p.src)}.${p.srcPort}`;
        const dst = `${formatAddress(p.dst)}.${p.dstPort}`;
        fn({ p, buf, src, dst });
      });
      if (batch.eof) break;
    }
  } finally {
    handle.close();
  }
}

export interface TcpConversation {
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  /** Bytes each side sent, in sequence order, up to the first hole. */
  clientBytes: Uint8Array;
  serverBytes: Uint8Array;
}

/**
 * TCP conversations of a capture, keyed by 4-tuple, each direction put in order by the
 * sensor's own bounded reassembler. The client is whoever sent a bare SYN; without one, the
 * side on the lower port is taken as the server. A 4-tuple reused by a second connection
 * is merged into the first (none of the corpus captures does that).
 */
export function tcpConversations(file: string): TcpConversation[] {
  const flows = new Map<string, { dirs: Map<string, TcpStream>; client?: string }>();
  walkCapture(file, (v) => {
    if (v.p.proto !== IPPROTO.TCP) return;
    const isSyn = (v.p.tcpFlags & TCP_FLAG.SYN) !== 0;
    const isSynAck = isSyn && (v.p.tcpFlags & TCP_FLAG.ACK) !== 0;
    if (!isSyn && v.p.payloadLength === 0) return;
    const key = v.src < v.dst ? `${v.src} ${v.dst}` : `${v.dst} ${v.src}`;
    let flow = flows.get(key);
    if (flow === undefined) {
      flow = { dirs: new Map() };
      flows.set(key, flow);
    }
    if (isSyn) flow.client = isSynAck ? v.dst : v.src;
    let dir = flow.dirs.get(v.src);
    if (dir === undefined) {
      dir = new TcpStream(MAX_STREAM_BYTES);
      flow.dirs.set(v.src, dir);
    }
    dir.add(v.p.tcpSeq, isSyn, v.buf, v.p.payloadOffset, v.p.payloadLength);
  });

  const out: TcpConversation[] = [];
  for (const [key, flow] of flows) {
    const [x, y] = key.split(' ');
    const portOf = (ep: string): number => Number(ep.slice(ep.lastIndexOf('.') + 1));
    let client = flow.client;
    if (client === undefined) client = portOf(x) > portOf(y) ? x : y;
    const server = client === x ? y : x;
    const bytesOf = (s: TcpStream | undefined): Uint8Array =>
      s === undefined ? new Uint8Array(0) : s.bytes.slice(0, s.contiguous);
    out.push({
      client, server, clientPort: portOf(client), serverPort: portOf(server),
      clientBytes: bytesOf(flow.dirs.get(client)),
      serverBytes: bytesOf(flow.dirs.get(server)),
    });
  }
  return out;
}

/** One reference tool's view of one SSH connection; null means "the tool says none". */
export interface SshReference {
  source: 'foxio' | 'ndpi' | 'suricata' | 'zeek';
  file: string;
  /** "addr.port" of each side, when the reference names them. */
  client?: string;
  server?: string;
  hassh?: string | null;
  hasshServer?: string | null;
  clientBanner?: string | null;
  serverBanner?: string | null;
  /** FoxIO encryption_algorithm (its own selection rule) or Zeek cipher_alg. */
  cipher?: string | null;
}

type ReferenceParser = (file: string, text: string) => SshReference[];

/** Saved outputs by file name suffix (MANIFEST expected_outputs). */
const REFERENCE_PARSERS: [string, ReferenceParser][] = [
  ['.ja4.rust.snap', foxioRefs],
  ['.ndpi.out', ndpiRefs],
  ['.suricata-verify.test.yaml', suricataRefs],
  ['.zeek.ssh.log', zeekRefs],
];

/** Every SSH expectation the corpus's saved reference outputs hold, by MANIFEST row. */
export function loadSshReferences(corpusDir: string): SshReference[] {
  const lines = fs.readFileSync(path.join(corpusDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const columns = lines[0].split('\t');
  const fileCol = columns.indexOf('file');
  const outputsCol = columns.indexOf('expected_outputs');
  const refs: SshReference[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split('\t');
    const file = cells[fileCol];
    for (const output of (cells[outputsCol] ?? '').split(',')) {
      const at = path.join(corpusDir, output);
      if (output === '-' || output === '' || !fs.existsSync(at)) continue;
      const parse = REFERENCE_PARSERS.find(([suffix]) => output.endsWith(suffix))?.[1];
      if (parse !== undefined) refs.push(...parse(file, fs.readFileSync(at, 'utf8')));
    }
  }
  return refs;
}

function yamlValue(block: string, key: string): string | null | undefined {
  const m = new RegExp(`^\\s*${key}: (.*)$`, 'm').exec(block);
  if (m === null) return undefined;
  const v = m[1].trim();
  if (v === 'null' || v === '~') return null;
  return /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
}

function foxioRefs(file: string, text: string): SshReference[] {
  return text.split(/^- stream:/m).filter((b) => b.includes('ssh_extras:')).map((b) => ({
    source: 'foxio', file,
    client: `${yamlValue(b, 'src')}.${yamlValue(b, 'src_port')}`,
    server: `${yamlValue(b, 'dst')}.${yamlValue(b, 'dst_port')}`,
    hassh: yamlValue(b, 'hassh'),
    hasshServer: yamlValue(b, 'hassh_server'),
    clientBanner: yamlValue(b, 'ssh_protocol_client'),
    serverBanner: yamlValue(b, 'ssh_protocol_server'),
    cipher: yamlValue(b, 'encryption_algorithm'),
  }));
}

/** nDPI prints banners in the order it saw them, not by role, so only HASSH is taken. */
function ndpiRefs(file: string, text: string): SshReference[] {
  const refs: SshReference[] = [];
  for (const line of text.split('\n')) {
    const c = /\[HASSH-C: ([0-9A-F]+)\]/.exec(line);
    const s = /\[HASSH-S: ([0-9A-F]+)\]/.exec(line);
    const ends = /TCP \[?([^\s\]]+?)\]?:(\d+) <-> \[?([^\s\]]+?)\]?:(\d+) /.exec(line);
    if ((c === null && s === null) || ends === null) continue;
    refs.push({
      source: 'ndpi', file,
      client: `${ends[1]}.${ends[2]}`,
      server: `${ends[3]}.${ends[4]}`,
      hassh: c === null ? undefined : c[1].toLowerCase(),
      hasshServer: s === null ? undefined : s[1].toLowerCase(),
    });
  }
  return refs;
}

/** suricata-verify checks name no endpoints: these captures hold one SSH connection each. */
function suricataRefs(file: string, text: string): SshReference[] {
  const c = /ssh\.client\.hassh\.hash: "([0-9a-f]+)"/.exec(text);
  const s = /ssh\.server\.hassh\.hash: "([0-9a-f]+)"/.exec(text);
  if (c === null && s === null) return [];
  return [{ source: 'suricata', file, hassh: c?.[1], hasshServer: s?.[1] }];
}

function zeekRefs(file: string, text: string): SshReference[] {
  const lines = text.split('\n');
  const fields = lines.find((l) => l.startsWith('#fields'))?.split('\t').slice(1) ?? [];
  const col = (name: string): number => fields.indexOf(name);
  const unset = (v: string): string | null => (v === '-' ? null : v);
  return lines.filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const v = l.split('\t');
    return {
      source: 'zeek', file,
      client: `${v[col('id.orig_h')]}.${v[col('id.orig_p')]}`,
      server: `${v[col('id.resp_h')]}.${v[col('id.resp_p')]}`,
      clientBanner: unset(v[col('client')]),
      serverBanner: unset(v[col('server')]),
      cipher: unset(v[col('cipher_alg')]),
    } satisfies SshReference;
  });
}
