// Per-flow DNS summary for flows identified as DNS (UDP, or TCP with its 2-byte length
// prefix): message counts, the shape of the query names (length, labels, entropy of the part
// under the registered domain), question types, and for the first few registered domains a
// distinct-name sketch the correlator can merge across flows. Tunnel detection
// (src/signals/dns-tunnel.ts) judges these; nothing here holds a threshold.
//
// State comes from a bounded pool (a DNS flow takes an entry on its first DNS message), so
// the table's memory stays known; names are measured for the first DNS_MAX_MEASURED
// questions of a flow only, after which messages are just counted.

import { u16be } from '../../protocols/reader';
import {
  labelsEntropy, labelText, lowerByte, registeredLabelCount, walkDnsName,
} from '../../protocols/dns/names';
import type { NameCursor } from '../../protocols/dns/names';
import { MAX_DNS_LABELS } from '../../protocols/dns/record-types';
import { DNS_HEADER_BYTES, DNS_TCP_LENGTH_BYTES } from '../../protocols/dns/constants';
import { DNS_TYPE } from '../../protocols/dns/record-types';

/** Questions per flow whose names are read and measured; later messages are only counted. */
export const DNS_MAX_MEASURED = 256;
/** Registered domains per flow that get their own counters and sketch. */
export const DNS_MAX_DOMAINS = 4;
/** Bits of each distinct-name sketch (linear counting; useful up to a few thousand names). */
export const DNS_SKETCH_BITS = 256;
const SKETCH_WORDS = DNS_SKETCH_BITS / 32;
/**
 * Shortest subdomain part (bytes) whose entropy is counted: a string of n bytes cannot
 * exceed log2(n) bits/byte, so short names would only drag the mean down.
 */
export const DNS_ENTROPY_MIN_BYTES = 16;
/** Pool entries when the table is large: DNS flows are a minority of a busy link. */
export const DNS_POOL_MAX = 8192;

/** Question types counted, in the order of DnsFlowSummary.types. */
const TYPE_INDEX: Record<number, number> = {
  [DNS_TYPE.A]: 0, [DNS_TYPE.AAAA]: 1, [DNS_TYPE.TXT]: 2, [DNS_TYPE.NULL]: 3,
  [DNS_TYPE.CNAME]: 4, [DNS_TYPE.MX]: 5, [DNS_TYPE.ANY]: 6,
};
const TYPE_OTHER = 7;
const TYPE_SLOTS = 8;
const LEN_STRIDE = 6;
const RCODE_NXDOMAIN = 3; // RFC 1035 section 4.1.1

export interface DnsDomainSummary {
  /** Registered domain, lower case (see registeredDomain for its shortcut). */
  domain: string;
  queries: number;
  meanSubdomainBytes: number;
  maxSubdomainBytes: number;
  /** Mean bits/byte over this domain's subdomain parts long enough to count; -1 if none. */
  subdomainEntropy: number;
  /** Distinct-name sketch: DNS_SKETCH_BITS bits as 32-bit words, for merging across flows. */
  sketch: number[];
}

export interface DnsFlowSummary {
  queries: number;
  responses: number;
  nxdomain: number;
  /** Messages whose header or first question could not be read. */
  malformed: number;
  /** Questions whose name was measured (at most DNS_MAX_MEASURED). */
  measured: number;
  /** Estimated distinct query names among the measured ones. */
  distinctNames: number;
  maxNameBytes: number;
  maxLabelBytes: number;
  meanLabelBytes: number;
  /** Longest part under the registered domain, in bytes. */
  maxSubdomainBytes: number;
  meanSubdomainBytes: number;
  /** Mean bits/byte over subdomain parts of >= DNS_ENTROPY_MIN_BYTES bytes; -1 if none. */
  subdomainEntropy: number;
  /** Subdomain parts the entropy mean is over. */
  entropySamples: number;
  types: { a: number; aaaa: number; txt: number; null: number; cname: number; mx: number;
    any: number; other: number };
  /** Registered domains of the first questions, at most DNS_MAX_DOMAINS. */
  domains: DnsDomainSummary[];
}

