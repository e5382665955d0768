// Byte shape of a short payload sample: is it text, or does it look like random bytes?
//
// Entropy needs a few hundred bytes to mean anything (src/flow/entropy.ts). A short flow on a
// text port (one HTTP request's worth) can still be judged by three counts whose spread for
// random bytes is known at any length n:
//   printable share: random bytes are printable (0x20-0x7e, TAB, CR, LF) with p = 98/256;
//                    text is printable throughout.
//   bit density:     ones among the bits, 0.5 for random bytes with sd 0.5 / sqrt(8 n);
//                    padded binary sits far below, ASCII text (top bit 0) below too.
//   distinct bytes:  random bytes show about 256 (1 - (255/256)^n) different values;
//                    repeated headers or structure show far fewer.
// The sample is the flow's head (the first HEAD_BYTES = 64 payload bytes of a direction, in
// practice its first packet), already in every flow record: nothing is added per packet.

/** Printable byte values: 95 graphic characters, TAB, LF and CR. */
export const RANDOM_PRINTABLE_P = 98 / 256;
/** Standard deviations of the bit density still counted as random. */
export const BIT_DENSITY_SIGMAS = 3;
/** Share of the expected distinct byte values random bytes must reach. */
export const DISTINCT_SHARE = 0.8;

export interface ByteShape {
  bytes: number;
  printableRatio: number;
  bitDensity: number;
  distinct: number;
  /** Distinct values random bytes of this length show on average. */
  expectedDistinct: number;
  /** Largest |density - 0.5| still counted as random at this length. */
  densityTolerance: number;
}

function isPrintable(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d;
}

function popcount8(b: number): number {
  b = b - ((b >> 1) & 0x55);
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/** Shape of the bytes in a hex string (a flow record's head); null when it is empty. */
export function byteShapeOfHex(hex: string): ByteShape | null {
  const n = hex.length >> 1;
  if (n === 0) return null;
  const seen = new Uint8Array(256);
  let printable = 0;
  let ones = 0;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const b = parseInt(hex.substr(i * 2, 2), 16);
    if (Number.isNaN(b)) return null;
    if (isPrintable(b)) printable++;
    ones += popcount8(b);
    if (seen[b] === 0) {
      seen[b] = 1;
      distinct++;
    }
  }
  return {
    bytes: n,
    printableRatio: printable / n,
    bitDensity: ones / (8 * n),
    distinct,
    expectedDistinct: 256 * (1 - (255 / 256) ** n),
    densityTolerance: BIT_DENSITY_SIGMAS * 0.5 / Math.sqrt(8 * n),
  };
}

/** Whether the shape is what random (encrypted, compressed) bytes of its length give. */
export function looksRandom(s: ByteShape, maxPrintableRatio: number): boolean {
  return s.printableRatio <= maxPrintableRatio &&
    Math.abs(s.bitDensity - 0.5) <= s.densityTolerance &&
    s.distinct >= DISTINCT_SHARE * s.expectedDistinct;
}
