// Domain names: decompression from the wire (RFC 1035 sections 3.1 and 4.1.4) into the
// presentation form described in ./types.ts, and the per-name measures tunnel detection
// uses (label entropy, longest label, registered domain).

import { u8 } from '../reader';
import {
  DNS_LABEL_KIND_MASK, DNS_LABEL_POINTER, DNS_POINTER_OFFSET_MASK, MAX_DNS_LABELS,
  MAX_DNS_POINTER_HOPS,
} from './record-types';
import type { DnsAnomaly } from './record-types';
import { DNS_MAX_LABEL_BYTES, DNS_MAX_NAME_BYTES } from './constants';

const DOT = 0x2e;
const BACKSLASH = 0x5c;

/** Where a name read ended, or why it failed ('truncated': the bytes ran out). */
export interface NameCursor {
  next: number;
  failure: DnsAnomaly | 'truncated' | undefined;
}

/**
 * Walks the name at `at` in the message that starts at `base` (bytes are read below `end`)
 * without building it: the offset of each label's first byte goes to `starts` and its length
 * to `lengths` (both hold MAX_DNS_LABELS), in order from the leftmost label. Returns the
 * number of labels (0 for the root) and sets `cur.next` to the byte after the name (after
 * the first pointer, if any), or returns -1 and sets `cur.failure`.
 *
 * Pointer rule (decided here; RFC 1035 section 4.1.4 says a pointer replaces "a prior
 * occurrence"): every pointer must land before the start of the piece of name being read.
 * Real compressors only ever point back to a name already written, so nothing legitimate
 * is refused, and since each hop then moves strictly backwards no chain can loop.
 */
export function walkDnsName(
  b: Uint8Array, base: number, at: number, end: number, cur: NameCursor,
  starts: Int32Array, lengths: Uint8Array,
): number {
  let p = at;
  let pieceStart = at;
  let next = -1;
  let hops = 0;
  let labels = 0;
  let wireBytes = 1; // the root label
  for (;;) {
    const length = u8(b, p, end);
    if (length < 0) return failWalk(cur, 'truncated');
    if (length === 0) {
      cur.next = next < 0 ? p + 1 : next;
      cur.failure = undefined;
      return labels;
    }

    const kind = length & DNS_LABEL_KIND_MASK;
    if (kind === DNS_LABEL_POINTER) {
      const low = u8(b, p + 1, end);
      if (low < 0) return failWalk(cur, 'truncated');
      const target = base + (((length << 8) | low) & DNS_POINTER_OFFSET_MASK);
      if (target >= p) return failWalk(cur, 'pointer_forward');
      if (target >= pieceStart) return failWalk(cur, 'name_loop');
      if (++hops > MAX_DNS_POINTER_HOPS) return failWalk(cur, 'pointer_chain_too_long');
      if (next < 0) next = p + 2;
      p = target;
      pieceStart = target;
      continue;
    }
    // 0x40 and 0x80 were extended label types, now deprecated (RFC 6891 section 5).
    if (kind !== 0 || length > DNS_MAX_LABEL_BYTES) return failWalk(cur, 'label_too_long');
    wireBytes += 1 + length;
    if (wireBytes > DNS_MAX_NAME_BYTES || labels + 1 >= MAX_DNS_LABELS) {
      return failWalk(cur, 'name_too_long');
    }
    if (p + 1 + length > end) return failWalk(cur, 'truncated');
    starts[labels] = p + 1;
    lengths[labels] = length;
    labels++;
    p += 1 + length;
  }
}

function failWalk(cur: NameCursor, why: DnsAnomaly | 'truncated'): number {
  cur.failure = why;
  return -1;
}

const nameStarts = new Int32Array(MAX_DNS_LABELS);
const nameLengths = new Uint8Array(MAX_DNS_LABELS);

/**
 * Reads the name at `at` in the message that starts at `base`; bytes are read below `end`.
 * Returns it in presentation form and sets `cur.next` to the byte after it in place (after
 * the first pointer, if any), or returns undefined and sets `cur.failure`. The rules are
 * walkDnsName's.
 */
export function readDnsName(
  b: Uint8Array, base: number, at: number, end: number, cur: NameCursor,
): string | undefined {
  const labels = walkDnsName(b, base, at, end, cur, nameStarts, nameLengths);
  if (labels < 0) return undefined;
  if (labels === 0) return '.';
  let name = '';
  for (let i = 0; i < labels; i++) {
    if (i > 0) name += '.';
    name += labelText(b, nameStarts[i], nameStarts[i] + nameLengths[i], end);
  }
  return name;
}

/**
 * One label's bytes in presentation form: '.' and '\' escaped, others outside VCHAR as \DDD;
 * with `lower`, ASCII capitals as small letters (what toLowerCase does to the whole form).
 */
export function labelText(
  b: Uint8Array, from: number, to: number, end: number, lower = false,
): string {
  let text = '';
  for (let i = from; i < to; i++) {
    let c = u8(b, i, end);
    if (lower) c = lowerByte(c);
    if (c === DOT || c === BACKSLASH) text += `\\${String.fromCharCode(c)}`;
    else if (c > 0x20 && c < 0x7f) text += String.fromCharCode(c);
    else text += `\\${String(c).padStart(3, '0')}`;
  }
  return text;
}

