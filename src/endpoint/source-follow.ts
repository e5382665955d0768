// `--endpoint-follow FILE` for live runs: `tail -F` of an agent's log. Polls the path (a
// rotated log is a new file under the old name, which fs.watch reports unreliably across
// filesystems): a different inode means rotation, so the old descriptor is read to its end
// and the new file is opened from its start; a size below the read position means the file
// was truncated in place (copytruncate), so reading restarts at 0. Each poll reads a bounded
// number of bytes, so a burst of log never stalls the event loop.
// gap: a truncation followed, before the next poll, by writes past the old position looks
// like growth (tail -F has the same blind spot); the lines before the position are missed.

import fs from 'node:fs';
import { Logger } from '../cli/log';
import { EndpointJoin } from './join';
import { FeedCounts, LineFeed } from './line-feed';

export const DEFAULT_POLL_MS = 250;
/** Bytes read per poll at most: the rest waits for the next poll. */
export const MAX_BYTES_PER_POLL = 4 * 1024 * 1024;
const CHUNK = 256 * 1024;

export interface FollowOptions {
  pollMs?: number;
  /** Start at the beginning of the existing file (default: at its end, as tail -F). */
  fromStart?: boolean;
  format?: string;
}

export class EndpointFollowSource {
  private fd: number | null = null;
  private ino = -1;
  private pos = 0;
  private feed: LineFeed;
  private readonly timer: NodeJS.Timeout;
  private readonly buf = Buffer.alloc(CHUNK);
  private decoder = new TextDecoder('utf-8');
  /** Rotations and truncations seen (for tests and the log). */
  rotations = 0;
  truncations = 0;
  private closedCounts: FeedCounts = { events: 0, malformed: 0, format: null };

  constructor(readonly path: string, private readonly join: EndpointJoin,
    private readonly log: Logger, private readonly opts: FollowOptions = {}) {
    this.feed = this.newFeed();
    this.open(opts.fromStart !== true);
    this.timer = setInterval(() => this.poll(), opts.pollMs ?? DEFAULT_POLL_MS);
    this.timer.unref();
  }

  private newFeed(): LineFeed {
    return new LineFeed((e) => this.join.add(e), (line, why) =>
      this.log.debug({ file: this.path, line, why }, 'endpoint line skipped'), this.opts.format);
  }

  get counts(): FeedCounts {
    const c = this.feed.counts;
    return { events: c.events + this.closedCounts.events,
      malformed: c.malformed + this.closedCounts.malformed, format: c.format };
  }

  private open(atEnd: boolean): void {
    try {
      this.fd = fs.openSync(this.path, 'r');
      const st = fs.fstatSync(this.fd);
      this.ino = st.ino;
      this.pos = atEnd ? st.size : 0;
    } catch {
      this.fd = null; // not there yet (agent not started, mid-rotation): the next poll retries
    }
  }

  /** One poll: rotation, truncation, then new bytes (bounded). Public for tests. */
  poll(): void {
    if (this.fd === null) {
      this.open(false);
      if (this.fd === null) return;
    }
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(this.path);
    } catch {
      st = null; // renamed away, new file not created yet
    }
    if (st !== null && st.ino !== this.ino) {
      // What the agent wrote before rotating is read to its end first, a bounded chunk per
      // poll like any backlog; the new file waits (switching after one chunk lost the rest).
      if (this.read(MAX_BYTES_PER_POLL) >= MAX_BYTES_PER_POLL) return;
      this.rotations++;
      this.log.info({ file: this.path }, 'endpoint log rotated');
      this.restart();
      fs.closeSync(this.fd!);
      this.open(false);
      if (this.fd === null) return;
    } else if (st !== null && st.size < this.pos) {
      this.truncations++;
      this.log.info({ file: this.path }, 'endpoint log truncated');
      this.restart();
      this.pos = 0;
    }
    this.read(MAX_BYTES_PER_POLL);
  }

  /** A new file starts a new line stream (and a new format detection). */
  private restart(): void {
    this.feed.write(this.decoder.decode());
    this.feed.end();
    const c = this.feed.counts;
    this.closedCounts = { events: this.closedCounts.events + c.events,
      malformed: this.closedCounts.malformed + c.malformed, format: c.format };
    this.decoder = new TextDecoder('utf-8');
    this.feed = this.newFeed();
  }

  /** Reads up to `limit` new bytes into the feed; returns how many it read. */
  private read(limit: number): number {
    if (this.fd === null) return 0;
    let total = 0;
    while (total < limit) {
      const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
      if (n === 0) break;
      this.pos += n;
      total += n;
      this.feed.write(this.decoder.decode(this.buf.subarray(0, n), { stream: true }));
    }
    return total;
  }

  close(): void {
    clearInterval(this.timer);
    if (this.fd !== null) {
      this.read(MAX_BYTES_PER_POLL);
      fs.closeSync(this.fd);
      this.fd = null;
    }
    this.feed.end();
  }
}
