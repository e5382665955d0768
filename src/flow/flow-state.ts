// Fixed-size state of every flow slot, in typed arrays. Memory per slot is the sum of the
// per-slot strides below (about 350 bytes) plus the shared entropy histogram pool, so a
// table's memory is known the moment it is built.

import { DecodedPacket, ENCAP_NAMES, IPPROTO, TCP_FLAG } from '../decode/packet';
import { formatAddress } from '../decode/flow-key';
import { identifyPayload, PROTO } from '../protocols/identify';
import { FlowFingerprints } from '../fingerprints/types';
import { correctedEntropy } from './entropy';
import { DnsFeatures } from './features/dns';
import { TlsShapeFeatures } from './features/tls-shape';
import { FlowEndReason, FlowRecord } from './flow-record';
import { InspectorPool, wantsInspection } from './handshake-inspector';
import { SshShape } from './features/ssh-shape';
import { IcmpEchoFeatures } from './features/icmp-echo';

/** First payload bytes kept per direction: enough for every identify rule and an analyst. */
export const HEAD_BYTES = 64;
/** Payload bytes per direction the entropy is computed over (then the histogram is freed). */
export const ENTROPY_SAMPLE_BYTES = 4096;
/** At most this much of one packet enters the sample, so several packets contribute. */
export const ENTROPY_BYTES_PER_PACKET = 1024;
/** entValue before a sample completes, and when no histogram was free to start one. */
const ENTROPY_PENDING = -1;
const ENTROPY_REFUSED = -2;

/** Payload packets per direction offered to protocol identification before giving up. */
export const MAX_IDENTIFY_TRIES = 4;
/** Payload packets per direction searched for TLS/SSH behind a proxy handshake. */
export const MAX_INNER_TRIES = 6;

// Zeek-style history letters, one bit each per direction (upper case = client).
const HIST_LETTERS = 'SHADFR';
const H_SYN = 0;
const H_SYNACK = 1;
const H_ACK = 2;
const H_DATA = 3;
const H_FIN = 4;
const H_RST = 5;
const HISTORY_MAX = 12; // 6 letters x 2 directions, each recorded once

const ST_FIN_C = 1;
const ST_FIN_S = 2;
const ST_RST = 4;

export class FlowState {
  /** flowHashOf of the slot's flow (signed, as that returns it). */
  readonly hash: Int32Array;
  /** Client address words 0..3, server address words 4..7. */
  readonly addr: Uint32Array;
  readonly clientPort: Uint16Array;
  readonly serverPort: Uint16Array;
  readonly ipProto: Uint8Array;
  readonly vlan: Int16Array;
  /** How the flow's packets were carried (ENCAP code of its first packet; 0 = bare). */
  readonly encap: Uint8Array;
  readonly generation: Uint32Array;
  readonly firstTs: Float64Array;
  readonly lastTs: Float64Array;
  readonly lastReportTs: Float64Array;
  readonly reportSeq: Uint16Array;
  readonly packets: Float64Array; // [slot*2 + dir]
  readonly bytes: Float64Array;
  readonly payloadBytes: Float64Array;
  readonly tcpState: Uint8Array;
  readonly historyBits: Uint16Array;
  readonly history: Uint8Array; // HISTORY_MAX per slot
  readonly historyLen: Uint8Array;
  readonly proto: Uint8Array; // [slot*2 + dir]
  readonly identifyTries: Uint8Array;
  /** Payload packets searched for a session inside a proxy handshake, per direction. */
  readonly innerTries: Uint8Array;
  readonly head: Uint8Array; // HEAD_BYTES per slot and direction
  readonly headLen: Uint8Array;
  readonly entSlot: Int32Array; // histogram in the pool, or -1
  readonly entCount: Uint16Array;
  readonly entValue: Float32Array; // -1 until computed
  /** Handshake inspector index per slot, -1 when none is attached. */
  readonly inspector: Int32Array;
  /** 1 once a slot's inspection finished or was refused: no second try. */
  readonly inspected: Uint8Array;
  /** Fingerprints of finished inspections; only flows with a handshake have an entry. */
  readonly fingerprints: Array<FlowFingerprints | undefined>;
  readonly inspectors: InspectorPool;
  /** Session-shape counters of SSH flows (a pool of its own). */
  readonly sshShape: SshShape;
  /** Echo features of ICMP/ICMPv6 flows (pooled: only those flows take an entry). */
  readonly icmp: IcmpEchoFeatures;
  readonly dns: DnsFeatures;
  readonly tlsShape: TlsShapeFeatures;
  private readonly pool: Uint16Array;
  private readonly poolFree: Int32Array;
  private poolTop: number;
  /** Samples that could not start because every histogram was in use. */
  entropyPoolExhausted = 0;

