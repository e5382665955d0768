// One JSON document per line to standard output or a file, honouring back-pressure: the
// caller awaits `ready()` between batches so a slow disk or pipe slows the reader instead of
// growing memory.

import fs from 'node:fs';
import { Writable } from 'node:stream';

export class NdjsonWriter {
  private readonly stream: Writable;
  private readonly ownsStream: boolean;
  private blocked = false;
  count = 0;

  constructor(target: string) {
    if (target === '-') {
      this.stream = process.stdout;
      this.ownsStream = false;
    } else {
      // Open synchronously so an unwritable path fails at start with a clear message.
      const fd = fs.openSync(target, 'w');
      this.stream = fs.createWriteStream('', { fd });
      this.ownsStream = true;
    }
  }

  write(doc: object): void {
    this.count++;
    if (!this.stream.write(JSON.stringify(doc) + '\n')) this.blocked = true;
  }

  /** Resolves once the stream can take more without buffering without bound. */
  async ready(): Promise<void> {
    if (!this.blocked) return;
    await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
    this.blocked = false;
  }

  async close(): Promise<void> {
    if (!this.ownsStream) {
      await this.ready();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
