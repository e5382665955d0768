// One JSON document per line to standard output or a file, honouring back-pressure: the
// caller awaits `ready()` between batches so a slow disk or pipe slows the reader instead of
// growing memory. A write error (disk full, reader gone) is kept and reported once, never
// thrown from an event handler. Files are opened for append (a restarted sensor must not
// wipe the last run's alerts), rotate by size or age, and reopen on request (SIGHUP, after
// logrotate moved them).

import fs from 'node:fs';
import { Writable } from 'node:stream';

/** What an operator should read for the errno codes an output file commonly hits. */
const OUTPUT_REASONS: Record<string, string> = {
  ENOENT: 'its directory does not exist (ENOENT)',
  EACCES: 'permission denied (EACCES)',
  EISDIR: 'it is a directory (EISDIR)',
  ENOSPC: 'no space left on the device (ENOSPC)',
  EROFS: 'read-only file system (EROFS)',
  ENOTDIR: 'a part of the path is not a directory (ENOTDIR)',
};

export class OutputError extends Error {
  override readonly name = 'OutputError';
  readonly code: string;

  constructor(readonly what: string, readonly target: string, cause: NodeJS.ErrnoException) {
    super(`cannot write ${what} to ${target === '-' ? 'standard output' : target}: ` +
      `${OUTPUT_REASONS[cause.code ?? ''] ?? cause.code ?? cause.message}`);
    this.code = cause.code === 'EPIPE' ? 'ERR_OUTPUT_CLOSED' : 'ERR_OUTPUT';
  }
}

export interface RotateOptions {
  /** Start a new file once the current one would pass this many bytes. */
  maxBytes?: number;
  /** Start a new file once the current one is this many seconds old. */
  maxAgeSec?: number;
}

export class NdjsonWriter {
  private stream: Writable;
  private readonly ownsStream: boolean;
  private failure: OutputError | null = null;
  private bytes = 0;
  private openedAt = Date.now();
  private rotatable = false;
  /** Files this writer rotated out, oldest first (for tests and the operator's log). */
  readonly rotated: string[] = [];
  count = 0;

  /** `what` names the output in messages ("alerts", "flow records"). */
  constructor(private readonly target: string, private readonly what: string,
    private readonly rotate: RotateOptions = {}) {
    if (target === '-') {
      this.stream = process.stdout;
      this.ownsStream = false;
      this.watch(this.stream);
    } else {
      this.ownsStream = true;
      this.stream = this.open();
    }
  }

  /** Open the target for append; synchronous so an unwritable path fails at once. */
  private open(): Writable {
    let fd: number;
    try {
      fd = fs.openSync(this.target, 'a');
      const st = fs.fstatSync(fd);
      this.bytes = st.size;
      // Only a regular file may be rotated: renaming /dev/null or a FIFO would break them.
      this.rotatable = st.isFile();
    } catch (err) {
      throw new OutputError(this.what, this.target, err as NodeJS.ErrnoException);
    }
    this.openedAt = Date.now();
    const s = fs.createWriteStream('', { fd });
    this.watch(s);
    return s;
  }

  private watch(s: Writable): void {
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= new OutputError(this.what, this.target, err);
    });
  }

  /** The first write error, if any (the caller stops reading when there is one). */
  get error(): OutputError | null {
    return this.failure;
  }

  write(doc: object): void {
    if (this.failure !== null) return;
    const line = JSON.stringify(doc) + '\n';
    if (this.rotatable && this.dueForRotation(line.length)) this.rotateNow();
    this.count++;
    this.bytes += Buffer.byteLength(line);
    this.stream.write(line);
  }

  private dueForRotation(nextBytes: number): boolean {
    const { maxBytes, maxAgeSec } = this.rotate;
    if (this.bytes === 0) return false;
    return (maxBytes !== undefined && this.bytes + nextBytes > maxBytes) ||
      (maxAgeSec !== undefined && Date.now() - this.openedAt >= maxAgeSec * 1000);
  }

  /** Move the current file aside as TARGET.<UTC time>[.n] and start an empty one. */
  private rotateNow(): void {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let aside = `${this.target}.${stamp}`;
    for (let n = 1; fs.existsSync(aside); n++) aside = `${this.target}.${stamp}.${n}`;
    try {
      // Pending writes still land in the moved file: the descriptor follows the rename.
      fs.renameSync(this.target, aside);
    } catch (err) {
      this.failure ??= new OutputError(this.what, this.target, err as NodeJS.ErrnoException);
      return;
    }
    this.rotated.push(aside);
    this.stream.end();
    this.stream = this.open();
  }

  /** Reopen the target by name (SIGHUP after an external rotation); no-op for stdout. */
  reopen(): void {
    if (!this.ownsStream || this.failure !== null) return;
    this.stream.end();
    try {
      this.stream = this.open();
    } catch (err) {
      this.failure ??= err as OutputError;
    }
  }

  /** Resolves once the stream can take more without buffering without bound. */
  async ready(): Promise<void> {
    // Ask the stream itself: a flag set by write() can miss a 'drain' emitted while the
    // caller was busy elsewhere, and then nothing would ever wake the wait.
    while (this.failure === null && this.stream.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.once('drain', done);
        this.stream.once('error', done);
      });
    }
    if (this.failure !== null) throw this.failure;
  }

  async close(): Promise<void> {
    if (!this.ownsStream) {
      await this.ready();
      return;
    }
    await new Promise<void>((resolve) => {
      if (this.failure !== null) {
        this.stream.destroy();
        resolve();
        return;
      }
      this.stream.end((err?: Error | null) => {
        // The last writes can fail only now (ENOSPC on /dev/full): that must not pass quietly.
        if (err) this.failure ??= new OutputError(this.what, this.target, err);
        resolve();
      });
    });
    if (this.failure !== null) throw this.failure;
  }
}
