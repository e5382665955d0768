// The delivery loop shared by the network sinks: documents go into memory without blocking,
// one loop sends them in batches over a transport, retries failures with exponential backoff,
// and moves lines to an on-disk spool while the receiver is failing or memory is full.
// Invariant: everything in the spool is older than everything in memory, so delivering the
// spool first keeps documents oldest first (one exception is noted in `spill`).

import type { DocKind, Sink, SinkStats } from './sink';
import { Spool } from './spool';

/** What one send achieved when the receiver judged documents one by one (ES `_bulk`). */
export interface SendOutcome {
  /** Documents refused for good (mapping error, malformed): counted as dropped. */
  dropped: number;
  /** Documents to send again later (the receiver was busy with them). */
  retry: string[];
}

export interface Transport {
  /**
   * Delivers the batch; resolves when the receiver took it (all of it when no outcome is
   * returned). Rejects on failure; an error with `retryable: false` means the batch can never
   * succeed.
   */
  send(lines: string[]): Promise<SendOutcome | void>;
  close(): Promise<void>;
}

export interface DeliveryOptions {
  /** Names the sink in stats and its spool files. */
  name: string;
  batchMaxLines: number;
  batchMaxMs: number;
  memoryMaxLines: number;
  spoolDir?: string;
  spoolMaxBytes: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

/** Defaults in one place. A batch of 500 ECS docs is ~0.5 MB, well under receivers' limits. */
export const DELIVERY_DEFAULTS = {
  batchMaxLines: 500,
  batchMaxMs: 1000,
  memoryMaxLines: 10_000,
  spoolMaxBytes: 256 * 1024 * 1024,
  backoffMinMs: 250,
  backoffMaxMs: 30_000,
} as const;

export class DeliveryOptionError extends Error {
  override readonly name = 'DeliveryOptionError';
  readonly code = 'ERR_SINK_OPTION';
}

interface InFlight {
  lines: string[];
  /** Set when the lines came from the spool: commit removes them there. */
  commit: (() => void) | null;
}

export class DeliveryQueue implements Sink {
  readonly name: string;
  private readonly opts: DeliveryOptions;
  private readonly spool: Spool | null;
  private memory: string[] = [];
  private inFlight: InFlight | null = null;
  private counts = { sent: 0, retried: 0, spooled: 0, dropped: 0 };
  /** Consecutive failed sends; drives the backoff and routes new lines to the spool. */
  private failures = 0;
  private closing = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private batchTimer: NodeJS.Timeout | null = null;
  private readonly loop: Promise<void>;
  private closed: Promise<void> | null = null;
  /**
   * The first spool error, shown in stats() (summary line, minute stats line); never thrown
   * from push.
   */
  spoolError: Error | null = null;

  constructor(private readonly transport: Transport,
    options: Partial<DeliveryOptions> & { name: string }) {
    // An option given as undefined (an unset CLI flag) keeps its default.
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.opts = { ...DELIVERY_DEFAULTS, ...given, name: options.name };
    this.name = this.opts.name;
    for (const key of ['batchMaxLines', 'batchMaxMs', 'memoryMaxLines', 'spoolMaxBytes',
      'backoffMinMs', 'backoffMaxMs'] as const) {
      const v = this.opts[key];
      if (!Number.isFinite(v) || v <= 0) {
        throw new DeliveryOptionError(`sink ${this.name}: ${key} must be a positive number, ` +
          `got ${v}`);
      }
    }
    this.spool = this.opts.spoolDir === undefined ? null
      : new Spool(this.opts.spoolDir, this.name, this.opts.spoolMaxBytes);
    this.loop = this.run();
  }

