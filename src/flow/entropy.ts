// Shannon entropy of payload bytes, judged with the sample size in mind.
//
// The plug-in estimate H = -sum p log2 p is biased low for small samples: 40 random bytes can
// never exceed log2(40) = 5.3 bits/byte, and 512 random bytes average about 7.64. The
// Miller-Madow correction adds (m - 1) / (2 n ln 2), m = occupied bins, which brings uniform
// random samples of a few hundred bytes back near 8 while leaving text (about 4.5-5.5) well
// below any sensible threshold. Below MIN_ENTROPY_SAMPLE bytes no verdict is given at all.

/** Smallest sample on which an entropy verdict means something (see the note above). */
export const MIN_ENTROPY_SAMPLE = 256;

const LN2 = Math.log(2);

/**
 * c * log2(c) for every count a flow's sample can hold (ENTROPY_SAMPLE_BYTES in
 * flow-state.ts; larger counts are computed): with it, H = log2 n - sum(c log2 c) / n costs
 * one table read per occupied bin instead of a division and a log2, and the entropy of every
 * flow's both directions is computed when it ends.
 */
const C_LOG2_C_COUNTS = 4096;
const C_LOG2_C = new Float64Array(C_LOG2_C_COUNTS + 1);
for (let c = 1; c <= C_LOG2_C_COUNTS; c++) C_LOG2_C[c] = c * Math.log2(c);

/**
 * Entropy in bits per byte of the histogram `hist[base .. base+256)` holding `n` bytes,
 * with the Miller-Madow small-sample correction, capped at 8.
 */
export function correctedEntropy(hist: Uint16Array | Uint32Array, base: number, n: number): number {
  if (n <= 0) return 0;
  let sum = 0;
  let occupied = 0;
  for (let i = base, end = base + 256; i < end; i++) {
    const c = hist[i];
    if (c === 0) continue;
    occupied++;
    sum += c <= C_LOG2_C_COUNTS ? C_LOG2_C[c] : c * Math.log2(c);
  }
  // A single-symbol sample is 0 exactly in theory; rounding may leave -1e-16 here.
  const h = Math.max(0, Math.log2(n) - sum / n);
  const corrected = h + (occupied - 1) / (2 * n * LN2);
  return corrected > 8 ? 8 : corrected;
}

/** Plain Shannon entropy of a byte range (used by tests and one-off checks, not per packet). */
export function entropyOfBytes(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
  const hist = new Uint32Array(256);
  for (let i = off; i < off + len; i++) hist[bytes[i]]++;
  return correctedEntropy(hist, 0, len);
}
