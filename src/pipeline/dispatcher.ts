// The dispatcher: splits each batch read from libpcap into per-shard batches by the symmetric
// flow hash (both directions of a flow land on the same shard) and hands whole batches to the
// shard workers. One worker per shard through worker_threads directly: a shard's flow table
// must live in one thread for the whole run, which is what piscina's task model does not
// give (see bench/README.md for the figures behind the choice).

import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { RECORD_HEADER_BYTES, recordSize } from '../capture/batch-format';
import { FlowRecord } from '../flow/flow-record';
import { FlowTableOptions } from '../flow/flow-table';
import { FromShard, ShardInit, ToShard } from './messages';
import { ShardKeyer } from './shard-key';
import { ShardProcessor, ShardStats, wireLength } from './shard-processor';
import { RestartBudget, WorkerLoss } from './worker-restarts';

export type { WorkerLoss } from './worker-restarts';

/**
 * Bytes per shard batch: transfers below about 256 KiB cost more than they carry, and one
 * batch must hold the largest record the addon can hand over (snaplen 262144 + header).
 */
export const SHARD_BATCH_BYTES = 320 * 1024;
/** Batches in flight per shard before the dispatcher waits (bounds memory and queue depth). */
export const SHARD_BUFFERS = 4;
/** Seconds of packet time between clock ticks sent to every shard. */
export const PACKET_TICK_SEC = 5;

export interface PipelineOptions {
  /** Shard worker threads; 0 runs one shard inline on the calling thread. */
  workers: number;
  flowTable: FlowTableOptions;
  onRecord: (r: FlowRecord) => void;
  /**
   * Replace a shard worker that dies (live capture: the sensor keeps running, the loss is
   * counted). Without it a dead worker fails the run (replay: a result with a hole in it
   * must not look complete).
   */
  restartWorkers?: boolean;
  /** Told of every worker that died and was replaced. */
  onWorkerLoss?: (loss: WorkerLoss) => void;
}

export interface PipelineStats {
  packets: number;
  bytes: number;
  /** Packets no shard could use, by decode anomaly name. */
  skipped: Record<string, number>;
  shards: ShardStats[];
  /** Shard workers that died and were replaced, and what they took with them. */
  workerRestarts: number;
  lostPackets: number;
  lostFlows: number;
}

/** What the pipeline is doing now: for metrics and the periodic stats log. */
export interface PipelineLiveStats {
  packets: number;
  bytes: number;
  skipped: Record<string, number>;
  /** Flows held in the tables (shard workers: as of their last tick). */
  flowsActive: number;
  /** Batches handed to each shard worker and not yet processed (empty when inline). */
  queueDepth: number[];
  /** Shard workers not running now (dead and not yet replaced, or still starting). */
  workersDown: number[];
  workerRestarts: number;
  lostPackets: number;
  lostFlows: number;
}

interface Shard {
  index: number;
  init: ShardInit;
  worker: Worker;
  /** The worker has started and has not died since. */
  online: boolean;
  /** The last uncaught error the worker reported, kept for the exit that follows it. */
  error: Error | null;
  /** Packets in `current`, and in each batch in flight (oldest first): what a crash loses. */
  currentPackets: number;
  batchPackets: number[];
  /** The shard's statistics from its last tick (flows it holds). */
  lastStats: ShardStats | null;
  free: ArrayBuffer[];
  current: Uint8Array | null;
  used: number;
  linkType: number;
  inFlight: number;
  waiters: Array<() => void>;
  flushed: ((s: ShardStats) => void) | null;
}

export class Pipeline {
  private readonly shards: Shard[] = [];
  private inline: ShardProcessor | null = null;
  private readonly keyer = new ShardKeyer();
  private packets = 0;
  private bytes = 0;
  private failure: Error | null = null;
  private nextTickSec = 0;
  /** Records too large for a shard batch (never seen on IP link types). */
  private oversized = 0;
  /** Set before the pipeline terminates its own workers: their exits are not crashes. */
  private stopping = false;
  private readonly restarts = new RestartBudget();

  constructor(private readonly opts: PipelineOptions) {
    if (opts.workers === 0) {
      this.inline = new ShardProcessor(0, opts.flowTable, opts.onRecord);
      return;
    }
    // Each shard's table gets its share of the configured capacity.
    const perShard = {
      ...opts.flowTable,
      capacity: Math.max(1, Math.ceil(opts.flowTable.capacity / opts.workers)),
      entropyPool: Math.max(1, Math.ceil(opts.flowTable.entropyPool / opts.workers)),
      inspectorPool: Math.max(1, Math.ceil(opts.flowTable.inspectorPool / opts.workers)),
    };
    for (let i = 0; i < opts.workers; i++) {
      const shard: Shard = {
        index: i, init: { shard: i, flowTable: perShard }, worker: null as unknown as Worker,
        online: false, error: null, currentPackets: 0, batchPackets: [], lastStats: null,
        free: [], current: null, used: 0, linkType: -1, inFlight: 0, waiters: [], flushed: null,
      };
      for (let b = 0; b < SHARD_BUFFERS; b++) shard.free.push(new ArrayBuffer(SHARD_BATCH_BYTES));
      this.startWorker(shard);
      this.shards.push(shard);
    }
  }