  constructor(capacity: number, poolSize: number, inspectorPool: number) {
    const c = capacity;
    this.inspector = new Int32Array(c).fill(-1);
    this.inspected = new Uint8Array(c);
    this.fingerprints = new Array<FlowFingerprints | undefined>(c);
    this.inspectors = new InspectorPool(inspectorPool);
    this.sshShape = new SshShape(c);
    this.icmp = new IcmpEchoFeatures(c);
    this.dns = new DnsFeatures(c);
    this.tlsShape = new TlsShapeFeatures(c);
    this.hash = new Int32Array(c);
    this.addr = new Uint32Array(c * 8);
    this.clientPort = new Uint16Array(c);
    this.serverPort = new Uint16Array(c);
    this.ipProto = new Uint8Array(c);
    this.vlan = new Int16Array(c);
    this.encap = new Uint8Array(c);
    this.generation = new Uint32Array(c);
    this.firstTs = new Float64Array(c);
    this.lastTs = new Float64Array(c);
    this.lastReportTs = new Float64Array(c);
    this.reportSeq = new Uint16Array(c);
    this.packets = new Float64Array(c * 2);
    this.bytes = new Float64Array(c * 2);
    this.payloadBytes = new Float64Array(c * 2);
    this.tcpState = new Uint8Array(c);
    this.historyBits = new Uint16Array(c);
    this.history = new Uint8Array(c * HISTORY_MAX);
    this.historyLen = new Uint8Array(c);
    this.proto = new Uint8Array(c * 2);
    this.identifyTries = new Uint8Array(c * 2);
    this.innerTries = new Uint8Array(c * 2);
    this.head = new Uint8Array(c * 2 * HEAD_BYTES);
    this.headLen = new Uint8Array(c * 2);
    this.entSlot = new Int32Array(c * 2).fill(-1);
    this.entCount = new Uint16Array(c * 2);
    this.entValue = new Float32Array(c * 2).fill(-1);
    this.pool = new Uint16Array(poolSize * 256);
    this.poolFree = new Int32Array(poolSize);
    for (let i = 0; i < poolSize; i++) this.poolFree[i] = i;
    this.poolTop = poolSize;
  }

