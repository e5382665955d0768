// Corpus access for the capture tests: the shared public captures, their MANIFEST, and
// tcpdump as the independent reference for counts and timestamps.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { forEachRecord, PcapHandle } from '../../src/capture/pcap';

function findRepoRoot(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}

export const REPO_ROOT = findRepoRoot(__dirname);
// CI checks the repo out with the shared corpus as its sibling directory.
export const CORPUS_DIR = path.resolve(REPO_ROOT, '../shared/corpus/public');

export interface ManifestRow {
  file: string;
  path: string;
  format: string;
  linkType: string;
  packets: number;
}

export function readManifest(): ManifestRow[] {
  const lines = fs.readFileSync(path.join(CORPUS_DIR, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const columns = lines[0].split('\t');
  const col = (name: string): number => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`MANIFEST.tsv has no ${name} column`);
    return index;
  };
  const [file, format, linkType, packets] = ['file', 'format', 'link_type', 'packets'].map(col);
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    return {
      file: cells[file],
      path: path.join(CORPUS_DIR, cells[file]),
      format: cells[format],
      linkType: cells[linkType],
      packets: Number(cells[packets]),
    };
  });
}

/** "sec.nnnnnnnnn" of every packet as `tcpdump -tt --nano` prints it. */
export function tcpdumpTimestamps(file: string, filter?: string): string[] {
  const args = ['-tt', '--nano', '-nn', '-r', file, ...(filter ? [filter] : [])];
  const out = execFileSync('tcpdump', args, {
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 * 1024 * 1024,
  }).toString();
  // Continuation lines (some decoders print more than one) do not start with a timestamp.
  return out
    .split('\n')
    .map((line) => /^(\d+\.\d{9}) /.exec(line)?.[1])
    .filter((ts): ts is string => ts !== undefined);
}

export interface RecordInfo {
  caplen: number;
  origlen: number;
  ts: string;
  data: Buffer;
}

export interface ReadSummary {
  packets: number;
  bytes: number;
  batches: number;
  records: RecordInfo[];
}

export function formatTs(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

/** Reads a whole file through readBatch with a buffer of `bufBytes`, keeping every record. */
export function readAllRecords(file: string, bufBytes: number, maxPackets?: number): ReadSummary {
  const handle = PcapHandle.openFile(file);
  const buf = new Uint8Array(bufBytes);
  const summary: ReadSummary = { packets: 0, bytes: 0, batches: 0, records: [] };
  try {
    for (;;) {
      const result = handle.readBatch(buf, maxPackets);
      summary.batches += 1;
      summary.packets += result.packets;
      summary.bytes += result.bytes;
      const seen = forEachRecord(buf, result.bytes, (at, caplen, origlen, sec, nsec) => {
        const data = Buffer.from(buf.subarray(at, at + caplen));
        summary.records.push({ caplen, origlen, ts: formatTs(sec, nsec), data });
      });
      if (seen !== result.packets) throw new Error(`batch says ${result.packets}, held ${seen}`);
      if (result.eof) return summary;
      // A non-final batch that made no progress means the reader is wedged.
      if (result.packets === 0) throw new Error('readBatch returned an empty non-final batch');
    }
  } finally {
    handle.close();
  }
}