  private startWorker(shard: Shard): void {
    const worker = new Worker(path.join(__dirname, 'shard-worker.js'), { workerData: shard.init });
    shard.worker = worker;
    shard.online = false;
    shard.error = null;
    worker.on('online', () => {
      shard.online = true;
    });
    worker.on('message', (m: FromShard) => this.onShardMessage(shard, m));
    // An uncaught error is followed by 'exit': that is where the shard is replaced.
    worker.on('error', (err) => {
      shard.error = err;
    });
    worker.on('exit', (code) => {
      if (shard.worker === worker) this.onWorkerExit(shard, code);
    });
  }

  get totalPackets(): number {
    return this.packets;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** Route every record of one read batch. Resolves once each packet is owned by a shard. */
  async feed(buf: Uint8Array, bytes: number, linkType: number): Promise<void> {
    this.throwIfFailed();
    const words = new Uint32Array(buf.buffer, buf.byteOffset, bytes >>> 2);
    if (this.inline !== null) {
      for (let off = 0; off + RECORD_HEADER_BYTES <= bytes;) {
        const caplen = words[off >>> 2];
        this.bytes += wireLength(caplen, words[(off >>> 2) + 1]);
        this.packets++;
        off += recordSize(caplen);
      }
      // Inline mode keeps its own decode counters; the dispatcher only counts traffic.
      this.inline.processBatch(buf, bytes, linkType);
      return;
    }
    // Records bound for one shard, back to back in `buf`, are copied as one run: with one
    // shard a whole read batch is a few copies, and no packet is decoded here at all.
    const n = this.shards.length;
    let run: Shard | null = null;
    let runStart = 0;
    let off = 0;
    while (off + RECORD_HEADER_BYTES <= bytes) {
      const caplen = words[off >>> 2];
      this.bytes += wireLength(caplen, words[(off >>> 2) + 1]);
      const sec = words[(off >>> 2) + 2];
      if (sec >= this.nextTickSec) {
        // Packet time moved on: shards with little traffic of their own must still see the
        // clock, or their idle and active timeouts would lag the capture.
        if (run !== null) this.copyRun(run, buf, runStart, off);
        run = null;
        if (this.nextTickSec !== 0) await this.tick(sec);
        this.nextTickSec = sec + PACKET_TICK_SEC;
      }
      this.packets++;
      const size = recordSize(caplen);
      if (size > SHARD_BATCH_BYTES) {
        // Beyond any IP link's snaplen (libpcap caps those at 262144); counted, not copied.
        if (run !== null) this.copyRun(run, buf, runStart, off);
        run = null;
        this.oversized++;
        off += size;
        continue;
      }
      const shard = n === 1 ? this.shards[0]
        : this.shards[(this.keyer.key(buf, off + RECORD_HEADER_BYTES, caplen, linkType) >>> 0) % n];
      const pending = run === shard ? off - runStart : 0;
      if (run !== shard || shard.current === null ||
        shard.used + pending + size > shard.current.length || shard.linkType !== linkType) {
        if (run !== null) this.copyRun(run, buf, runStart, off);
        if (shard.current === null || shard.used + size > shard.current.length ||
          shard.linkType !== linkType) {
          await this.rotate(shard, linkType);
        }
        run = shard;
        runStart = off;
      }
      // Per shard packet counts (after any rotation) are what a worker crash is known to lose.
      shard.currentPackets++;
      off += size;
    }
    if (run !== null) this.copyRun(run, buf, runStart, off);
  }

  private copyRun(shard: Shard, buf: Uint8Array, start: number, end: number): void {
    shard.current!.set(buf.subarray(start, end), shard.used);
    shard.used += end - start;
  }

  /** Let idle and active timeouts run on a quiet link (live capture). */
  async tick(now: number): Promise<void> {
    this.throwIfFailed();
    if (this.inline !== null) {
      this.inline.advance(now);
      return;
    }
    for (const s of this.shards) {
      // Packets already routed are older than `now`: they must reach the shard first.
      this.send(s);
      s.worker.postMessage({ type: 'tick', now } satisfies ToShard);
    }
  }

  /** Send what is buffered, end every flow, stop the workers and return the statistics. */
  async finish(): Promise<PipelineStats> {
    let shards: ShardStats[];
    if (this.inline !== null) {
      this.inline.flush();
      shards = [this.inline.stats()];
    } else {
      // A worker already dead would never answer the flush.
      this.throwIfFailed();
      for (const s of this.shards) this.send(s);
      shards = await Promise.all(this.shards.map((s) => new Promise<ShardStats>((resolve) => {
        s.flushed = resolve;
        s.worker.postMessage({ type: 'flush' } satisfies ToShard);
      })));
      this.throwIfFailed();
      this.stopping = true;
      await Promise.all(this.shards.map((s) => s.worker.terminate()));
    }
    // Every packet is decoded once, by the shard it went to, which counts its anomalies.
    const skipped: Record<string, number> = {};
    for (const s of shards) {
      for (const [name, count] of Object.entries(s.anomalies ?? {})) {
        skipped[name] = (skipped[name] ?? 0) + count;
      }
    }
    if (this.oversized > 0) skipped.oversized_record = this.oversized;
    return {
      packets: this.packets, bytes: this.bytes, skipped, shards,
      workerRestarts: this.restarts.count, lostPackets: this.restarts.lostPackets,
      lostFlows: this.restarts.lostFlows,
    };
  }

  /** Figures of the run so far; cheap enough to ask every few seconds, not per packet. */
  liveStats(): PipelineLiveStats {
    const inline = this.inline?.stats();
    // Shards count their own anomalies; between ticks these are as of each shard's last one.
    const skipped: Record<string, number> = {};
    const perShard = inline !== undefined ? [inline] : this.shards.map((sh) => sh.lastStats);
    for (const st of perShard) {
      for (const [name, count] of Object.entries(st?.anomalies ?? {})) {
        skipped[name] = (skipped[name] ?? 0) + count;
      }
    }
    if (this.oversized > 0) skipped.oversized_record = this.oversized;
    return {
      packets: this.packets, bytes: this.bytes, skipped,
      flowsActive: inline !== undefined ? inline.flowsInTable
        : this.shards.reduce((a, s) => a + (s.lastStats?.flowsInTable ?? 0), 0),
      queueDepth: this.shards.map((s) => s.inFlight),
      workersDown: this.shards.filter((s) => !s.online).map((s) => s.index),
      workerRestarts: this.restarts.count,
      lostPackets: this.restarts.lostPackets,
      lostFlows: this.restarts.lostFlows,
    };
  }

  /** Stop the workers without flushing (after a failure). */
  async destroy(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }

  private async rotate(shard: Shard, linkType: number): Promise<void> {
    this.send(shard);
    while (shard.free.length === 0) {
      await new Promise<void>((resolve) => shard.waiters.push(resolve));
      this.throwIfFailed();
    }
    shard.current = new Uint8Array(shard.free.pop()!);
    shard.used = 0;
    shard.linkType = linkType;
  }

  private send(shard: Shard): void {
    if (shard.current === null || shard.used === 0) return;
    const buf = shard.current.buffer as ArrayBuffer;
    const msg: ToShard = { type: 'batch', buf, bytes: shard.used, linkType: shard.linkType };
    shard.worker.postMessage(msg, [buf]);
    shard.inFlight++;
    shard.batchPackets.push(shard.currentPackets);
    shard.current = null;
    shard.used = 0;
    shard.currentPackets = 0;
  }

  private onShardMessage(shard: Shard, m: FromShard): void {
    for (const r of m.records) this.opts.onRecord(r);
    if (m.type === 'batch-done') {
      shard.inFlight--;
      shard.batchPackets.shift();
      shard.free.push(m.buf);
      const w = shard.waiters.shift();
      if (w) w();
    } else if (m.type === 'tick-done') {
      shard.lastStats = m.stats;
    } else if (m.type === 'flushed' && shard.flushed) {
      shard.flushed(m.stats);
    }
  }

  /**
   * A worker ended without being asked: an uncaught error in it, or killed. Its flow table
   * and the batches it had not processed are gone; a fresh worker takes the shard over with
   * new buffers (the old ones went with the dead thread), so waiting feeds and a pending
   * flush go on against it.
   *
   * Known gap: a worker that hangs (alive, never answering) is not detected; feed() then
   * waits on its buffers and the kernel ring overflows. A watchdog on unanswered ticks that
   * terminates the worker (and so lands here) is the missing piece.
   */
  private onWorkerExit(shard: Shard, code: number): void {
    shard.online = false;
    if (this.stopping || this.failure) return;
    const error = shard.error ??
      new Error(`shard worker ${shard.index} exited with code ${code}`);
    if (!this.opts.restartWorkers) {
      this.fail(error);
      return;
    }
    const loss: WorkerLoss = {
      shard: shard.index, code, error, restarts: 0,
      packets: shard.batchPackets.reduce((a, n) => a + n, 0),
      flows: shard.lastStats?.flowsInTable ?? 0,
    };
    const refused = this.restarts.take(loss);
    if (refused !== null) {
      this.fail(refused);
      return;
    }
    for (let b = 0; b < shard.inFlight; b++) shard.free.push(new ArrayBuffer(SHARD_BATCH_BYTES));
    shard.inFlight = 0;
    shard.batchPackets = [];
    shard.lastStats = null;
    this.startWorker(shard);
    for (const w of shard.waiters.splice(0)) w();
    if (shard.flushed !== null) {
      // finish() is waiting on this shard: the new worker answers for it (with nothing).
      this.send(shard);
      shard.worker.postMessage({ type: 'flush' } satisfies ToShard);
    }
    this.opts.onWorkerLoss?.(loss);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const s of this.shards) {
      for (const w of s.waiters.splice(0)) w();
      if (s.flushed) s.flushed({} as ShardStats);
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