  /** Set up a fresh slot; decides which side is the client (originator). */
  init(slot: number, p: DecodedPacket, hash: number, ts: number): void {
    this.hash[slot] = hash;
    this.generation[slot]++;
    const srcIsClient = guessSourceIsClient(p);
    const a = this.addr;
    const base = slot * 8;
    const c = srcIsClient ? p.src : p.dst;
    const s = srcIsClient ? p.dst : p.src;
    a[base] = c[0]; a[base + 1] = c[1]; a[base + 2] = c[2]; a[base + 3] = c[3];
    a[base + 4] = s[0]; a[base + 5] = s[1]; a[base + 6] = s[2]; a[base + 7] = s[3];
    this.clientPort[slot] = srcIsClient ? p.srcPort : p.dstPort;
    this.serverPort[slot] = srcIsClient ? p.dstPort : p.srcPort;
    this.ipProto[slot] = p.proto;
    this.vlan[slot] = p.vlan;
    this.encap[slot] = p.encap;
    this.firstTs[slot] = ts;
    this.lastTs[slot] = ts;
    this.lastReportTs[slot] = ts;
    this.reportSeq[slot] = 0;
    const d = slot * 2;
    this.packets[d] = 0; this.packets[d + 1] = 0;
    this.bytes[d] = 0; this.bytes[d + 1] = 0;
    this.payloadBytes[d] = 0; this.payloadBytes[d + 1] = 0;
    this.tcpState[slot] = 0;
    this.historyBits[slot] = 0;
    this.historyLen[slot] = 0;
    this.proto[d] = 0; this.proto[d + 1] = 0;
    this.identifyTries[d] = 0; this.identifyTries[d + 1] = 0;
    this.innerTries[d] = 0; this.innerTries[d + 1] = 0;
    this.headLen[d] = 0; this.headLen[d + 1] = 0;
    this.entCount[d] = 0; this.entCount[d + 1] = 0;
    this.entValue[d] = -1; this.entValue[d + 1] = -1;
    this.inspector[slot] = -1;
    this.inspected[slot] = 0;
    this.fingerprints[slot] = undefined;
    this.sshShape.init(slot);
    this.dns.release(slot);
    this.tlsShape.release(slot);
  }

  /** Does the packet belong to this slot's flow, in either direction? */
  matches(slot: number, p: DecodedPacket): boolean {
    return this.ipProto[slot] === p.proto &&
      (this.sameEnds(slot, p.src, p.dst, p.srcPort, p.dstPort) ||
        this.sameEnds(slot, p.dst, p.src, p.dstPort, p.srcPort));
  }

  /** 0 when the packet comes from the client, 1 otherwise (valid only if matches()). */
  directionOf(slot: number, p: DecodedPacket): number {
    return this.sameEnds(slot, p.src, p.dst, p.srcPort, p.dstPort) ? 0 : 1;
  }

  private sameEnds(slot: number, c: Uint32Array, s: Uint32Array, cp: number, sp: number): boolean {
    const a = this.addr;
    const b = slot * 8;
    return this.clientPort[slot] === cp && this.serverPort[slot] === sp &&
      a[b + 3] === c[3] && a[b + 7] === s[3] && a[b + 2] === c[2] && a[b + 6] === s[2] &&
      a[b + 1] === c[1] && a[b + 5] === s[1] && a[b] === c[0] && a[b + 4] === s[0];
  }

  isClosed(slot: number): boolean {
    const t = this.tcpState[slot];
    return (t & ST_RST) !== 0 || (t & (ST_FIN_C | ST_FIN_S)) === (ST_FIN_C | ST_FIN_S) ||
      (this.ipProto[slot] === IPPROTO.UDP && this.dns.answered(slot));
  }