/** Linear-counting estimate of distinct items from a bitmap with `zero` of `m` bits unset. */
export function sketchEstimate(zero: number, m: number): number {
  if (zero === 0) return Math.round(m * Math.log(m)); // saturated: a floor, not a value
  return Math.round(-m * Math.log(zero / m));
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export class DnsFeatures {
  /** Pool entry per flow slot, -1 when the flow has none. */
  private readonly entry: Int32Array;
  private readonly free: Int32Array;
  private top: number;
  private readonly counts: Uint32Array; // queries, responses, nxdomain, malformed, measured
  private readonly lengths: Uint32Array; // maxName, maxLabel, labelBytes, labels, maxSub, sub
  private readonly entropy: Float64Array; // sum, samples
  private readonly types: Uint32Array;
  private readonly sketch: Uint32Array; // flow-wide sketch
  private readonly domainQueries: Uint32Array;
  /** Per domain: subdomain bytes summed, longest subdomain, entropy sum and samples. */
  private readonly domainSub: Uint32Array;
  private readonly domainEnt: Float64Array;
  private readonly domainSketch: Uint32Array;
  private readonly domainNames: Array<string[] | undefined>;
  private readonly cursor: NameCursor = { next: 0, failure: undefined };
  /** The labels of the name being measured: first byte and length of each, leftmost first. */
  private readonly labelStart = new Int32Array(MAX_DNS_LABELS);
  private readonly labelLength = new Uint8Array(MAX_DNS_LABELS);
  /** DNS flows that found the pool empty and go without a summary. */
  poolExhausted = 0;

  constructor(capacity: number, poolSize = Math.min(capacity, DNS_POOL_MAX)) {
    this.entry = new Int32Array(capacity).fill(-1);
    this.free = new Int32Array(poolSize);
    for (let i = 0; i < poolSize; i++) this.free[i] = i;
    this.top = poolSize;
    this.counts = new Uint32Array(poolSize * 5);
    this.lengths = new Uint32Array(poolSize * LEN_STRIDE);
    this.entropy = new Float64Array(poolSize * 2);
    this.types = new Uint32Array(poolSize * TYPE_SLOTS);
    this.sketch = new Uint32Array(poolSize * SKETCH_WORDS);
    this.domainQueries = new Uint32Array(poolSize * DNS_MAX_DOMAINS);
    this.domainSub = new Uint32Array(poolSize * DNS_MAX_DOMAINS * 2);
    this.domainEnt = new Float64Array(poolSize * DNS_MAX_DOMAINS * 2);
    this.domainSketch = new Uint32Array(poolSize * DNS_MAX_DOMAINS * SKETCH_WORDS);
    this.domainNames = new Array<string[] | undefined>(poolSize);
  }

  /** One payload of a DNS flow: a whole UDP datagram, or a TCP segment. */
  update(slot: number, tcp: boolean, buf: Uint8Array, off: number, len: number): void {
    let e = this.entry[slot];
    if (e < 0) {
      if (this.entry[slot] === -2) return; // refused earlier
      if (this.top === 0) {
        this.poolExhausted++;
        this.entry[slot] = -2;
        return;
      }
      e = this.free[--this.top];
      this.counts.fill(0, e * 5, e * 5 + 5);
      this.lengths.fill(0, e * LEN_STRIDE, (e + 1) * LEN_STRIDE);
      this.entropy[e * 2] = 0;
      this.entropy[e * 2 + 1] = 0;
      this.types.fill(0, e * TYPE_SLOTS, (e + 1) * TYPE_SLOTS);
      this.sketch.fill(0, e * SKETCH_WORDS, (e + 1) * SKETCH_WORDS);
      this.domainQueries.fill(0, e * DNS_MAX_DOMAINS, (e + 1) * DNS_MAX_DOMAINS);
      this.domainSub.fill(0, e * DNS_MAX_DOMAINS * 2, (e + 1) * DNS_MAX_DOMAINS * 2);
      this.domainEnt.fill(0, e * DNS_MAX_DOMAINS * 2, (e + 1) * DNS_MAX_DOMAINS * 2);
      const w = DNS_MAX_DOMAINS * SKETCH_WORDS;
      this.domainSketch.fill(0, e * w, (e + 1) * w);
      this.domainNames[e] = [];
      this.entry[slot] = e;
    }
    const end = off + len;
    if (!tcp) {
      this.message(e, buf, off, end);
      return;
    }
    // shortcut: only messages that start at a segment's first byte and end inside it are
    // read (queries and short answers almost always do); the rest is counted as malformed
    // rather than reassembled, which a DNS-over-TCP tunnel of big messages could exploit.
    let p = off;
    for (let i = 0; i < 8 && p + DNS_TCP_LENGTH_BYTES <= end; i++) {
      const n = u16be(buf, p, end);
      const start = p + DNS_TCP_LENGTH_BYTES;
      if (n < DNS_HEADER_BYTES || start + n > end) {
        this.counts[e * 5 + 3]++;
        return;
      }
      this.message(e, buf, start, start + n);
      p = start + n;
    }
  }

  private message(e: number, buf: Uint8Array, off: number, end: number): void {
    const c = e * 5;
    const flags = u16be(buf, off + 2, end);
    const qd = u16be(buf, off + 4, end);
    if (flags < 0 || qd < 0) {
      this.counts[c + 3]++;
      return;
    }
    const response = (flags & 0x8000) !== 0;
    if (response) {
      this.counts[c + 1]++;
      if ((flags & 0x000f) === RCODE_NXDOMAIN) this.counts[c + 2]++;
      return; // the question is the query's, already measured
    }
    this.counts[c]++;
    if (qd === 0 || this.counts[c + 4] >= DNS_MAX_MEASURED) return;
    const labels = walkDnsName(buf, off, off + DNS_HEADER_BYTES, end, this.cursor,
      this.labelStart, this.labelLength);
    const qtype = labels < 0 ? -1 : u16be(buf, this.cursor.next, end);
    if (qtype < 0) {
      this.counts[c + 3]++;
      return;
    }
    this.counts[c + 4]++;
    this.types[e * TYPE_SLOTS + (TYPE_INDEX[qtype] ?? TYPE_OTHER)]++;
    this.measure(e, buf, end, labels);
  }

  /**
   * Measures the question name whose `labels` labels walkDnsName left in labelStart and
   * labelLength, straight from the message bytes (this runs for every question of a DNS
   * flow, up to DNS_MAX_MEASURED). Names compare without case, so letters are folded
   * before anything is counted or hashed.
   */
  private measure(e: number, buf: Uint8Array, end: number, labels: number): void {
    const l = e * LEN_STRIDE;
    const lengths = this.lengths;
    const start = this.labelStart;
    const length = this.labelLength;
    let wire = 1;
    let hash = FNV_OFFSET;
    for (let i = 0; i < labels; i++) {
      const n = length[i];
      wire += 1 + n;
      if (n > lengths[l + 1]) lengths[l + 1] = n;
      lengths[l + 2] += n;
      lengths[l + 3]++;
      // The length byte goes into the hash too, so "ab.c" and "a.bc" differ.
      hash = Math.imul(hash ^ n, FNV_PRIME);
      for (let j = start[i], stop = j + n; j < stop; j++) {
        hash = Math.imul(hash ^ lowerByte(buf[j]), FNV_PRIME);
      }
    }
    if (wire > lengths[l]) lengths[l] = wire;
    // The registered domain is the only string made per question (up to three labels).
    const top = labels > 0 ? this.labelAt(buf, end, labels - 1) : '';
    const second = labels > 1 ? this.labelAt(buf, end, labels - 2) : '';
    const domainLabels = registeredLabelCount(labels, top, second);
    let domain = top;
    if (domainLabels >= 2) domain = `${second}.${top}`;
    if (domainLabels === 3) domain = `${this.labelAt(buf, end, labels - 3)}.${domain}`;
    const subLabels = labels - domainLabels;
    let subBytes = 0;
    for (let i = 0; i < subLabels; i++) subBytes += length[i] + (i > 0 ? 1 : 0);
    if (subBytes > lengths[l + 4]) lengths[l + 4] = subBytes;
    lengths[l + 5] += subBytes;
    const entropy = subBytes >= DNS_ENTROPY_MIN_BYTES
      ? labelsEntropy(buf, this.labelStart, this.labelLength, subLabels, true) : -1;
    if (entropy >= 0) {
      this.entropy[e * 2] += entropy;
      this.entropy[e * 2 + 1]++;
    }
    const bit = (hash >>> 0) % DNS_SKETCH_BITS;
    this.sketch[e * SKETCH_WORDS + (bit >>> 5)] |= 1 << (bit & 31);
    const names = this.domainNames[e] as string[];
    let d = names.indexOf(domain);
    if (d < 0) {
      if (names.length === DNS_MAX_DOMAINS) return;
      d = names.length;
      names.push(domain);
    }
    const dd = e * DNS_MAX_DOMAINS + d;
    this.domainQueries[dd]++;
    this.domainSub[dd * 2] += subBytes;
    if (subBytes > this.domainSub[dd * 2 + 1]) this.domainSub[dd * 2 + 1] = subBytes;
    if (entropy >= 0) {
      this.domainEnt[dd * 2] += entropy;
      this.domainEnt[dd * 2 + 1]++;
    }
    const base = (e * DNS_MAX_DOMAINS + d) * SKETCH_WORDS;
    this.domainSketch[base + (bit >>> 5)] |= 1 << (bit & 31);
  }

  /** Label i of the name being measured, in presentation form, lower case. */
  private labelAt(buf: Uint8Array, end: number, i: number): string {
    const from = this.labelStart[i];
    return labelText(buf, from, from + this.labelLength[i], end, true);
  }

  /**
   * Every query so far has its response: a UDP exchange that is over, which the flow table
   * may end after its short closed timeout instead of the long idle one (a stub resolver
   * uses a fresh port per query, so nothing more will come on most of these flows).
   */
  answered(slot: number): boolean {
    const e = this.entry[slot];
    if (e < 0) return false;
    const q = this.counts[e * 5];
    return q > 0 && this.counts[e * 5 + 1] >= q;
  }

  release(slot: number): void {
    const e = this.entry[slot];
    this.entry[slot] = -1;
    if (e < 0) return;
    this.domainNames[e] = undefined;
    this.free[this.top++] = e;
  }

  toRecord(slot: number): DnsFlowSummary | undefined {
    const e = this.entry[slot];
    if (e < 0) return undefined;
    const c = this.counts;
    const l = this.lengths;
    const t = this.types.subarray(e * TYPE_SLOTS, (e + 1) * TYPE_SLOTS);
    let zero = 0;
    for (let i = 0; i < SKETCH_WORDS; i++) {
      zero += 32 - popcount32(this.sketch[e * SKETCH_WORDS + i]);
    }
    const samples = this.entropy[e * 2 + 1];
    const names = this.domainNames[e] as string[];
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const le = e * LEN_STRIDE;
    return {
      queries: c[e * 5], responses: c[e * 5 + 1], nxdomain: c[e * 5 + 2],
      malformed: c[e * 5 + 3], measured: c[e * 5 + 4],
      distinctNames: c[e * 5 + 4] === 0 ? 0 : sketchEstimate(zero, DNS_SKETCH_BITS),
      maxNameBytes: l[le], maxLabelBytes: l[le + 1],
      meanLabelBytes: l[le + 3] === 0 ? 0 : round(l[le + 2] / l[le + 3]),
      maxSubdomainBytes: l[le + 4],
      meanSubdomainBytes: c[e * 5 + 4] === 0 ? 0 : round(l[le + 5] / c[e * 5 + 4]),
      subdomainEntropy: samples === 0 ? -1 : round(this.entropy[e * 2] / samples),
      entropySamples: samples,
      types: { a: t[0], aaaa: t[1], txt: t[2], null: t[3], cname: t[4], mx: t[5], any: t[6],
        other: t[7] },
      domains: names.map((domain, d) => {
        const dd = e * DNS_MAX_DOMAINS + d;
        const base = dd * SKETCH_WORDS;
        const n = this.domainQueries[dd];
        const es = this.domainEnt[dd * 2 + 1];
        return {
          domain, queries: n,
          meanSubdomainBytes: n === 0 ? 0 : round(this.domainSub[dd * 2] / n),
          maxSubdomainBytes: this.domainSub[dd * 2 + 1],
          subdomainEntropy: es === 0 ? -1 : round(this.domainEnt[dd * 2] / es),
          sketch: Array.from(this.domainSketch.subarray(base, base + SKETCH_WORDS)),
        };
      }),
    };
  }
}
