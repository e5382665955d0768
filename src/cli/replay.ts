// `tunnelhound replay`: read capture files through the whole data path.

import fs from 'node:fs';
import type { SingleBar } from 'cli-progress';
import { CaptureError, PcapHandle } from '../capture/pcap';
import { TunnelhoundConfig } from '../config/defaults';
import { RotateOptions } from '../output/ndjson-writer';
import { Logger } from './log';
import { abandonSinks, Sensor, SensorSummary, SinkRoute, summaryLine } from './sensor';
import { EndpointFeed } from '../endpoint/feed';

/**
 * Bytes read from libpcap per call: big enough that the call cost vanishes per packet, small
 * enough that the batch is still in the CPU's cache when the packet path reads it (bulk
 * replay, best of 8: 1 MiB 0.67 s, 512 KiB 0.48 s, 256 KiB 0.50 s). Reading the next batch
 * on the libuv pool while this one is processed was tried and lost (0.60 s): the hop per
 * batch and the second buffer cost more than the overlap gave.
 */
export const READ_BUFFER_BYTES = 256 * 1024;

export interface ReplayOptions {
  files: string[];
  config: TunnelhoundConfig;
  workers: number;
  alerts?: string;
  flows?: string;
  sinks?: SinkRoute[];
  deliveryTimeoutMs?: number;
  rotate?: RotateOptions;
  fingerprints?: string;
  bpf?: string;
  progress: boolean;
  log: Logger;
  /** Endpoint events joined with the flows (file source, live sources). */
  endpoint?: EndpointFeed;
}

/**
 * Open every capture before any work, so a typo in the last one fails at once. Each is opened
 * exactly once: a FIFO or standard output of another program can only be read one time.
 */
function openAll(files: string[], bpf: string | undefined): PcapHandle[] {
  const handles: PcapHandle[] = [];
  try {
    for (const f of files) {
      const h = PcapHandle.openFile(f);
      handles.push(h);
      if (bpf !== undefined) h.setFilter(bpf);
    }
  } catch (err) {
    for (const h of handles) h.close();
    throw err;
  }
  return handles;
}

/** Bytes of the regular files among the captures (pipes have no size): the progress total. */
function totalSize(files: string[]): number {
  let total = 0;
  for (const f of files) {
    try {
      const st = fs.statSync(f);
      if (st.isFile()) total += st.size;
    } catch {
      // "-" (standard input) and the like: no size to show.
    }
  }
  return total;
}

export async function replay(opts: ReplayOptions): Promise<SensorSummary> {
  let handles: PcapHandle[];
  try {
    handles = openAll(opts.files, opts.bpf);
  } catch (err) {
    await abandonSinks(opts.sinks);
    throw err;
  }
  const totalBytes = totalSize(opts.files);
  const started = process.hrtime.bigint();
  let sensor: Sensor;
  try {
    sensor = new Sensor({
      config: opts.config, workers: opts.workers, alerts: opts.alerts, flows: opts.flows,
    sinks: opts.sinks, deliveryTimeoutMs: opts.deliveryTimeoutMs, rotate: opts.rotate,
      fingerprints: opts.fingerprints, endpoint: opts.endpoint,
    });
  } catch (err) {
    for (const h of handles) h.close();
    await opts.endpoint?.close();
    await abandonSinks(opts.sinks);
    throw err;
  }
  // cli-progress is required only when a bar is drawn (a terminal): 5 ms of start-up.
  const Bar = opts.progress && totalBytes > 0
    ? (require('cli-progress') as typeof import('cli-progress')).SingleBar : null;
  const bar: SingleBar | null = Bar === null ? null : new Bar({ stream: process.stderr,
    format: 'replay [{bar}] {percentage}% | {value}/{total} bytes | {packets} packets',
    hideCursor: true });
  bar?.start(totalBytes, 0, { packets: 0 });
  const buf = new Uint8Array(new ArrayBuffer(READ_BUFFER_BYTES));
  let consumed = 0;
  const onHup = () => sensor.reopen();
  process.on('SIGHUP', onHup);
  // A capture cut short (tcpdump killed mid-write) is common: what was read still counts, so
  // the flows are flushed and reported before the failure is.
  let readFailure: CaptureError | null = null;
  try {
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i];
      const link = h.datalink();
      opts.log.debug({ file: opts.files[i], linktype: link.type, linkname: link.name },
        'replay file');
      for (;;) {
        let r;
        try {
          r = h.readBatch(buf);
        } catch (err) {
          const reason = (err as Error).message;
          readFailure ??= new CaptureError('ERR_CAPTURE_READ',
            `capture ${opts.files[i]}: ${reason}; flows read so far are reported`);
          opts.log.info({ file: opts.files[i], err: reason }, 'capture read failed');
          break;
        }
        if (r.bytes > 0) await sensor.pipeline.feed(buf, r.bytes, link.type);
        await sensor.drain();
        // Record bytes approximate file bytes well enough for a progress bar.
        consumed += r.bytes;
        bar?.update(Math.min(consumed, totalBytes), { packets: sensor.pipeline.totalPackets });
        if (r.eof) break;
      }
      h.close();
    }
  } catch (err) {
    bar?.stop();
    process.off('SIGHUP', onHup);
    for (const h of handles) h.close();
    await sensor.pipeline.destroy();
    await opts.endpoint?.close();
    await abandonSinks(opts.sinks);
    throw err;
  }
  bar?.update(totalBytes, { packets: sensor.pipeline.totalPackets });
  bar?.stop();
  const summary = await sensor.finish();
  process.off('SIGHUP', onHup);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  opts.log.info({ summary: { ...summary, shards: undefined }, elapsedSec: elapsed },
    'replay done');
  process.stderr.write(summaryLine(summary, elapsed) + '\n');
  if (readFailure !== null) throw readFailure;
  return summary;
}