  /** Fold one packet into the flow: counters, TCP history, identification, entropy sample. */
  account(slot: number, dir: number, p: DecodedPacket, buf: Uint8Array, wireLen: number,
    ts: number): void {
    const d = slot * 2 + dir;
    this.packets[d]++;
    this.bytes[d] += wireLen;
    this.payloadBytes[d] += p.payloadLengthOnWire;
    if (ts > this.lastTs[slot]) this.lastTs[slot] = ts;
    if (p.proto === IPPROTO.TCP) this.accountTcp(slot, dir, p.tcpFlags, p.payloadLength > 0);
    // gap: fragmented echoes are skipped (a first fragment cannot be told from a later one
    // once the ports are zeroed); tunnels keep their echoes under the MTU to stay reliable.
    else if ((p.proto === IPPROTO.ICMP || p.proto === IPPROTO.ICMPV6) && !p.fragment) {
      this.icmp.update(slot, p.proto, buf, p.payloadOffset, p.payloadLength);
    }
    const len = p.payloadLength;
    if (len === 0) {
      if (this.sshShape.entry[slot] >= 0) this.sshShape.update(slot, dir, p, buf, ts);
      return;
    }
    const off = p.payloadOffset;
    if (this.proto[d] === 0 && this.identifyTries[d] < MAX_IDENTIFY_TRIES) {
      this.identifyTries[d]++;
      this.proto[d] = identifyPayload(buf, off, len, p.proto, dir === 0);
    }
    if (this.sshShape.entry[slot] >= 0 || this.proto[d] === PROTO.SSH) {
      this.sshShape.update(slot, dir, p, buf, ts);
    }
    if (this.inspected[slot] === 0) this.inspect(slot, dir, p, buf, off, len);
    const have = this.headLen[d];
    if (have < HEAD_BYTES) {
      const n = Math.min(HEAD_BYTES - have, len);
      // A loop, not head.set(buf.subarray()): no view object per payload packet.
      const head = this.head;
      for (let i = 0, to = d * HEAD_BYTES + have; i < n; i++) head[to + i] = buf[off + i];
      this.headLen[d] = have + n;
    }
    if (this.entValue[d] === ENTROPY_PENDING) this.sampleEntropy(d, buf, off, len);
    const proto = this.proto[d] !== 0 ? this.proto[d] : this.proto[d ^ 1];
    if (proto === PROTO.DNS) this.dns.update(slot, p.proto === IPPROTO.TCP, buf, off, len);
    else if (proto === PROTO.TLS && p.proto === IPPROTO.TCP) {
      this.tlsShape.update(slot, dir, p.tcpSeq, buf, off, len, ts);
    }
  }

  /** Hand the payload to the flow's handshake inspector, attaching one when due. */
  private inspect(slot: number, dir: number, p: DecodedPacket, buf: Uint8Array, off: number,
    len: number): void {
    let i = this.inspector[slot];
    if (i < 0) {
      let proto = this.proto[slot * 2 + dir];
      if (isProxy(proto) || isProxy(this.proto[slot * 2 + (dir ^ 1)])) {
        // Behind an HTTP CONNECT or SOCKS handshake the real session starts later: look for
        // a TLS or SSH opening in the next few packets and inspect from there.
        const d = slot * 2 + dir;
        if (this.innerTries[d] >= MAX_INNER_TRIES) {
          if (this.inspectionSettled(slot)) this.inspected[slot] = 1;
          return;
        }
        this.innerTries[d]++;
        proto = identifyPayload(buf, off, len, p.proto, dir === 0);
      }
      if (!wantsInspection(proto)) {
        // Once nothing can start an inspection any more, the flow takes the fast path.
        if (this.inspectionSettled(slot)) this.inspected[slot] = 1;
        return;
      }
      i = this.inspectors.acquire(proto);
      if (i < 0) {
        this.inspected[slot] = 1;
        return;
      }
      this.inspector[slot] = i;
    }
    const ins = this.inspectors.get(i);
    ins.add(dir, p.tcpSeq, (p.tcpFlags & TCP_FLAG.SYN) !== 0, buf, off, len);
    if (ins.finished) this.finishInspection(slot);
  }

  /**
   * True when no later packet can attach an inspector: both directions are identified (or
   * out of tries) as something not inspected, and any search behind a proxy is over.
   */
  private inspectionSettled(slot: number): boolean {
    const d = slot * 2;
    const proxied = isProxy(this.proto[d]) || isProxy(this.proto[d + 1]);
    for (let e = d; e < d + 2; e++) {
      if (this.proto[e] === 0 && this.identifyTries[e] < MAX_IDENTIFY_TRIES) return false;
      if (wantsInspection(this.proto[e])) return false;
      if (proxied && this.innerTries[e] < MAX_INNER_TRIES) return false;
    }
    return true;
  }

