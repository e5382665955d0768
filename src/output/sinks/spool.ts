// A bounded on-disk queue of NDJSON documents for one sink, used while its receiver is down or
// slow. Each append is one segment file `<name>-<seq>.ndjson`, written and fsynced whole, so a
// crash can at worst leave one partial last line, which is skipped and counted. Segments are
// read oldest first; a new Spool on the same directory finds what an earlier run left.
// Synchronous fs on purpose: it runs off the packet path, on batches, and keeps order simple.

import fs from 'node:fs';
import path from 'node:path';

/** Zero-padded so a plain sort of file names is the order of writing. */
const SEQ_DIGITS = 12;
/**
 * Lines per segment at most: a batch that ends inside a segment rewrites that segment's tail
 * on commit, so small segments keep the work per batch bounded.
 */
export const SEGMENT_MAX_LINES = 1000;
/** Suffix of a segment being rewritten after a partial take; a leftover one is a dead copy. */
const TMP_SUFFIX = '.tmp';

export class SpoolError extends Error {
  override readonly name = 'SpoolError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

interface Segment {
  seq: number;
  file: string;
  bytes: number;
}

export interface SpoolBatch {
  /** Oldest documents first, at most `maxLines`. */
  lines: string[];
  /** The lines were delivered: remove them from disk. */
  commit(): void;
}

export class Spool {
  /** Lines lost because the spool was over `maxBytes` (oldest segments go first). */
  dropped = 0;
  /** Lines found unreadable (a partial last line after a crash, or not JSON), skipped. */
  corrupt = 0;

  private readonly segments: Segment[] = [];
  private nextSeq = 0;
  private totalBytes = 0;
  /** Segments read by the last takeBatch and not yet committed: never dropped under them. */
  private held = new Set<number>();
  /** Segments whose bad lines are already counted: a failed send makes us read them again. */
  private readonly corruptCounted = new Set<number>();

  constructor(private readonly dir: string, private readonly name: string,
    private readonly maxBytes: number) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) {
      throw new SpoolError('ERR_SINK_OPTION',
        `sink name "${name}" is not usable in spool file names: use letters, digits, . _ -`);
    }
    if (!(maxBytes > 0)) {
      throw new SpoolError('ERR_SINK_OPTION', `spoolMaxBytes must be positive, got ${maxBytes}`);
    }
    try {
      fs.mkdirSync(dir, { recursive: true });
      this.scan();
    } catch (err) {
      throw new SpoolError('ERR_SINK_SPOOL',
        `cannot use spool directory ${dir} (--spool): ${(err as NodeJS.ErrnoException).code}`);
    }
  }

  /** True when nothing is waiting on disk. */
  get empty(): boolean {
    return this.segments.length === 0;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Writes the lines as segments; then drops the oldest segments while over `maxBytes`. */
  append(lines: string[]): void {
    for (let at = 0; at < lines.length; at += SEGMENT_MAX_LINES) {
      this.writeSegment(lines.slice(at, at + SEGMENT_MAX_LINES));
      this.enforceBound();
    }
  }

  /** Reads up to `maxLines` from the oldest segments; nothing is removed until `commit()`. */
  takeBatch(maxLines: number): SpoolBatch {
    const lines: string[] = [];
    const whole: Segment[] = [];
    let partial: { seg: Segment; rest: string[] } | null = null;
    this.held = new Set();

    for (const seg of this.segments) {
      if (lines.length >= maxLines) break;
      const docs = this.readSegment(seg);
      const room = maxLines - lines.length;
      this.held.add(seg.seq);
      if (docs.length <= room) {
        lines.push(...docs);
        whole.push(seg);
      } else {
        lines.push(...docs.slice(0, room));
        partial = { seg, rest: docs.slice(room) };
      }
    }

    const commit = () => {
      for (const seg of whole) this.remove(seg);
      if (partial !== null) this.rewrite(partial.seg, partial.rest);
      this.held = new Set();
    };
    return { lines, commit };
  }

  private writeSegment(lines: string[]): void {
    const seq = this.nextSeq++;
    const file = path.join(this.dir,
      `${this.name}-${String(seq).padStart(SEQ_DIGITS, '0')}.ndjson`);
    const data = lines.join('\n') + '\n';
    const fd = fs.openSync(file, 'wx');
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const bytes = Buffer.byteLength(data);
    this.segments.push({ seq, file, bytes });
    this.totalBytes += bytes;
  }

  /** Finds segments an earlier run left, oldest first, and removes dead rewrite copies. */
  private scan(): void {
    const escaped = this.name.replace(/\./g, '\\.');
    const pattern = new RegExp(`^${escaped}-(\\d{${SEQ_DIGITS}})\\.ndjson$`);
    const names = fs.readdirSync(this.dir).sort();
    for (const file of names) {
      const full = path.join(this.dir, file);
      if (file.startsWith(`${this.name}-`) && file.endsWith(TMP_SUFFIX)) {
        fs.rmSync(full, { force: true });
        continue;
      }
      const m = pattern.exec(file);
      if (m === null) continue;
      const seq = Number(m[1]);
      const bytes = fs.statSync(full).size;
      this.segments.push({ seq, file: full, bytes });
      this.totalBytes += bytes;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    this.enforceBound();
  }

  /** The segment's documents; unreadable lines are counted in `corrupt`, never thrown. */
  private readSegment(seg: Segment): string[] {
    let text: string;
    try {
      text = fs.readFileSync(seg.file, 'utf8');
    } catch {
      return []; // removed under us (an operator clearing the spool): nothing to deliver
    }
    const docs: string[] = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        JSON.parse(line);
        docs.push(line);
      } catch {
        if (!this.corruptCounted.has(seg.seq)) this.corrupt++;
      }
    }
    this.corruptCounted.add(seg.seq);
    return docs;
  }

  private countLines(seg: Segment): number {
    try {
      const text = fs.readFileSync(seg.file, 'utf8');
      return text.split('\n').filter((l) => l.length > 0).length;
    } catch {
      return 0;
    }
  }

  private enforceBound(): void {
    // Drop oldest first: under a long outage the newest alerts are the ones still actionable.
    for (let i = 0; this.totalBytes > this.maxBytes && i < this.segments.length;) {
      const seg = this.segments[i];
      if (this.held.has(seg.seq)) {
        i++;
        continue;
      }
      this.dropped += this.countLines(seg);
      this.remove(seg);
    }
  }

  private remove(seg: Segment): void {
    fs.rmSync(seg.file, { force: true });
    this.corruptCounted.delete(seg.seq);
    const at = this.segments.indexOf(seg);
    if (at >= 0) {
      this.segments.splice(at, 1);
      this.totalBytes -= seg.bytes;
    }
  }

  /** Keeps the undelivered tail of a segment; write-then-rename so a crash loses nothing. */
  private rewrite(seg: Segment, rest: string[]): void {
    const data = rest.join('\n') + '\n';
    const tmp = seg.file + TMP_SUFFIX;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, seg.file);
    const bytes = Buffer.byteLength(data);
    this.totalBytes += bytes - seg.bytes;
    seg.bytes = bytes;
  }
}
