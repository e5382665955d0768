// Readers for the reference outputs beside the public captures: FoxIO's Rust snapshots
// (`*.ja4.rust.snap`, YAML written by insta) and nDPI's reader output (`*.ndpi.out`).
// Both are keyed here by the unordered endpoint pair and transport, which is how flows are
// matched against ours.

import fs from 'node:fs';

export interface RefFlow {
  key: string;
  values: Partial<Record<'ja4' | 'ja3' | 'ja3s' | 'hassh' | 'hassh_server', string>>;
}

/**
 * One spelling per address: nDPI compresses a single zero group ("b00c::2"), which RFC 5952
 * section 4.2.2 forbids and our formatter does not do ("b00c:0:2"). The WHATWG URL
 * serialiser follows the RFC's rule, so both sides go through it.
 */
function canonical(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

export function pairKey(transport: string, a: string, ap: number, b: string, bp: number): string {
  const x = `${canonical(a)}|${ap}`;
  const y = `${canonical(b)}|${bp}`;
  return `${transport.toLowerCase()} ${x < y ? `${x} ${y}` : `${y} ${x}`}`;
}

/** Streams of a FoxIO snapshot: top-level `- stream:` items with two-space keys. */
export function readSnap(file: string): RefFlow[] {
  const out: RefFlow[] = [];
  let cur: Record<string, string> | null = null;
  const flush = () => {
    if (cur === null) return;
    const key = pairKey(cur.transport ?? 'tcp', cur.src, Number(cur.src_port), cur.dst,
      Number(cur.dst_port));
    const values: RefFlow['values'] = {};
    // `null` is how the snapshot says "no value" (SSH-1 has no KEXINIT, so no HASSH).
    for (const k of ['ja4', 'hassh', 'hassh_server'] as const) {
      if (cur[k] && cur[k] !== 'null') values[k] = cur[k];
    }
    out.push({ key, values });
  };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('- stream:')) {
      flush();
      cur = {};
      continue;
    }
    // Keys at two spaces (stream level) and four (inside ssh_extras); deeper ones are certs.
    const m = /^( {2}| {4})([a-z_0-9]+): (.+)$/.exec(line);
    if (cur !== null && m !== null) cur[m[2]] = m[3].replace(/^'(.*)'$/, '$1');
  }
  flush();
  return out;
}

/** `<n> TCP a:port <-> b:port`, IPv6 addresses in brackets. */
const NDPI_ADDR = String.raw`(\[[^\]]+\]|[\d.]+):(\d+)`;
const NDPI_FLOW = new RegExp(String.raw`^\s*\d+\s+(TCP|UDP)\s+` + NDPI_ADDR +
  String.raw`\s+<->\s+` + NDPI_ADDR);

/** Flows of an nDPI reader output with the fingerprints it printed (hex lower-cased). */
export function readNdpi(file: string): RefFlow[] {
  const out: RefFlow[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = NDPI_FLOW.exec(line);
    if (m === null) continue;
    const strip = (s: string) => s.replace(/^\[|\]$/g, '');
    const values: RefFlow['values'] = {};
    const grab = (label: string) => new RegExp(`\\[${label}: ([0-9A-Za-z_]+)`).exec(line)?.[1];
    const ja3 = grab('JA3C');
    const ja3s = grab('JA3S');
    const hc = grab('HASSH-C');
    const hs = grab('HASSH-S');
    if (ja3) values.ja3 = ja3.toLowerCase();
    if (ja3s) values.ja3s = ja3s.toLowerCase();
    if (hc) values.hassh = hc.toLowerCase();
    if (hs) values.hassh_server = hs.toLowerCase();
    if (Object.keys(values).length === 0) continue;
    out.push({ key: pairKey(m[1], strip(m[2]), Number(m[3]), strip(m[4]), Number(m[5])), values });
  }
  return out;
}
