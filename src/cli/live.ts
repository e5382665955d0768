// `tunnelhound live`: the same data path on a live interface. Reads run on libuv's thread
// pool (readBatchAsync), so the event loop stays free for workers, writers and signals.

import { PcapHandle } from '../capture/pcap';
import { TunnelhoundConfig } from '../config/defaults';
import { RotateOptions } from '../output/ndjson-writer';
import { ListenAddress } from '../output/metrics-server';
import { LiveMonitor } from './live-monitor';
import { Logger } from './log';
import { reloadConfig } from './reload';
import { releaseSignals } from './early-signals';
import { asUser, Credentials, dropPrivileges, resolveCredentials } from './privileges';
import { abandonSinks, Sensor, SensorSummary, SinkRoute, summaryLine } from './sensor';
import { READ_BUFFER_BYTES } from './replay';
import { EndpointFeed } from '../endpoint/feed';
import { UsageError } from './errors';
import { checkSpool } from './sink-options';

/** How often flow timeouts advance on a quiet link and capture statistics are refreshed. */
const TICK_MS = 1000;

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
  /** Serve Prometheus metrics and /healthz here. */
  metrics?: ListenAddress;
  /** Period of the capture stats log line (default one minute). */
  statsIntervalMs?: number;
  /** `NAME[:GROUP]` to become once the capture, the outputs and the metrics port are open. */
  user?: string;
  /** The sinks' --spool directory: it must be writable by `user` too. */
  spool?: string;
}

export interface LiveSummary extends SensorSummary {
  capture: { received: number; dropped: number; ifDropped: number } | null;
}

export async function live(opts: LiveOptions): Promise<LiveSummary> {
  let h: PcapHandle;
  let creds: Credentials | null = null;
  try {
    // A user that does not exist is found before anything is opened.
    if (opts.user !== undefined) creds = resolveCredentials(opts.user);
    h = PcapHandle.openLive({
      device: opts.device, snaplen: opts.snaplen, bufferSize: opts.bufferSize,
      promiscuous: opts.promiscuous, timeoutMs: 100,
    });
    if (opts.bpf !== undefined) h.setFilter(opts.bpf);
  } catch (err) {
    // Failing to start: a stop asked for from now on ends the clean-up, as by default.
    releaseSignals();
    await abandonSinks(opts.sinks);
    await opts.endpoint?.close();
    throw err;
  }
  const link = h.datalink();
  const started = process.hrtime.bigint();
  const log = opts.log;
  const makeSensor = () => new Sensor({
    config: opts.config, workers: opts.workers, alerts: opts.alerts, flows: opts.flows,
    sinks: opts.sinks, deliveryTimeoutMs: opts.deliveryTimeoutMs, rotate: opts.rotate,
    endpoint: opts.endpoint,
    restartWorkers: true,
    onWorkerLoss: (l) => log.error({
      shard: l.shard, exitCode: l.code, err: l.error, lostPackets: l.packets,
      lostFlows: l.flows, restarts: l.restarts,
    }, 'shard worker died; replaced'),
  });
  let sensor: Sensor;
  try {
    // After --user, SIGHUP and rotation open these files again as that user: they are
    // created (or found unusable) as that user now, not as root, or the first reload fails.
    if (creds === null) {
      sensor = makeSensor();
    } else {
      sensor = asUser(creds, () => {
        // Probed as root when the sinks were built; spooling happens as this user.
        if (opts.spool !== undefined) checkSpool(opts.spool);
        return makeSensor();
      });
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    if (creds !== null && (e instanceof UsageError || e.code === 'ERR_OUTPUT')) {
      e.message += ` (as --user ${creds.user}, who writes it from then on)`;
    }
    // An output that cannot be opened: an endpoint listener or a sink's timers would
    // otherwise keep the process alive after the error is printed.
    releaseSignals();
    h.close();
    await abandonSinks(opts.sinks);
    await opts.endpoint?.close();
    throw err;
  }
  // Workers would keep the process alive after a failure; sinks would keep their timers.
  const abandon = async (err: unknown, monitor?: LiveMonitor): Promise<never> => {
    releaseSignals();
    await monitor?.close();
    h.close();
    await sensor.pipeline.destroy();
    await abandonSinks(opts.sinks);
    await opts.endpoint?.close();
    throw err;
  };
  const monitor = await LiveMonitor.start({
    sensor, handle: h, log, metrics: opts.metrics, statsIntervalMs: opts.statsIntervalMs,
    endpointFeed: opts.endpoint !== undefined,
  }).catch((err) => abandon(err));
  if (creds !== null) {
    try {
      dropPrivileges(creds);
    } catch (err) {
      await abandon(err, monitor);
    }
    log.info({ user: creds.user, uid: creds.uid, group: creds.group, gid: creds.gid },
      'privileges dropped');
  }
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    opts.log.info({ reason: why }, 'stopping capture');
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
  // What arrived while starting is acted on now: a reload, or a stop before the first read.
  const early = releaseSignals();
  if (early.size > 0) log.info({ signals: [...early] }, 'signals received while starting');
  if (early.has('SIGHUP')) onHup();
  if (early.has('SIGTERM')) onTerm();
  else if (early.has('SIGINT')) onInt();
  opts.log.info({ device: opts.device, linktype: link.name }, 'capture started');
  // A pipeline that failed while the link was quiet (workers dying past their restart
  // budget) is noticed here: the loop stops and the failure ends the run.
  let tickFailure: unknown = null;
  const tick = setInterval(() => {
    monitor.sample();
    sensor.pipeline.tick(Date.now() / 1000).catch((err) => {
      tickFailure ??= err;
      stop('pipeline failure');
    });
  }, TICK_MS);
  const buf = new Uint8Array(new ArrayBuffer(READ_BUFFER_BYTES));
  let capture: LiveSummary['capture'] = null;
  try {
    while (!stopping) {
      const r = await h.readBatchAsync(buf);
      if (r.bytes > 0) await sensor.pipeline.feed(buf, r.bytes, link.type);
      await sensor.drain();
      if (r.eof) break;
    }
    if (tickFailure !== null) throw tickFailure;
    monitor.stopCapturing();
    capture = monitor.captureTotals();
  } catch (err) {
    await monitor.close();
    await sensor.pipeline.destroy();
    await abandonSinks(opts.sinks);
    await opts.endpoint?.close();
    throw err;
  } finally {
    clearInterval(tick);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
    h.close();
  }
  let summary: SensorSummary;
  try {
    summary = await sensor.finish();
  } finally {
    // /healthz answers 503 while flows are flushed, then the port closes.
    await monitor.close();
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const c = capture;
  log.info({ summary: { ...summary, shards: undefined }, capture, elapsedSec: elapsed },
    'capture done');
  process.stderr.write(summaryLine(summary, elapsed) +
    (c ? `; capture: ${c.received} received, ${c.dropped} dropped by kernel, ` +
      `${c.ifDropped} dropped by interface` : '') + '\n');
  return { ...summary, capture };
}
