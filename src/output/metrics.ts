// Prometheus metrics of a live sensor (prom-client). Nothing here is touched per packet: every
// metric is read from one snapshot of the sensor's own counters taken when a scrape arrives,
// so a scrape costs the same whatever the traffic. Names and meanings are listed in
// METRIC_HELP, the one place they are documented (README "Metrics" points here).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SensorSnapshot } from '../cli/sensor';

/** Capture counters since the start, unwrapped from libpcap's 32-bit fields. */
export interface CaptureTotals {
  received: number;
  dropped: number;
  ifDropped: number;
}

/** Everything a scrape reports. */
export interface LiveSnapshot extends SensorSnapshot {
  /** null before the capture is open or when libpcap cannot give statistics. */
  capture: CaptureTotals | null;
  /** The capture loop is reading (not yet stopping). */
  capturing: boolean;
}

/** Every metric's name and help text. */
export const METRIC_HELP = {
  tunnelhound_capture_running: 'Whether the capture loop is reading (1) or stopping (0).',
  tunnelhound_capture_received_packets_total: 'Packets the kernel passed to the capture ' +
    'after the BPF filter, including those it then dropped (libpcap ps_recv on Linux).',
  tunnelhound_capture_kernel_dropped_packets_total: 'Packets dropped because the kernel ' +
    'capture buffer was full (libpcap ps_drop): raise --buffer-size or --workers.',
  tunnelhound_capture_interface_dropped_packets_total: 'Packets the interface or its ' +
    'driver dropped (libpcap ps_ifdrop).',
  tunnelhound_packets_total: 'Packets read from the capture and dispatched.',
  tunnelhound_bytes_total: 'Bytes on the wire of the packets read.',
  tunnelhound_malformed_packets_total: 'Packets no flow could use, by decode anomaly kind.',
  tunnelhound_flows_active: 'Flows held in the flow tables (shard workers: as of their ' +
    'last tick, at most a second old).',
  tunnelhound_flow_reports_total: 'Flow records made, by reason: idle, closed, evicted ' +
    '(table full), flush (shutdown) end a flow; active is an interim report on a live one.',
  tunnelhound_alerts_total: 'Alerts raised, by analytic and detection.',
  tunnelhound_alerts_folded_total: 'Alerts not sent: the same hosts had the same alert ' +
    'within TimeWindow.',
  tunnelhound_alert_updates_total: 'Updates sent for alerts of long flows whose evidence grew.',
  tunnelhound_worker_queue_depth: 'Packet batches handed to a shard worker and not yet ' +
    'processed (at most 4; always at 4 means the worker cannot keep up).',
  tunnelhound_worker_up: 'Whether a shard worker is running (0 while one is replaced).',
  tunnelhound_worker_restarts_total: 'Shard workers that died and were replaced.',
  tunnelhound_worker_lost_packets_total: 'Packets that died with a shard worker unprocessed.',
  tunnelhound_worker_lost_flows_total: 'Flows that died with a shard worker unreported.',
  tunnelhound_sink_documents_total: 'Documents per SIEM sink by outcome: sent, retried, ' +
    'spooled, dropped (spool full).',
  tunnelhound_endpoint_feed_lag_seconds: 'How far the endpoint feed lags behind the ' +
    'packets (NaN while it cannot tell); present only when an endpoint feed runs.',
} as const;

type MetricName = keyof typeof METRIC_HELP;

export class SensorMetrics {
  readonly registry = new Registry();
  private snap: LiveSnapshot | null = null;

  /**
   * `read` takes the snapshot; `endpointFeed` says whether an endpoint feed runs (its lag
   * gauge exists only then: a 0 from a feed that is not there would read as "no lag").
   */
  constructor(private readonly read: () => LiveSnapshot, endpointFeed: boolean) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client calls collect() with `this` bound to the metric, so the snapshot is
    // reached through `self`.
    const self = this;
    const counter = (name: MetricName, labelNames: string[],
      fill: (c: Counter<string>, s: LiveSnapshot) => void) => {
      new Counter({
        name, help: METRIC_HELP[name], labelNames, registers: [this.registry],
        collect() {
          this.reset();
          if (self.snap !== null) fill(this, self.snap);
        },
      });
    };
    const gauge = (name: MetricName, labelNames: string[],
      fill: (g: Gauge<string>, s: LiveSnapshot) => void) => {
      new Gauge({
        name, help: METRIC_HELP[name], labelNames, registers: [this.registry],
        collect() {
          this.reset();
          if (self.snap !== null) fill(this, self.snap);
        },
      });
    };
    gauge('tunnelhound_capture_running', [], (g, s) => g.set(s.capturing ? 1 : 0));
    const capture = (name: MetricName, pick: (c: CaptureTotals) => number) =>
      counter(name, [], (c, s) => {
        if (s.capture !== null) c.inc(pick(s.capture));
      });
    capture('tunnelhound_capture_received_packets_total', (c) => c.received);
    capture('tunnelhound_capture_kernel_dropped_packets_total', (c) => c.dropped);
    capture('tunnelhound_capture_interface_dropped_packets_total', (c) => c.ifDropped);
    counter('tunnelhound_packets_total', [], (c, s) => c.inc(s.packets));
    counter('tunnelhound_bytes_total', [], (c, s) => c.inc(s.bytes));
    counter('tunnelhound_malformed_packets_total', ['kind'], (c, s) => {
      for (const [kind, n] of Object.entries(s.skipped)) c.inc({ kind }, n);
    });
    gauge('tunnelhound_flows_active', [], (g, s) => g.set(s.flowsActive));
    counter('tunnelhound_flow_reports_total', ['reason'], (c, s) => {
      for (const [reason, n] of Object.entries(s.flowReports)) c.inc({ reason }, n);
    });
    counter('tunnelhound_alerts_total', ['analytic', 'detection'], (c, s) => {
      for (const [key, n] of Object.entries(s.alertsByRule)) {
        const slash = key.indexOf('/');
        c.inc({ analytic: key.slice(0, slash), detection: key.slice(slash + 1) }, n);
      }
    });
    counter('tunnelhound_alerts_folded_total', [], (c, s) => c.inc(s.alertsFolded));
    counter('tunnelhound_alert_updates_total', [], (c, s) => c.inc(s.alertUpdates));
    gauge('tunnelhound_worker_queue_depth', ['worker'], (g, s) => {
      s.queueDepth.forEach((d, i) => g.set({ worker: String(i) }, d));
    });
    gauge('tunnelhound_worker_up', ['worker'], (g, s) => {
      s.queueDepth.forEach((_, i) =>
        g.set({ worker: String(i) }, s.workersDown.includes(i) ? 0 : 1));
    });
    counter('tunnelhound_worker_restarts_total', [], (c, s) => c.inc(s.workerRestarts));
    counter('tunnelhound_worker_lost_packets_total', [], (c, s) => c.inc(s.lostPackets));
    counter('tunnelhound_worker_lost_flows_total', [], (c, s) => c.inc(s.lostFlows));
    counter('tunnelhound_sink_documents_total', ['sink', 'outcome'], (c, s) => {
      for (const [sink, d] of Object.entries(s.delivery)) {
        for (const outcome of ['sent', 'retried', 'spooled', 'dropped'] as const) {
          c.inc({ sink, outcome }, d[outcome]);
        }
      }
    });
    if (endpointFeed) {
      gauge('tunnelhound_endpoint_feed_lag_seconds', [],
        (g, s) => g.set(s.endpointLagSeconds ?? NaN));
    }
  }

  /** The exposition text of every metric, all read from one snapshot. */
  async text(): Promise<string> {
    this.snap = this.read();
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = null;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
