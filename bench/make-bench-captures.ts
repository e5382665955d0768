// Makes the bench captures in bench/out/ (git-ignored) when they are missing or older than
// their generator sources (or, for bulk, the reference captures). replay-bench runs this
// first; it also runs alone:
//   node dist/bench/make-bench-captures.js [--force] [bulk|many-flows|syn-1m ...]
// Each capture gets a NAME.json beside it with what was written (packets, bytes, flows).

import fs from 'node:fs';
import path from 'node:path';

import { BulkResult, loadTemplate, meanFrameBytes, referenceCaptures, writeBulk } from './bulk-gen';
import { FlowsResult, writeManyFlows, writeSynFlows } from './flows-gen';

/**
 * The bulk and lab-mix files grow in whole copies of the reference captures until they reach
 * this. 1.5 GB, not the 300 MB of earlier rounds: ndpiReader reads 300 MB of bulk in 0.25 s,
 * and a file that short measures tunnelhound's fixed cost (Node start-up, module loading,
 * the first, unoptimised runs of the per-flow code: about 0.2 s) more than its throughput.
 * bulk-300 keeps the short file in the table so that cost stays visible.
 */
export const BULK_TARGET_BYTES = 1.5e9;
export const BULK_SHORT_TARGET_BYTES = 300e6;
/**
 * The bulk shape is "few flows, large packets": a capture joins bulk when its mean
 * frame is at least this long (the long TCP transfers; DNS, pings and typing stay out and
 * are measured in lab-mix).
 */
export const BULK_MIN_MEAN_FRAME = 500;
/** Short flows in many-flows, and how many start per second of packet time. */
export const MANY_FLOWS = 300_000;
export const MANY_FLOWS_PER_SEC = 1_000;
/**
 * Single-SYN flows in syn-1m. At this rate they all arrive within 50 s of packet time, well
 * inside the 120 s idle timeout, so every one is still in the table at the end.
 */
export const SYN_FLOWS = 1_000_000;
export const SYN_FLOWS_PER_SEC = 20_000;
/** Flow table capacity used with syn-1m: a power of two above SYN_FLOWS. */
export const SYN_TABLE_CAPACITY = 1_048_576;
const SEED = 0x7431;

export interface BenchCapture {
  name: string;
  file: string;
  /** One line for tables and the README. */
  what: string;
  /** Config file for tunnelhound (--config), if the capture needs one. */
  config?: string;
}

export interface CaptureMeta {
  packets: number;
  wireBytes: number;
  fileBytes: number;
  /** Flows the generator wrote (bulk: copies x flows of the reference captures, unknown). */
  flows: number | null;
  generatedSec: number;
  detail: Record<string, number>;
}

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const ROOT = findPackageRoot(__dirname);
export const OUT_DIR = path.join(ROOT, 'bench', 'out');
const PCAPS_DIR = path.join(ROOT, 'pcaps');

export const CAPTURES: readonly BenchCapture[] = [
  {
    name: 'bulk', file: path.join(OUT_DIR, 'bulk.pcap'),
    what: `the pcaps/* with a mean frame of ${BULK_MIN_MEAN_FRAME} bytes or more (long TCP ` +
      'flows: forwarding, file copy, HTTPS download, relays), end to end, copied with ' +
      'rewritten addresses to ~1.5 GB',
  },
  {
    name: 'bulk-300', file: path.join(OUT_DIR, 'bulk-300.pcap'),
    what: 'bulk cut to ~300 MB: the same copies, fewer of them (start-up weighs more)',
  },
  {
    name: 'lab-mix', file: path.join(OUT_DIR, 'lab-mix.pcap'),
    what: 'every pcaps/* capture (DNS, DoH, ICMP and interactive SSH too) end to end, copied ' +
      'with rewritten addresses to ~1.5 GB',
  },
  {
    name: 'many-flows', file: path.join(OUT_DIR, 'many-flows.pcap'),
    what: `${MANY_FLOWS / 1000}k short flows: 70 % TCP/HTTP (8 packets), 30 % DNS/UDP (2)`,
  },
  {
    name: 'syn-1m', file: path.join(OUT_DIR, 'syn-1m.pcap'),
    what: `${SYN_FLOWS / 1e6}M single SYNs from distinct clients, all alive at the end`,
    config: path.join(OUT_DIR, 'syn-1m.config.json'),
  },
];