  private finishInspection(slot: number): void {
    const i = this.inspector[slot];
    const ins = this.inspectors.get(i);
    this.fingerprints[slot] = ins.result();
    if (ins.proto === PROTO.SSH) this.sshShape.setKexInits(slot, ...ins.sshKexInits());
    this.inspectors.release(i);
    this.inspector[slot] = -1;
    this.inspected[slot] = 1;
  }

  /** Fingerprints so far: finished ones, or what an inspector still at work has. */
  fingerprintsOf(slot: number): FlowFingerprints | undefined {
    const i = this.inspector[slot];
    return i >= 0 ? this.inspectors.get(i).result() : this.fingerprints[slot];
  }

  private accountTcp(slot: number, dir: number, flags: number, hasData: boolean): void {
    const syn = (flags & TCP_FLAG.SYN) !== 0;
    const ack = (flags & TCP_FLAG.ACK) !== 0;
    if (syn) this.addHistory(slot, dir, ack ? H_SYNACK : H_SYN);
    else if (hasData) this.addHistory(slot, dir, H_DATA);
    else if (ack) this.addHistory(slot, dir, H_ACK);
    if ((flags & TCP_FLAG.FIN) !== 0) {
      this.addHistory(slot, dir, H_FIN);
      this.tcpState[slot] |= dir === 0 ? ST_FIN_C : ST_FIN_S;
    }
    if ((flags & TCP_FLAG.RST) !== 0) {
      this.addHistory(slot, dir, H_RST);
      this.tcpState[slot] |= ST_RST;
    }
  }

  private addHistory(slot: number, dir: number, letter: number): void {
    const bit = 1 << (letter + dir * 6);
    if ((this.historyBits[slot] & bit) !== 0) return;
    this.historyBits[slot] |= bit;
    const n = this.historyLen[slot];
    this.history[slot * HISTORY_MAX + n] = letter + dir * 6;
    this.historyLen[slot] = n + 1;
  }

  private sampleEntropy(d: number, buf: Uint8Array, off: number, len: number): void {
    let h = this.entSlot[d];
    if (h < 0) {
      if (this.poolTop === 0) {
        this.entropyPoolExhausted++;
        this.entValue[d] = ENTROPY_REFUSED; // not retried: the counter counts directions
        return;
      }
      h = this.poolFree[--this.poolTop];
      this.pool.fill(0, h * 256, h * 256 + 256);
      this.entSlot[d] = h;
    }
    const count = this.entCount[d];
    const n = Math.min(len, ENTROPY_BYTES_PER_PACKET, ENTROPY_SAMPLE_BYTES - count);
    const pool = this.pool;
    const base = h * 256;
    for (let i = off, end = off + n; i < end; i++) pool[base + buf[i]]++;
    this.entCount[d] = count + n;
    if (count + n >= ENTROPY_SAMPLE_BYTES) this.finishEntropy(d);
  }

  private finishEntropy(d: number): void {
    const h = this.entSlot[d];
    if (h < 0) return;
    this.entValue[d] = correctedEntropy(this.pool, h * 256, this.entCount[d]);
    this.entSlot[d] = -1;
    this.poolFree[this.poolTop++] = h;
  }

  private entropyNow(d: number): number {
    const h = this.entSlot[d];
    if (h >= 0) return correctedEntropy(this.pool, h * 256, this.entCount[d]);
    const v = this.entValue[d];
    return v >= 0 ? Math.round(v * 1000) / 1000 : -1;
  }

  /** Give back pooled resources when a slot ends. */
  release(slot: number): void {
    this.icmp.release(slot);
    if (this.inspector[slot] >= 0) {
      this.inspectors.release(this.inspector[slot]);
      this.inspector[slot] = -1;
    }
    this.fingerprints[slot] = undefined;
    this.sshShape.release(slot);
    this.dns.release(slot);
    this.tlsShape.release(slot);
    for (let d = slot * 2; d < slot * 2 + 2; d++) {
      const h = this.entSlot[d];
      if (h >= 0) {
        this.entSlot[d] = -1;
        this.poolFree[this.poolTop++] = h;
      }
    }
  }