/**
 * Splits a presentation-form name back into its labels' bytes, undoing the escapes. The
 * root ("." or "") has no labels.
 */
export function dnsNameLabels(name: string): number[][] {
  const labels: number[][] = [];
  if (name === '.' || name === '') return labels;
  let label: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === DOT) {
      labels.push(label);
      label = [];
    } else if (c === BACKSLASH && /^\d{3}$/.test(name.slice(i + 1, i + 4))) {
      label.push(Number(name.slice(i + 1, i + 4)) & 0xff);
      i += 3;
    } else if (c === BACKSLASH && i + 1 < name.length) {
      label.push(name.charCodeAt(++i) & 0xff);
    } else {
      label.push(c & 0xff);
    }
  }
  if (label.length > 0 || labels.length > 0) labels.push(label);
  return labels;
}

const byteCounts = new Uint32Array(256);

/** ASCII capitals as small letters: DNS names compare without case (RFC 4343). */
export function lowerByte(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/**
 * Shannon entropy, in bits per byte, of the bytes of labels 0 to count-1, label i being
 * `lengths[i]` bytes of `b` from `starts[i]` (as walkDnsName leaves them); with `fold`, ASCII
 * capitals count as small letters. 0 when there are no bytes.
 */
export function labelsEntropy(
  b: Uint8Array, starts: Int32Array, lengths: Uint8Array, count: number, fold: boolean,
): number {
  let total = 0;
  for (let i = 0; i < count; i++) {
    for (let j = starts[i], stop = j + lengths[i]; j < stop; j++) {
      byteCounts[fold ? lowerByte(b[j]) : b[j]]++;
    }
    total += lengths[i];
  }
  let bits = 0;
  for (let i = 0; i < count; i++) {
    for (let j = starts[i], stop = j + lengths[i]; j < stop; j++) {
      const c = fold ? lowerByte(b[j]) : b[j];
      const n = byteCounts[c];
      if (n === 0) continue; // counted already
      const p = n / total;
      bits -= p * Math.log2(p);
      byteCounts[c] = 0;
    }
  }
  return bits;
}

/**
 * Shannon entropy, in bits per byte, of all the label bytes of a name (dots not counted);
 * 0 for the root. Encoded tunnel payloads (base32, base64, hex, raw) sit near the top of
 * their alphabet's range, words and host names well below it. Callers who want only the
 * part under the registered domain pass that part.
 */
export function labelEntropy(name: string): number {
  const bytes = Uint8Array.from(dnsNameLabels(name).flat());
  // Label boundaries do not matter to the entropy (dots are not counted), so the bytes go in
  // as pieces of at most 255, which Uint8Array lengths hold whatever the caller passed.
  const pieces = Math.ceil(bytes.length / 255);
  const starts = new Int32Array(pieces);
  const lengths = new Uint8Array(pieces);
  for (let i = 0; i < pieces; i++) {
    starts[i] = i * 255;
    lengths[i] = Math.min(255, bytes.length - i * 255);
  }
  return labelsEntropy(bytes, starts, lengths, pieces, false);
}

/** Length in bytes of the longest label (63 at most on the wire); 0 for the root. */
export function longestLabel(name: string): number {
  let longest = 0;
  for (const label of dnsNameLabels(name)) longest = Math.max(longest, label.length);
  return longest;
}

/**
 * Second-level labels that country registries sell under (co.uk, com.au, ac.jp, ...).
 *
 * shortcut: this is not the Public Suffix List. The PSL has about 10 000 rules, changes
 * every week and would have to be shipped and updated with the sensor; for grouping query
 * names by who controls them, the usual cases are enough, and a miss only groups names
 * one level too high (all of github.io together), which makes a tunnel look busier, not
 * quieter.
 */
const COUNTRY_SECOND_LEVEL: ReadonlySet<string> = new Set([
  'ac', 'co', 'com', 'edu', 'gob', 'go', 'gov', 'mil', 'ne', 'net', 'or', 'org',
]);

/**
 * The domain a registrant controls, lower-cased: the last two labels, or three when the
 * top-level label is a two-letter country code and the second-level one is in
 * COUNTRY_SECOND_LEVEL. Names with fewer labels come back whole; the root gives "".
 */
export function registeredDomain(name: string): string {
  const labels = dnsNameLabels(name.toLowerCase());
  if (labels.length === 0) return '';
  const text = labels.map((l) => labelText(Uint8Array.from(l), 0, l.length, l.length));
  const top = text[text.length - 1];
  const second = text.length >= 2 ? text[text.length - 2] : '';
  return text.slice(-registeredLabelCount(text.length, top, second)).join('.');
}

/**
 * How many labels at the right of a name of `labels` labels are its registered domain
 * (registeredDomain's rule), given its top two labels in presentation form, lower case.
 */
export function registeredLabelCount(labels: number, top: string, second: string): number {
  return Math.min(labels, top.length === 2 && COUNTRY_SECOND_LEVEL.has(second) ? 3 : 2);
}