/** Newest modification time of the files a capture is made from, in ms. */
function sourcesMtime(name: string): number {
  // The TypeScript sources, not dist/: tsc rewrites every output file on each build.
  const dir = path.join(ROOT, 'bench');
  const sources = fs.readdirSync(dir)
    .filter((f) => /^(make-bench-captures|.*-gen.*)\.ts$/.test(f))
    .map((f) => path.join(dir, f));
  if (name !== 'many-flows' && name !== 'syn-1m') sources.push(...referenceCaptures(PCAPS_DIR));
  return Math.max(0, ...sources.map((f) => fs.statSync(f).mtimeMs));
}

function metaFile(c: BenchCapture): string {
  return c.file.replace(/\.pcap$/, '.json');
}

export function readMeta(c: BenchCapture): CaptureMeta {
  return JSON.parse(fs.readFileSync(metaFile(c), 'utf8')) as CaptureMeta;
}

function isFresh(c: BenchCapture): boolean {
  if (!fs.existsSync(c.file) || !fs.existsSync(metaFile(c))) return false;
  return Math.min(fs.statSync(c.file).mtimeMs, fs.statSync(metaFile(c)).mtimeMs) >=
    sourcesMtime(c.name);
}

function generate(c: BenchCapture): CaptureMeta {
  const t0 = process.hrtime.bigint();
  let r: BulkResult | FlowsResult;
  let flows: number | null = null;
  const detail: Record<string, number> = {};
  if (c.name === 'bulk' || c.name === 'bulk-300' || c.name === 'lab-mix') {
    let files = referenceCaptures(PCAPS_DIR);
    if (c.name !== 'lab-mix') files = files.filter((f) => meanFrameBytes(f) >= BULK_MIN_MEAN_FRAME);
    detail.captures = files.length;
    const template = loadTemplate(files);
    const target = c.name === 'bulk-300' ? BULK_SHORT_TARGET_BYTES : BULK_TARGET_BYTES;
    const copies = Math.ceil(target / template.copyFileBytes);
    r = writeBulk(c.file, template, copies);
    detail.copies = copies;
    detail.packetsPerCopy = template.packets.length;
    detail.copyPeriodSec = template.periodNs / 1e9;
  } else if (c.name === 'many-flows') {
    r = writeManyFlows(c.file, MANY_FLOWS, MANY_FLOWS_PER_SEC, SEED);
    flows = r.flows;
    detail.peakOpen = r.peakOpen;
  } else {
    r = writeSynFlows(c.file, SYN_FLOWS, SYN_FLOWS_PER_SEC, SEED);
    flows = r.flows;
  }
  const meta: CaptureMeta = {
    packets: r.packets, wireBytes: r.wireBytes, fileBytes: r.fileBytes, flows,
    generatedSec: Number(process.hrtime.bigint() - t0) / 1e9, detail,
  };
  fs.writeFileSync(metaFile(c), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/** Makes what is missing or stale (all with `force`); returns the captures asked for. */
export function ensureBenchCaptures(names?: string[], force = false): BenchCapture[] {
  const wanted = names && names.length > 0
    ? names.map((n) => {
      const c = CAPTURES.find((x) => x.name === n);
      if (!c) throw new Error(`unknown capture ${n}; known: ${CAPTURES.map((x) => x.name)}`);
      return c;
    })
    : [...CAPTURES];
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const c of wanted) {
    if (c.config) {
      const config = { flowTable: { capacity: SYN_TABLE_CAPACITY } };
      fs.writeFileSync(c.config, JSON.stringify(config));
    }
    if (!force && isFresh(c)) continue;
    process.stderr.write(`bench: writing ${path.relative(ROOT, c.file)} ... `);
    const m = generate(c);
    process.stderr.write(`${m.packets} packets, ${(m.fileBytes / 1e6).toFixed(1)} MB, ` +
      `${m.generatedSec.toFixed(1)} s\n`);
  }
  return wanted;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  try {
    ensureBenchCaptures(args.filter((a) => a !== '--force'), force);
  } catch (err) {
    process.stderr.write(`make-bench-captures: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
