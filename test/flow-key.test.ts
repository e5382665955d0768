// Flow keys: direction symmetry, shard spread, canonical order, RFC 5952 address text.

import t, { Test } from 'tap';
import { formatAddress, isCanonicalOrder, symmetricFlowHash } from '../src/decode/flow-key';
import { DecodedPacket, IPPROTO, newDecodedPacket } from '../src/decode/packet';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

function v4(p: DecodedPacket, src: number, dst: number): void {
  p.src.set([0, 0, 0xffff, src >>> 0]);
  p.dst.set([0, 0, 0xffff, dst >>> 0]);
}

function swapped(p: DecodedPacket): DecodedPacket {
  const q = newDecodedPacket();
  q.proto = p.proto;
  q.src.set(p.dst);
  q.dst.set(p.src);
  q.srcPort = p.dstPort;
  q.dstPort = p.srcPort;
  return q;
}

function randomPacket(next: () => number): DecodedPacket {
  const p = newDecodedPacket();
  if (next() % 2 === 0) {
    v4(p, next(), next());
  } else {
    for (let i = 0; i < 4; i++) {
      p.src[i] = next();
      p.dst[i] = next();
    }
  }
  // Some packets share an address or a port, the cases where a weak combiner cancels out.
  if (next() % 8 === 0) p.dst.set(p.src);
  p.srcPort = next() & 0xffff;
  p.dstPort = next() % 8 === 0 ? p.srcPort : next() & 0xffff;
  p.proto = [IPPROTO.TCP, IPPROTO.UDP, IPPROTO.ICMP, 47][next() % 4];
  return p;
}

t.test('hash and order are symmetric', async (t) => {
  const next = rng(42);
  let asymmetric = 0;
  let orderBroken = 0;
  for (let i = 0; i < 20000; i++) {
    const p = randomPacket(next);
    const q = swapped(p);
    if (symmetricFlowHash(p) !== symmetricFlowHash(q)) asymmetric++;
    const same = p.srcPort === p.dstPort && p.src.every((w, j) => w === p.dst[j]);
    if (!same && isCanonicalOrder(p) === isCanonicalOrder(q)) orderBroken++;
    if (same && !(isCanonicalOrder(p) && isCanonicalOrder(q))) orderBroken++;
  }
  t.equal(asymmetric, 0, 'hash(a->b) === hash(b->a)');
  t.equal(orderBroken, 0, 'exactly one direction is canonical');
});

t.test('hash depends on every field', async (t) => {
  const p = newDecodedPacket();
  v4(p, 0x0a000001, 0x0a000002);
  p.srcPort = 40000;
  p.dstPort = 443;
  p.proto = IPPROTO.TCP;
  const base = symmetricFlowHash(p);
  const variants: [string, (q: DecodedPacket) => void][] = [
    ['src address', (q) => { q.src[3] ^= 1; }],
    ['dst address high word', (q) => { q.dst[0] = 0x20010db8; }],
    ['src port', (q) => { q.srcPort++; }],
    ['dst port', (q) => { q.dstPort++; }],
    ['proto', (q) => { q.proto = IPPROTO.UDP; }],
    // (a:1 -> b:2) and (a:2 -> b:1) are different flows.
    ['ports crossed', (q) => { q.srcPort = 443; q.dstPort = 40000; }],
  ];
  for (const [name, change] of variants) {
    const q = swapped(swapped(p));
    change(q);
    t.not(symmetricFlowHash(q), base, name);
  }
  t.ok(base >= 0 && base <= 0xffffffff && Number.isInteger(base), 'unsigned 32-bit');
});

/** Fails unless every shard holds within +-10 % of an even share. */
function checkSpread(t: Test, name: string, hashes: number[]): void {
  for (const shards of [2, 4, 8]) {
    const counts = new Array<number>(shards).fill(0);
    for (const h of hashes) counts[h % shards]++;
    const even = hashes.length / shards;
    const worst = Math.max(...counts.map((c) => Math.abs(c - even) / even));
    t.ok(worst <= 0.1, `${name}, ${shards} shards: worst deviation ${(worst * 100).toFixed(2)} %`);
  }
}

