// Flow keys: a direction-free hash for sharding (both directions of a flow must reach the
// same worker), a total order on endpoints to name a canonical direction, and address text.

import type { DecodedPacket } from './packet';

// MurmurHash3 x86_32 constants (Austin Appleby, public domain): good avalanche for the cost
// of a few Math.imul calls, no allocation.
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const ENDPOINT_SEED = 0x9747b28c;
const FLOW_SEED = 0x5bd1e995;

function mixWord(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Murmur3's finaliser; the result is signed so it stays a small integer (no heap box). */
function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** State after mixing the three constant words of an IPv4-mapped address (0, 0, 0xffff). */
const V4_MAPPED_STATE = mixWord(mixWord(mixWord(ENDPOINT_SEED, 0), 0), 0xffff);

function endpointHash(words: Uint32Array, port: number): number {
  // IPv4 is the common case and its first three words are constant: start from their state.
  let h = words[0] === 0 && words[1] === 0 && words[2] === 0xffff ? V4_MAPPED_STATE
    : mixWord(mixWord(mixWord(ENDPOINT_SEED, words[0]), words[1]), words[2]);
  h = mixWord(h, words[3]);
  h = mixWord(h, port);
  return finalMix(h ^ 20);
}

/**
 * symmetricFlowHash as a signed 32-bit integer, for the per-packet path: an unsigned value
 * at or above 2^31 would be a heap number on every return. `>>> 0` gives the unsigned one.
 */
export function symmetricFlowHash32(p: DecodedPacket): number {
  // Compared as unsigned, so the order (and the hash) is that of the unsigned endpoints.
  const a = endpointHash(p.src, p.srcPort) >>> 0;
  const b = endpointHash(p.dst, p.dstPort) >>> 0;
  let h = FLOW_SEED;
  h = mixWord(h, a < b ? a : b);
  h = mixWord(h, a < b ? b : a);
  h = mixWord(h, p.proto);
  return finalMix(h ^ 12);
}

/**
 * Symmetric 32-bit hash of (addresses, ports, proto): identical for both directions of a
 * flow. Each endpoint is hashed on its own and the two hashes are combined in sorted order,
 * so swapping source and destination cannot change the result (unlike XOR, equal endpoints
 * do not cancel out). Returns an unsigned value: `hash % workers` picks a shard.
 */
export function symmetricFlowHash(p: DecodedPacket): number {
  return symmetricFlowHash32(p) >>> 0;
}

/**
 * True when the source endpoint is the "lower" one: addresses compared word by word as
 * unsigned numbers, then ports. Equal endpoints count as canonical.
 */
export function isCanonicalOrder(p: DecodedPacket): boolean {
  const s = p.src;
  const d = p.dst;
  for (let i = 0; i < 4; i++) {
    if (s[i] !== d[i]) return s[i] < d[i];
  }
  return p.srcPort <= p.dstPort;
}

/**
 * Formats four big-endian u32 address words (from `offset`): IPv4-mapped (::ffff:a.b.c.d)
 * as a dotted quad, anything else as RFC 5952 IPv6 text: lower-case hex without leading
 * zeros, the longest run of two or more zero groups (the first, on a tie) replaced by "::".
 */
export function formatAddress(words: Uint32Array | ArrayLike<number>, offset = 0): string {
  const w0 = words[offset] >>> 0;
  const w1 = words[offset + 1] >>> 0;
  const w2 = words[offset + 2] >>> 0;
  const w3 = words[offset + 3] >>> 0;
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    return `${w3 >>> 24}.${(w3 >>> 16) & 0xff}.${(w3 >>> 8) & 0xff}.${w3 & 0xff}`;
  }

  const groups = [
    w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff,
    w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff,
  ];
  // RFC 5952 section 4.2: longest zero run, at least two groups long, first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }

  if (bestStart < 0) return groups.map(hex).join(':');
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups.slice(bestStart + bestLength).map(hex).join(':');
  return `${head}::${tail}`;
}

function hex(group: number): string {
  return group.toString(16);
}
