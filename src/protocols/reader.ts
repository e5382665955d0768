// Bounds-checked reads for protocol identification. Every read names the end of the window
// it may touch and answers -1 (or false) outside it, so protocol code never indexes a buffer
// by hand and a short or hostile payload can only make a check fail, never throw.

/** Byte at i, or -1 when i is not in [0, end). */
export function u8(b: Uint8Array, i: number, end: number): number {
  return i >= 0 && i < end ? b[i] : -1;
}

/** Big-endian u16 at i, or -1 when the two bytes are not all below end. */
export function u16be(b: Uint8Array, i: number, end: number): number {
  return i >= 0 && i + 2 <= end ? (b[i] << 8) | b[i + 1] : -1;
}

/** Little-endian u16 at i, or -1. */
export function u16le(b: Uint8Array, i: number, end: number): number {
  return i >= 0 && i + 2 <= end ? b[i] | (b[i + 1] << 8) : -1;
}

/** Big-endian u24 at i, or -1. */
export function u24be(b: Uint8Array, i: number, end: number): number {
  return i >= 0 && i + 3 <= end ? (b[i] << 16) | (b[i + 1] << 8) | b[i + 2] : -1;
}

/** Big-endian u32 at i (unsigned), or -1. */
export function u32be(b: Uint8Array, i: number, end: number): number {
  if (i < 0 || i + 4 > end) return -1;
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** True when the bytes at i equal `text` (ASCII) and all of it lies below end. */
export function matchAscii(b: Uint8Array, i: number, end: number, text: string): boolean {
  if (i < 0 || i + text.length > end) return false;
  for (let k = 0; k < text.length; k++) {
    if (b[i + k] !== text.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * True when the bytes from i to end are a prefix of `text` (the payload was cut inside it),
 * or the whole of it. At least `minBytes` must be present.
 */
export function matchAsciiPrefix(
  b: Uint8Array, i: number, end: number, text: string, minBytes: number,
): boolean {
  const n = Math.min(text.length, end - i);
  if (i < 0 || n < minBytes) return false;
  for (let k = 0; k < n; k++) {
    if (b[i + k] !== text.charCodeAt(k)) return false;
  }
  return true;
}

/** Visible US-ASCII: no control characters, no space, no DEL (RFC 5234 VCHAR). */
export function isVisibleAscii(c: number): boolean {
  return c >= 0x21 && c <= 0x7e;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
