// TcpStream: bounded one-direction reassembly for the handshake parsers. Named cases for
// each rule (order, holes, retransmission, overlap, wraparound, SYN or no SYN, caps), then
// a property: any delivery order, with duplicates and conflicting copies, reassembles to
// what a first-copy-wins reference model holds.

import fc from 'fast-check';
import t from 'tap';
import { STREAM_MAX_BYTES, STREAM_MAX_RANGES, TcpStream } from '../src/flow/tcp-stream';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (s: TcpStream): string => Buffer.from(s.bytes.subarray(0, s.contiguous)).toString();

function addText(s: TcpStream, seq: number, data: string, syn = false): boolean {
  const b = enc(data);
  return s.add(seq, syn, b, 0, b.length);
}

t.test('in order after a SYN', (t) => {
  const s = new TcpStream();
  t.equal(s.bytes.length, STREAM_MAX_BYTES);
  t.equal(s.add(1000, true, new Uint8Array(0), 0, 0), false, 'a bare SYN adds nothing');
  t.equal(addText(s, 1001, 'hello '), true);
  t.equal(addText(s, 1007, 'world'), true);
  t.equal(text(s), 'hello world');
  t.equal(s.full, false);
  t.same(s.anomalies, { overlapping: 0, conflicting: 0, outOfWindow: 0, tooManyRanges: 0,
    truncated: 0 });
  t.end();
});

t.test('out of order: a hole holds the prefix back until it is filled', (t) => {
  const s = new TcpStream();
  s.add(0, true, new Uint8Array(0), 0, 0);
  t.equal(addText(s, 7, 'world'), false);
  t.equal(addText(s, 13, '!'), false);
  t.equal(s.contiguous, 0);
  t.equal(addText(s, 1, 'hello '), true);
  t.equal(text(s), 'hello world');
  t.equal(addText(s, 12, '?'), true, 'the last hole joins the range after it');
  t.equal(text(s), 'hello world?!');
  t.end();
});

t.test('holes filled from the far end first', (t) => {
  const s = new TcpStream();
  s.add(0, true, new Uint8Array(0), 0, 0);
  t.equal(addText(s, 9, 'i'), false);
  t.equal(addText(s, 5, 'e'), false, 'a range before the one held');
  t.equal(addText(s, 7, 'g'), false);
  t.equal(addText(s, 3, 'c'), false);
  t.equal(addText(s, 1, 'ab'), true);
  t.equal(text(s), 'abc');
  t.equal(addText(s, 4, 'd'), true);
  t.equal(addText(s, 8, 'h'), false);
  t.equal(addText(s, 6, 'f'), true, 'one segment joins three ranges');
  t.equal(text(s), 'abcdefghi');
  t.end();
});

t.test('retransmission and overlap: the first copy wins, and is counted', (t) => {
  const s = new TcpStream();
  addText(s, 100, 'abcdef');
  t.equal(addText(s, 100, 'abcdef'), false, 'exact retransmission');
  t.equal(s.anomalies.overlapping, 1);
  t.equal(s.anomalies.conflicting, 0);
  t.equal(addText(s, 103, 'XYZghi'), true, 'overlap that extends the prefix');
  t.equal(text(s), 'abcdefghi', 'overlapping bytes keep the first copy');
  t.equal(s.anomalies.overlapping, 2);
  t.equal(s.anomalies.conflicting, 1);

  // Overlap with an out-of-order range, on both of its sides.
  addText(s, 115, 'pqr');
  t.equal(addText(s, 113, 'nOPQRs'), false);
  t.equal(addText(s, 109, 'jklm'), true);
  t.equal(text(s), 'abcdefghijklmnOpqrs', 'only the hole at O takes the new copy');
  t.equal(s.anomalies.conflicting, 2);
  t.end();
});

