// Builders for decoded packets in unit tests of the flow layer (no capture needed).

import { DecodedPacket, IPPROTO, newDecodedPacket } from '../../src/decode/packet';

export function ipv4Words(a: string): [number, number, number, number] {
  const parts = a.split('.').map(Number);
  return [0, 0, 0xffff, ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0];
}

export interface PacketSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto?: number;
  flags?: number;
  payload?: number;
}

/** A decoded packet whose payload (if any) starts at offset 0 of the caller's buffer. */
export function packet(s: PacketSpec): DecodedPacket {
  const p = newDecodedPacket();
  p.ipVersion = 4;
  p.src.set(ipv4Words(s.src));
  p.dst.set(ipv4Words(s.dst));
  p.proto = s.proto ?? IPPROTO.TCP;
  p.srcPort = s.sport;
  p.dstPort = s.dport;
  p.tcpFlags = s.flags ?? 0x10;
  p.payloadOffset = 0;
  p.payloadLength = s.payload ?? 0;
  p.payloadLengthOnWire = s.payload ?? 0;
  return p;
}

/** Deterministic pseudo-random bytes (xorshift32), so tests never depend on luck. */
export function randomBytes(n: number, seed = 12345): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
