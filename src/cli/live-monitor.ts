// What an operator sees of a running live sensor: capture counters sampled every tick (so
// libpcap's u32 counters can be unwrapped), the periodic stats log line, and the optional
// Prometheus endpoint with /healthz. One snapshot shape feeds both the log and the metrics,
// so the two always say the same thing.

import { CaptureTotals } from '../capture/capture-totals';
import { PcapHandle } from '../capture/pcap';
import { LiveSnapshot, SensorMetrics } from '../output/metrics';
import { ListenAddress, MetricsServer, startMetricsServer } from '../output/metrics-server';
import { Logger } from './log';
import { Sensor } from './sensor';

/** Default period of the capture stats log line. */
export const STATS_LOG_MS = 60_000;

export interface MonitorOptions {
  sensor: Sensor;
  handle: PcapHandle;
  log: Logger;
  /** Serve /metrics and /healthz here. */
  metrics?: ListenAddress;
  statsIntervalMs?: number;
  /** An endpoint feed runs (its lag is then a metric and a log field). */
  endpointFeed: boolean;
}

export class LiveMonitor {
  private readonly totals = new CaptureTotals();
  private capturing = true;
  private server: MetricsServer | null = null;
  private readonly statsTimer: NodeJS.Timeout;
  /** Capture counters at the last stats line, for the per-interval figures. */
  private lastLogged = { received: 0, dropped: 0, ifDropped: 0, packets: 0, lost: 0 };

  private constructor(private readonly opts: MonitorOptions) {
    this.sample();
    this.statsTimer = setInterval(() => this.logStats(), opts.statsIntervalMs ?? STATS_LOG_MS);
  }

  /** Start sampling, logging and (when asked) serving metrics. */
  static async start(opts: MonitorOptions): Promise<LiveMonitor> {
    const m = new LiveMonitor(opts);
    if (opts.metrics !== undefined) {
      try {
        const metrics = new SensorMetrics(() => m.snapshot(), opts.endpointFeed);
        m.server = await startMetricsServer(opts.metrics, metrics, () => m.problems());
      } catch (err) {
        clearInterval(m.statsTimer);
        throw err;
      }
      const a = m.server.address;
      opts.log.info({ metrics: `http://${a.host.includes(':') ? `[${a.host}]` : a.host}` +
        `:${a.port}/metrics` }, 'metrics listening');
    }
    return m;
  }

  /** Read pcap_stats once; called every tick, far more often than a u32 counter wraps. */
  sample(): void {
    try {
      this.totals.update(this.opts.handle.stats());
    } catch (err) {
      // A handle that cannot give statistics still captures; its counters stay as they were.
      this.opts.log.debug({ err }, 'capture statistics failed');
    }
  }

  /** The capture loop is ending: /healthz turns 503 so a balancer stops trusting us. */
  stopCapturing(): void {
    this.sample();
    this.capturing = false;
  }

  captureTotals(): LiveSnapshot['capture'] {
    return this.totals.value();
  }

  snapshot(): LiveSnapshot {
    // Sampled now, so capture and pipeline counters are of the same moment.
    if (this.capturing) this.sample();
    return { ...this.opts.sensor.snapshot(), capture: this.totals.value(),
      capturing: this.capturing };
  }

  /** Why the sensor is not healthy, or nothing. */
  problems(): string[] {
    const out: string[] = [];
    if (!this.capturing) out.push('capture stopped (shutting down)');
    for (const i of this.opts.sensor.pipeline.liveStats().workersDown) {
      out.push(`shard worker ${i} not running (starting or being replaced)`);
    }
    return out;
  }

  /**
   * One structured line with the run's figures and what changed since the last one: at info
   * level, or at warn when packets were lost in the interval, so the default log level
   * (warn) still shows every interval that lost something.
   */
  logStats(): void {
    const s = this.snapshot();
    const c = s.capture ?? { received: 0, dropped: 0, ifDropped: 0 };
    const last = this.lastLogged;
    this.lastLogged = { ...c, packets: s.packets, lost: s.lostPackets };
    const alerts = Object.values(s.alertsByRule).reduce((a, n) => a + n, 0);
    // A spool that cannot be written loses alerts as surely as a kernel drop loses packets.
    const lost = c.dropped > last.dropped || c.ifDropped > last.ifDropped ||
      s.lostPackets > last.lost ||
      Object.values(s.delivery).some((d) => d.spoolError !== undefined);
    this.opts.log[lost ? 'warn' : 'info']({
      capture: s.capture,
      interval: {
        received: c.received - last.received, dropped: c.dropped - last.dropped,
        ifDropped: c.ifDropped - last.ifDropped, packets: s.packets - last.packets,
      },
      packets: s.packets, bytes: s.bytes, flowsActive: s.flowsActive,
      flowReports: s.flowReports, alerts, alertsByRule: s.alertsByRule,
      alertsFolded: s.alertsFolded, alertUpdates: s.alertUpdates,
      malformed: s.skipped, queueDepth: s.queueDepth, workerRestarts: s.workerRestarts,
      lostPackets: s.lostPackets, lostFlows: s.lostFlows, delivery: s.delivery,
      ...(s.endpointLagSeconds !== undefined ? { endpointLagSeconds: s.endpointLagSeconds } : {}),
    }, 'capture stats');
  }

  async close(): Promise<void> {
    clearInterval(this.statsTimer);
    await this.server?.close();
  }
}