t.test('sequence numbers wrap modulo 2^32', (t) => {
  const s = new TcpStream();
  const isn = 0xfffffffa;
  s.add(isn, true, new Uint8Array(0), 0, 0);
  t.equal(addText(s, 0xfffffffb, 'abcd'), true);
  t.equal(addText(s, 3, 'ijkl'), false, 'past the wrap, after a hole');
  t.equal(addText(s, 0xffffffff, 'efgh'), true, 'the segment that crosses 2^32');
  t.equal(text(s), 'abcdefghijkl');
  // Negative numbers are the same u32 sequence numbers.
  const n = new TcpStream();
  t.equal(addText(n, -5, 'abcde'), true);
  t.equal(addText(n, 0, 'f'), true);
  t.equal(text(n), 'abcdef');
  t.end();
});

t.test('no SYN: the first data byte fixes the start; earlier bytes are cut', (t) => {
  const s = new TcpStream();
  addText(s, 5000, 'middle');
  t.equal(addText(s, 4995, 'early'), false, 'wholly before the start');
  t.equal(addText(s, 4998, 'XXmiddle!'), true, 'straddles the start: the head is cut');
  t.equal(text(s), 'middle!');
  t.equal(s.anomalies.outOfWindow, 2);
  t.end();
});

t.test('a SYN that arrives after data moves the data to its place', (t) => {
  const s = new TcpStream();
  addText(s, 11, 'world');
  addText(s, 20, 'xyz');
  t.equal(s.contiguous, 5);
  s.add(0, true, new Uint8Array(0), 0, 0);
  t.equal(s.contiguous, 0, 'a hole now precedes the data');
  t.equal(addText(s, 1, 'hello12345'), true);
  t.equal(text(s), 'hello12345world');
  t.equal(addText(s, 16, 'abcd'), true);
  t.equal(text(s), 'hello12345worldabcdxyz');
  t.equal(addText(s, 0, 'Zhello', true), false, 'a second SYN changes nothing');
  t.end();
});

t.test('a late SYN that would push held ranges past the cap drops the last one', (t) => {
  const s = new TcpStream(1000);
  addText(s, 100, 'a');
  for (let i = 1; i <= STREAM_MAX_RANGES; i++) addText(s, 100 + i * 3, 'x');
  t.equal(s.anomalies.tooManyRanges, 0, 'exactly the cap');
  s.add(9, true, new Uint8Array(0), 0, 0);
  t.equal(s.anomalies.tooManyRanges, 1, 'the prefix became a range: the last one goes');
  t.equal(addText(s, 10, 'z'.repeat(90)), true);
  t.equal(s.contiguous, 91);
  t.end();
});

t.test('SYN with data (TCP Fast Open): the data starts at seq + 1', (t) => {
  const s = new TcpStream();
  t.equal(addText(s, 77, 'fast', true), true);
  t.equal(addText(s, 82, 'open'), true);
  t.equal(text(s), 'fastopen');
  t.end();
});

t.test('caps: buffer size and number of holes', (t) => {
  const s = new TcpStream(8);
  t.equal(addText(s, 0, 'abcdefghij'), true);
  t.equal(text(s), 'abcdefgh');
  t.equal(s.full, true);
  t.equal(addText(s, 20, 'z'), false, 'beyond the buffer');
  t.equal(s.anomalies.truncated, 2);

  const r = new TcpStream(1000);
  r.add(0, true, new Uint8Array(0), 0, 0);
  for (let i = 0; i < STREAM_MAX_RANGES; i++) t.equal(addText(r, 10 + i * 3, 'x'), false);
  t.equal(addText(r, 500, 'y'), false);
  t.equal(r.anomalies.tooManyRanges, 1, 'a new hole past the cap is refused');
  t.equal(addText(r, 11, 'x'), false, 'a segment that merges with a range is still taken');
  t.equal(r.anomalies.tooManyRanges, 1);
  t.equal(addText(r, 1, 'abcdefghi'), true);
  t.equal(r.contiguous, 11);

  t.equal(new TcpStream(-1).bytes.length, STREAM_MAX_BYTES, 'a bad size falls back');
  t.end();
});

