// `--endpoint FILE` for replay: the agent's log read alongside the packets. The file is read
// lazily, in step with the packet clock: before a flow record is judged, lines are read until
// the events reach the record's last packet time plus the join window, so every event that
// could join the flow is in the index and no more than one window of future events is. What
// the join no longer needs it evicts by the same clock (join.ts). A log slightly out of order
// (auditd writes events as they complete) is absorbed by the window and the clock skew.

import fs from 'node:fs';
import { Logger } from '../cli/log';
import { EndpointJoin } from './join';
import { FeedCounts, LineFeed } from './line-feed';

/** Bytes read from the file per step. */
export const READ_CHUNK_BYTES = 256 * 1024;

/** The first bytes of a Windows .evtx file ("ElfFile\0"). */
export const EVTX_MAGIC = Buffer.from('ElfFile\0', 'latin1');

export class EndpointFileSource {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(READ_CHUNK_BYTES);
  private readonly feed: LineFeed;
  private readonly decoder = new TextDecoder('utf-8');
  private newest = -Infinity;
  private eof = false;
  /** The file starts like a Windows EVTX binary (known after the first read). */
  private evtx: boolean | undefined;

  constructor(readonly path: string, private readonly join: EndpointJoin,
    private readonly log: Logger, format?: string) {
    this.fd = fs.openSync(path, 'r');
    this.feed = new LineFeed((e) => {
      if (e.ts > this.newest) this.newest = e.ts;
      join.add(e);
    }, (line, why) => log.debug({ file: path, line, why }, 'endpoint line skipped'), format);
  }

  get counts(): FeedCounts {
    return this.feed.counts;
  }

  /** Read until an event later than `ts` has been seen, or the file ends. */
  advanceTo(ts: number): void {
    while (!this.eof && this.newest <= ts) {
      const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, null);
      if (n === 0) {
        this.eof = true;
        this.feed.write(this.decoder.decode());
        this.feed.end();
        fs.closeSync(this.fd);
        this.log.debug({ file: this.path, ...this.feed.counts }, 'endpoint file read');
        if (this.feed.counts.format === null && this.feed.counts.malformed > 0) {
          this.log.warn({ file: this.path, malformed: this.feed.counts.malformed,
            evtx: this.evtx }, this.evtx
            ? 'endpoint file is an EVTX binary: render it as XML first (wevtutil qe /f:xml, ' +
              'evtx_dump); no event read'
            : 'no endpoint format recognised in the file; no event read (--endpoint-format ' +
              'names one)');
        }
        break;
      }
      if (this.evtx === undefined) this.evtx = this.buf.subarray(0, 8).equals(EVTX_MAGIC);
      this.feed.write(this.decoder.decode(this.buf.subarray(0, n), { stream: true }));
    }
  }

  /** A run that ends early (failure) still releases the file. */
  close(): void {
    if (this.eof) return;
    this.eof = true;
    fs.closeSync(this.fd);
  }
}