  toRecord(slot: number, shard: number, reason: FlowEndReason): FlowRecord {
    const d = slot * 2;
    let history = '';
    for (let i = 0; i < this.historyLen[slot]; i++) {
      const code = this.history[slot * HISTORY_MAX + i];
      const ch = HIST_LETTERS[code % 6];
      history += code >= 6 ? ch.toLowerCase() : ch;
    }
    const round = (x: number) => (x < 0 ? -1 : Math.round(x * 1000) / 1000);
    return {
      flowId: `${shard.toString(36)}.${slot.toString(36)}.${this.generation[slot].toString(36)}`,
      reportSeq: this.reportSeq[slot],
      final: reason !== 'active',
      reason,
      clientIp: formatAddress(this.addr, slot * 8),
      clientPort: this.clientPort[slot],
      serverIp: formatAddress(this.addr, slot * 8 + 4),
      serverPort: this.serverPort[slot],
      ipProto: this.ipProto[slot],
      vlan: this.vlan[slot],
      firstTs: this.firstTs[slot],
      lastTs: this.lastTs[slot],
      packets: [this.packets[d], this.packets[d + 1]],
      bytes: [this.bytes[d], this.bytes[d + 1]],
      payloadBytes: [this.payloadBytes[d], this.payloadBytes[d + 1]],
      history,
      protoByDir: [this.proto[d], this.proto[d + 1]],
      identifiedAt: [this.proto[d] === 0 ? 0 : this.identifyTries[d],
        this.proto[d + 1] === 0 ? 0 : this.identifyTries[d + 1]],
      entropy: [round(this.entropyNow(d)), round(this.entropyNow(d + 1))],
      entropySample: [this.entCount[d], this.entCount[d + 1]],
      head: [this.headHex(d), this.headHex(d + 1)],
      fingerprints: this.fingerprintsOf(slot),
      encapsulation: this.encap[slot] === 0 ? undefined : ENCAP_NAMES[this.encap[slot]],
      sshShape: this.sshShape.toRecord(slot),
      icmpEcho: this.ipProto[slot] === IPPROTO.TCP ? undefined : this.icmp.toRecord(slot),
      dns: this.dns.toRecord(slot),
      tlsShape: this.tlsShape.toRecord(slot),
    };
  }

  private headHex(d: number): string {
    const start = d * HEAD_BYTES;
    return Buffer.from(this.head.buffer, this.head.byteOffset + start, this.headLen[d])
      .toString('hex');
  }
}

/** Protocols that open a tunnel for another session on the same connection. */
function isProxy(proto: number): boolean {
  return proto === PROTO.HTTP || proto === PROTO.SOCKS4 || proto === PROTO.SOCKS5;
}

/** Ports below this are treated as service ports when guessing a mid-stream flow's client. */
const SERVICE_PORT_LIMIT = 1024;

/**
 * Which side started the flow. A SYN names the client outright (SYN+ACK names the server);
 * for flows first seen mid-stream the side on the lower, service-looking port is the server.
 */
function guessSourceIsClient(p: DecodedPacket): boolean {
  if (p.proto === IPPROTO.TCP && (p.tcpFlags & TCP_FLAG.SYN) !== 0) {
    return (p.tcpFlags & TCP_FLAG.ACK) === 0;
  }
  if (p.proto === IPPROTO.ICMP || p.proto === IPPROTO.ICMPV6) return true;
  const sService = p.srcPort < SERVICE_PORT_LIMIT;
  const dService = p.dstPort < SERVICE_PORT_LIMIT;
  if (sService !== dService) return dService;
  // Both ephemeral or both low: the lower port is more likely the service (e.g. 8080, 53).
  return p.dstPort <= p.srcPort;
}