t.test('bad arguments never throw and never read outside the array', (t) => {
  const s = new TcpStream(16);
  const b = enc('abc');
  t.equal(s.add(0, false, b, 5, 2), false);
  t.equal(s.add(0, false, b, -1, 2), false);
  t.equal(s.add(0, false, b, 1.5, 1), false);
  t.equal(s.add(0, false, b, 0, NaN), false);
  t.equal(s.add(0, false, b, 1, 99), true, 'length clamped to the array');
  t.equal(text(s), 'bc');
  t.end();
});

t.test('reset forgets everything', (t) => {
  const s = new TcpStream();
  addText(s, 10, 'abc');
  addText(s, 10, 'abc');
  s.reset();
  t.equal(s.contiguous, 0);
  t.equal(s.anomalies.overlapping, 0);
  t.equal(addText(s, 99, 'new'), true);
  t.equal(text(s), 'new');
  t.end();
});

/** First-copy-wins model: one slot per offset, set by the first segment that covers it. */
function model(max: number, segs: { rel: number; data: Uint8Array }[]): Uint8Array {
  const held = new Int16Array(max).fill(-1);
  for (const { rel, data } of segs) {
    for (let k = 0; k < data.length; k++) {
      const o = rel + k;
      if (o >= 0 && o < max && held[o] < 0) held[o] = data[k];
    }
  }
  let n = 0;
  while (n < max && held[n] >= 0) n++;
  return Uint8Array.from(held.subarray(0, n));
}

t.test('property: any order, duplicates and conflicting copies match the model', (t) => {
  const scenario = fc.record({
    stream: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 2999 }), { maxLength: STREAM_MAX_RANGES }),
    isn: fc.integer({ min: 0, max: 0xffffffff }),
    max: fc.integer({ min: 1, max: 4096 }),
    syn: fc.boolean(),
    keys: fc.array(fc.nat(), { minLength: STREAM_MAX_RANGES + 1,
      maxLength: STREAM_MAX_RANGES + 1 }),
    dups: fc.array(fc.record({ seg: fc.nat(), at: fc.nat(), flip: fc.boolean() }),
      { maxLength: 40 }),
  });
  fc.assert(fc.property(scenario, ({ stream, cuts, isn, max, syn, keys, dups }) => {
    const edges = [0, ...cuts.filter((c) => c < stream.length).sort((a, b) => a - b),
      stream.length];
    // At most 33 distinct segments, so at most 32 ranges wait behind a hole: none dropped.
    const segs: { rel: number; data: Uint8Array }[] = [];
    for (let i = 0; i + 1 < edges.length; i++) {
      segs.push({ rel: edges[i], data: stream.subarray(edges[i], edges[i + 1]) });
    }
    // Every segment once, shuffled, plus duplicates (some with every bit flipped).
    const delivery = segs.map((s, i) => ({ s, key: keys[i] }))
      .sort((a, b) => a.key - b.key).map((x) => x.s);
    for (const d of dups) {
      const dup = segs[d.seg % segs.length];
      const data = d.flip ? dup.data.map((x) => x ^ 0xff) : dup.data;
      delivery.splice(d.at % (delivery.length + 1), 0, { rel: dup.rel, data });
    }
    // Without a SYN the first delivered byte fixes the start: the model sees the same.
    const start = syn ? 0 : delivery[0].rel;
    const s = new TcpStream(max);
    if (syn) s.add((isn - 1) >>> 0, true, new Uint8Array(0), 0, 0);
    for (const d of delivery) s.add((isn + d.rel) >>> 0, false, d.data, 0, d.data.length);
    const want = model(max, delivery.map((d) => ({ rel: d.rel - start, data: d.data })));
    return Buffer.from(s.bytes.subarray(0, s.contiguous)).equals(Buffer.from(want));
  }), { numRuns: 400 });
  t.end();
});