  push(json: string, _kind: DocKind): void {
    // The kind is not needed here: a transport that cares (HEC sourcetype) reads event.kind
    // from the document, which also survives the spool, where no side channel would.
    if (this.stopped) {
      this.counts.dropped++;
      return;
    }
    this.memory.push(json);
    if (this.memory.length > this.opts.memoryMaxLines) {
      this.spill();
    } else if (this.failures > 0 && this.memory.length >= this.opts.batchMaxLines) {
      // The receiver is failing: keep memory small, the lines wait on disk instead.
      this.spill();
    }
    if (this.memory.length >= this.opts.batchMaxLines) this.poke();
    else if (this.batchTimer === null && this.memory.length > 0) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = null;
        this.poke();
      }, this.opts.batchMaxMs);
    }
  }

  stats(): SinkStats {
    const spoolLost = this.spool === null ? 0 : this.spool.dropped + this.spool.corrupt;
    const memFlight = this.inFlight !== null && this.inFlight.commit === null
      ? this.inFlight.lines.length : 0;
    return {
      ...this.counts,
      dropped: this.counts.dropped + spoolLost,
      queued: this.memory.length + memFlight,
      ...(this.spoolError === null ? {} : { spoolError: this.spoolError.message }),
    };
  }

  close(timeoutMs: number): Promise<void> {
    // A second close waits for the first instead of starting another deadline.
    this.closed ??= this.shutdown(timeoutMs);
    return this.closed;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.poke();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.loop,
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
    this.stopped = true;
    this.poke();
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    // A send still running at the deadline may yet succeed: its lines are spooled anyway, and
    // a later run may deliver them twice. ES drops that duplicate by its _id; HEC may not.
    const flight = this.inFlight;
    this.inFlight = null;
    if (flight !== null && flight.commit === null) this.memory.unshift(...flight.lines);
    this.spill(true);
    try {
      await this.transport.close();
    } catch {
      // Nothing left to deliver over it; a failing close must not fail the shutdown.
    }
  }

  /** Sends while there is anything to send; ends once closed. Never rejects. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (await this.step()) return;
      } catch (err) {
        // Only the spool's disk can fail here (unreadable, unwritable): keep the error for
        // the summary and try again later rather than end delivery for good.
        this.spoolError ??= err as Error;
        this.failures++;
        await this.backoff();
      }
    }
  }

  /** One batch sent, or one wait for work; true when the loop is done. */
  private async step(): Promise<boolean> {
    const batch = this.nextBatch();
    if (batch === null) {
      if (this.closing) return true; // everything delivered
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = null;
      return false;
    }
    this.inFlight = batch;
    let outcome: SendOutcome | void = undefined;
    let error: unknown = null;
    try {
      outcome = await this.transport.send(batch.lines);
    } catch (err) {
      error = err;
    }
    if (this.stopped) return true; // close() took over the lines in flight
    this.inFlight = null;

    if (error === null) {
      this.delivered(batch, outcome);
      if (this.failures > 0) await this.backoff(); // some documents were refused as busy
    } else if ((error as { retryable?: unknown }).retryable === false) {
      // A poison batch (the receiver refuses it as such, e.g. HTTP 400) would fail forever
      // and block everything behind it: count it as dropped and move on.
      this.counts.dropped += batch.lines.length;
      batch.commit?.();
      this.failures = 0;
    } else {
      this.failed(batch, batch.lines);
      await this.backoff();
    }
    return false;
  }

  /** The next batch: spool first (it is older), memory once the batch is full or due. */
  private nextBatch(): InFlight | null {
    if (this.spool !== null && !this.spool.empty) {
      const taken = this.spool.takeBatch(this.opts.batchMaxLines);
      if (taken.lines.length > 0) return { lines: taken.lines, commit: taken.commit };
      taken.commit(); // only unreadable lines were left there
      if (!this.spool.empty) return this.nextBatch();
    }
    const due = this.closing || this.batchTimer === null ||
      this.memory.length >= this.opts.batchMaxLines;
    if (this.memory.length === 0 || !due) return null;
    if (this.batchTimer !== null) {
      clearTimeout(this.batchTimer);
      this.batchTimer = null;
    }
    return { lines: this.memory.splice(0, this.opts.batchMaxLines), commit: null };
  }

  private delivered(batch: InFlight, outcome: SendOutcome | void): void {
    const retry = outcome ? outcome.retry : [];
    const dropped = outcome ? outcome.dropped : 0;
    this.counts.sent += batch.lines.length - retry.length - dropped;
    this.counts.dropped += dropped;
    batch.commit?.();
    this.failures = 0;
    if (retry.length > 0) this.failed({ lines: retry, commit: null }, retry);
  }

  /** Puts the lines back (in front of memory), then onto disk if there is a spool. */
  private failed(batch: InFlight, lines: string[]): void {
    this.failures++;
    this.counts.retried++;
    if (batch.commit === null) this.memory.unshift(...lines);
    this.spill();
  }

  /**
   * Moves memory to the spool (receiver failing, memory full, or closing); without a spool,
   * trims memory to its bound, oldest first. One exception to oldest-first: lines spilled
   * while a memory batch is in flight land before that batch if its send then fails.
   */
  private spill(all = false): void {
    if (this.spool === null) {
      const keep = all ? 0 : this.opts.memoryMaxLines;
      const over = this.memory.length - keep;
      if (over > 0) {
        this.memory.splice(0, over);
        this.counts.dropped += over;
      }
      return;
    }
    if (this.memory.length === 0 || (!all && this.failures === 0 &&
      this.memory.length <= this.opts.memoryMaxLines)) return;
    const lines = this.memory;
    this.memory = [];
    try {
      this.spool.append(lines);
      this.counts.spooled += lines.length;
    } catch (err) {
      // Disk full or unwritable: these lines are lost, counted, and the error kept.
      this.spoolError ??= err as Error;
      this.counts.dropped += lines.length;
    }
  }

  /** Exponential backoff with jitter, cut short by close. */
  private async backoff(): Promise<void> {
    const { backoffMinMs, backoffMaxMs } = this.opts;
    const ceiling = Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(this.failures - 1, 30));
    // Half fixed, half random: spreads many sensors' retries without ever retrying at once.
    const ms = ceiling / 2 + Math.random() * ceiling / 2;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.wake = null;
  }

  private poke(): void {
    this.wake?.();
  }
}
