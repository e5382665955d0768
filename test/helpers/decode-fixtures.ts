// Hand-built packet fixtures shared by the decoder tests: a hex reader, a concatenator, a
// reproducible generator, the two inner packets every encapsulation test wraps, and the
// invariant check every hostile-input test runs.

import type { Test } from 'tap';
import { DecodeCounters, decodePacket } from '../../src/decode/decode';
import { DecodedPacket, newDecodedPacket } from '../../src/decode/packet';

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${s}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** Deterministic xorshift32 so hostile-input runs are reproducible. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

// IPv4 (RFC 791): ver/IHL 45, TOS 00, total length 0x002c (44 = 20 + 20 + 4), id 1234,
// flags DF 4000, TTL 40, proto 06 TCP, checksum 0000, src 192.168.0.1, dst 192.168.0.2.
// TCP (RFC 9293): sport 12345 (3039), dport 80 (0050), seq 0x01020304, ack 0x0a0b0c0d,
// data offset 5 (0x50), flags PSH|ACK (0x18), window ffff, checksum 0000, urgent 0000.
// Payload "GET " (47455420).
export const IPV4_TCP = hex(`
  45 00 002c 1234 4000 40 06 0000 c0a80001 c0a80002
  3039 0050 01020304 0a0b0c0d 50 18 ffff 0000 0000
  47455420`);

// IPv6 (RFC 8200): 6, TC 0, flow 0 (60000000), payload length 0x000c (12), next 0x11 UDP,
// hop limit 40, src 2001:db8::1, dst 2001:db8::2. UDP: sport 54321 (d431), dport 53 (0035),
// length 000c, checksum 0000. Payload deadbeef.
export const IPV6_UDP = hex(`
  60000000 000c 11 40
  20010db8000000000000000000000001 20010db8000000000000000000000002
  d431 0035 000c 0000 deadbeef`);

// Ethernet II: dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb; the EtherType follows.
export const ETH_MACS = hex('001122334455 66778899aabb');

/**
 * Decodes and checks the invariants that must hold for any input: no throw, exactly one
 * counter on refusal, payload inside the capture and never above its wire length. Returns
 * the decoded packet (for further checks) or null when it was refused.
 */
export function decodeChecked(
  t: Test, buf: Uint8Array, off: number, caplen: number, dlt: number, label: string,
): DecodedPacket | null {
  const p = newDecodedPacket();
  const c = new DecodeCounters();
  let ok = false;
  try {
    ok = decodePacket(buf, off, caplen, dlt, p, c);
  } catch (e) {
    t.fail(`${label}: threw ${String(e)}`);
    return null;
  }
  const total = c.counts.reduce((a, b) => a + b, 0);
  if (!ok) {
    if (total !== 1) t.fail(`${label}: false with ${total} counters`);
    return null;
  }
  const end = Math.min(off + caplen, buf.length);
  if (p.payloadOffset < off || p.payloadOffset + p.payloadLength > end ||
    p.payloadLength < 0 || p.payloadLength > p.payloadLengthOnWire) {
    t.fail(`${label}: payload [${p.payloadOffset}, +${p.payloadLength}) outside [${off}, ${end})`);
  }
  if (p.ipVersion !== 4 && p.ipVersion !== 6) t.fail(`${label}: ip version ${p.ipVersion}`);
  return p;
}
