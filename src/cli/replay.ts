// `tunnelhound replay`: read capture files through the whole data path.

import fs from 'node:fs';
import { SingleBar } from 'cli-progress';
import { PcapHandle } from '../capture/pcap';
import { TunnelhoundConfig } from '../config/defaults';
import { Logger } from './log';
import { Sensor, SensorSummary, summaryLine } from './sensor';

/** Bytes read from libpcap per call: big enough that the call cost vanishes per packet. */
export const READ_BUFFER_BYTES = 1024 * 1024;

export interface ReplayOptions {
  files: string[];
  config: TunnelhoundConfig;
  workers: number;
  alerts?: string;
  flows?: string;
  fingerprints?: string;
  bpf?: string;
  progress: boolean;
  log: Logger;
}

/** Open every file once up front, so a typo in the last one fails before any work is done. */
function checkFiles(files: string[], bpf: string | undefined): number {
  let total = 0;
  for (const f of files) {
    const h = PcapHandle.openFile(f);
    try {
      if (bpf !== undefined) h.setFilter(bpf);
    } finally {
      h.close();
    }
    total += fs.statSync(f).size;
  }
  return total;
}

export async function replay(opts: ReplayOptions): Promise<SensorSummary> {
  const totalBytes = checkFiles(opts.files, opts.bpf);
  const started = process.hrtime.bigint();
  const sensor = new Sensor({
    config: opts.config, workers: opts.workers, alerts: opts.alerts, flows: opts.flows,
    fingerprints: opts.fingerprints,
  });
  const bar = opts.progress
    ? new SingleBar({ stream: process.stderr, format: 'replay [{bar}] {percentage}% | ' +
      '{value}/{total} bytes | {packets} packets', hideCursor: true })
    : null;
  bar?.start(totalBytes, 0, { packets: 0 });
  const buf = new Uint8Array(new ArrayBuffer(READ_BUFFER_BYTES));
  let consumed = 0;
  try {
    for (const file of opts.files) {
      const h = PcapHandle.openFile(file);
      try {
        if (opts.bpf !== undefined) h.setFilter(opts.bpf);
        const link = h.datalink();
        opts.log.debug({ file, linktype: link.type, linkname: link.name }, 'replay file');
        for (;;) {
          const r = h.readBatch(buf);
          if (r.bytes > 0) await sensor.pipeline.feed(buf, r.bytes, link.type);
          await sensor.drain();
          // Record bytes approximate file bytes well enough for a progress bar.
          consumed += r.bytes;
          bar?.update(Math.min(consumed, totalBytes), { packets: sensor.pipeline.totalPackets });
          if (r.eof) break;
        }
      } finally {
        h.close();
      }
    }
  } catch (err) {
    bar?.stop();
    await sensor.pipeline.destroy();
    throw err;
  }
  bar?.update(totalBytes, { packets: sensor.pipeline.totalPackets });
  bar?.stop();
  const summary = await sensor.finish();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  opts.log.info({ summary: { ...summary, shards: undefined }, elapsedSec: elapsed },
    'replay done');
  process.stderr.write(summaryLine(summary, elapsed) + '\n');
  return summary;
}