t.test('flows spread evenly over shards', async (t) => {
  const next = rng(7);
  const p = newDecodedPacket();
  p.proto = IPPROTO.TCP;

  const random: number[] = [];
  for (let i = 0; i < 50000; i++) random.push(symmetricFlowHash(randomPacket(next)));
  checkSpread(t, 'random flows', random);

  // One client, one server, only the ephemeral port moves: the hardest realistic case.
  const ports: number[] = [];
  v4(p, 0x0a000001, 0x0a000002);
  p.dstPort = 443;
  for (let port = 32768; port < 32768 + 20000; port++) {
    p.srcPort = port;
    ports.push(symmetricFlowHash(p));
  }
  checkSpread(t, 'sequential source ports', ports);

  // A /16 of clients hitting one DNS server from port 53 to 53.
  const hosts: number[] = [];
  p.proto = IPPROTO.UDP;
  p.srcPort = 53;
  p.dstPort = 53;
  for (let h = 0; h < 20000; h++) {
    v4(p, 0xc0a80000 + h, 0x08080808);
    hosts.push(symmetricFlowHash(p));
  }
  checkSpread(t, 'sequential client addresses', hosts);

  // IPv6 clients differing only in the last word, both directions mixed.
  const v6: number[] = [];
  for (let h = 0; h < 20000; h++) {
    p.src.set([0x20010db8, 0, 0, h]);
    p.dst.set([0x20010db8, 0, 1, 1]);
    v6.push(symmetricFlowHash(h % 2 === 0 ? p : swapped(p)));
  }
  checkSpread(t, 'sequential IPv6 clients', v6);
});

t.test('formatAddress', async (t) => {
  const vectors: [number[], string][] = [
    [[0, 0, 0xffff, 0xc0000201], '192.0.2.1'],
    [[0, 0, 0xffff, 0], '0.0.0.0'],
    [[0, 0, 0xffff, 0xffffffff], '255.255.255.255'],
    [[0, 0, 0, 1], '::1'],
    [[0, 0, 0, 0], '::'],
    [[0xfd770000, 0, 0, 2], 'fd77::2'],
    // RFC 5952 4.2.3: on equal runs the first is shortened.
    [[0x20010db8, 0, 0x00010000, 1], '2001:db8::1:0:0:1'],
    // 4.2.3: the longest run wins even when it is not the first.
    [[0x20010000, 0x00010000, 0, 1], '2001:0:1::1'],
    // 4.2.2: a single zero group is not shortened.
    [[0x20010db8, 0x00000001, 0x00010001, 0x00010001], '2001:db8:0:1:1:1:1:1'],
    // 4.1 and 4.3: no leading zeros, lower case.
    [[0x20010db8, 0x00aa00bb, 0x0c0d0e0f, 0xabcdef01], '2001:db8:aa:bb:c0d:e0f:abcd:ef01'],
    [[0x00010000, 0, 0, 0], '1::'],
    [[0xfe800000, 0, 0x02000000, 0xfe000004], 'fe80::200:0:fe00:4'],
    // ::ffff:0:0/96 only; IPv4-compatible ::a.b.c.d stays hexadecimal.
    [[0, 0, 0, 0xc0000201], '::c000:201'],
    [[0, 0, 0xfffe, 0xc0000201], '::fffe:c000:201'],
  ];
  for (const [words, text] of vectors) {
    t.equal(formatAddress(Uint32Array.from(words)), text, text);
  }
  // Offset into a table of 8 words per slot, and a plain array.
  const table = Uint32Array.from([0, 0, 0, 1, 0, 0, 0xffff, 0x0a000001]);
  t.equal(formatAddress(table, 4), '10.0.0.1', 'offset');
  t.equal(formatAddress([0, 0, 0, 1]), '::1', 'plain array');
});
