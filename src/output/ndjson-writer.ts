// One JSON document per line to standard output or a file, honouring back-pressure: the
// caller awaits `ready()` between batches so a slow disk or pipe slows the reader instead of
// growing memory. A write error (disk full, reader gone) is kept and reported once, never
// thrown from an event handler.

import fs from 'node:fs';
import { Writable } from 'node:stream';

export class OutputError extends Error {
  override readonly name = 'OutputError';
  readonly code: string;

  constructor(readonly what: string, readonly target: string, cause: NodeJS.ErrnoException) {
    super(`cannot write ${what} to ${target === '-' ? 'standard output' : target}: ` +
      `${cause.code ?? cause.message}`);
    this.code = cause.code === 'EPIPE' ? 'ERR_OUTPUT_CLOSED' : 'ERR_OUTPUT';
  }
}

export class NdjsonWriter {
  private readonly stream: Writable;
  private readonly ownsStream: boolean;
  private failure: OutputError | null = null;
  count = 0;

  /** `what` names the output in messages ("alerts", "flow records"). */
  constructor(private readonly target: string, private readonly what: string) {
    if (target === '-') {
      this.stream = process.stdout;
      this.ownsStream = false;
    } else {
      // Open synchronously so an unwritable path fails at start with a clear message.
      let fd: number;
      try {
        fd = fs.openSync(target, 'w');
      } catch (err) {
        throw new OutputError(what, target, err as NodeJS.ErrnoException);
      }
      this.stream = fs.createWriteStream('', { fd });
      this.ownsStream = true;
    }
    this.stream.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= new OutputError(this.what, this.target, err);
    });
  }

  /** The first write error, if any (the caller stops reading when there is one). */
  get error(): OutputError | null {
    return this.failure;
  }

  write(doc: object): void {
    if (this.failure !== null) return;
    this.count++;
    this.stream.write(JSON.stringify(doc) + '\n');
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
      this.stream.end(() => resolve());
      this.stream.once('error', () => resolve());
    });
    if (this.failure !== null) throw this.failure;
  }
}
