// `tunnelhound live`: the same data path on a live interface. Reads run on libuv's thread
// pool (readBatchAsync), so the event loop stays free for workers, writers and signals.

import { PcapHandle } from '../capture/pcap';
import { TunnelhoundConfig } from '../config/defaults';
import { RotateOptions } from '../output/ndjson-writer';
import { Logger } from './log';
import { reloadConfig } from './reload';
import { abandonSinks, Sensor, SensorSummary, SinkRoute, summaryLine } from './sensor';
import { READ_BUFFER_BYTES } from './replay';
import { EndpointFeed } from '../endpoint/feed';

/** How often flow timeouts advance on a quiet link and capture statistics are refreshed. */
const TICK_MS = 1000;
/** Capture statistics go to the log this often. */
const STATS_LOG_MS = 60_000;

export interface LiveOptions {
  device: string;
  snaplen: number;
  bufferSize: number;
  promiscuous: boolean;
  config: TunnelhoundConfig;
  /** Where the config came from: SIGHUP reads it again. */
  configFile?: string;
  workers: number;
  alerts: string;
  flows?: string;
  sinks?: SinkRoute[];
  deliveryTimeoutMs?: number;
  rotate?: RotateOptions;
  bpf?: string;
  log: Logger;
  endpoint?: EndpointFeed;
}

export interface LiveSummary extends SensorSummary {
  capture: { received: number; dropped: number; ifDropped: number } | null;
}

export async function live(opts: LiveOptions): Promise<LiveSummary> {
  let h: PcapHandle;
  try {
    h = PcapHandle.openLive({
      device: opts.device, snaplen: opts.snaplen, bufferSize: opts.bufferSize,
      promiscuous: opts.promiscuous, timeoutMs: 100,
    });
    if (opts.bpf !== undefined) h.setFilter(opts.bpf);
  } catch (err) {
    await abandonSinks(opts.sinks);
    await opts.endpoint?.close();
    throw err;
  }
  const link = h.datalink();
  const started = process.hrtime.bigint();
  const sensor = new Sensor({
    config: opts.config, workers: opts.workers, alerts: opts.alerts, flows: opts.flows,
    sinks: opts.sinks, deliveryTimeoutMs: opts.deliveryTimeoutMs, rotate: opts.rotate,
    endpoint: opts.endpoint,
  });
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    opts.log.info({ signal: sig }, 'stopping capture');
    h.breakLoop();
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  // SIGHUP reopens the output files (logrotate) and reloads the config file; flows and the
  // capture go on untouched.
  const onHup = () => {
    opts.log.info('reopening output files');
    sensor.reopen();
    if (opts.configFile !== undefined) reloadConfig(opts.configFile, sensor, opts.log);
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  opts.log.info({ device: opts.device, linktype: link.name }, 'capture started');
  const tick = setInterval(() => {
    sensor.pipeline.tick(Date.now() / 1000).catch((err) => opts.log.error({ err }, 'tick'));
  }, TICK_MS);
  const statsTimer = setInterval(() => {
    opts.log.info({ capture: h.stats(), packets: sensor.pipeline.totalPackets }, 'capture stats');
  }, STATS_LOG_MS);
  const buf = new Uint8Array(new ArrayBuffer(READ_BUFFER_BYTES));
  let capture: LiveSummary['capture'] = null;
  try {
    while (!stopping) {
      const r = await h.readBatchAsync(buf);
      if (r.bytes > 0) await sensor.pipeline.feed(buf, r.bytes, link.type);
      await sensor.drain();
      if (r.eof) break;
    }
    capture = h.stats();
  } catch (err) {
    // Workers would keep the process alive after a failure (an output that broke).
    await sensor.pipeline.destroy();
    await abandonSinks(opts.sinks);
    await opts.endpoint?.close();
    throw err;
  } finally {
    clearInterval(tick);
    clearInterval(statsTimer);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
    h.close();
  }
  const summary = await sensor.finish();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const c = capture;
  process.stderr.write(summaryLine(summary, elapsed) +
    (c ? `; capture: ${c.received} received, ${c.dropped} dropped by kernel, ` +
      `${c.ifDropped} dropped by interface` : '') + '\n');
  return { ...summary, capture };
}
