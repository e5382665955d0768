// The correlator side of the data path on the main thread: flow records in from the shards,
// detections run, alerts and flow records out to their writers.

import { TunnelhoundConfig } from '../config/defaults';
import { changedKeys } from '../config/diff';
import { DetectionEngine } from '../detect/engine';
import { FlowEndReason, FlowRecord } from '../flow/flow-record';
import { alertDocument, flowDocument } from '../output/ecs';
import { fingerprintLine } from '../output/fingerprint-line';
import { NdjsonWriter, RotateOptions } from '../output/ndjson-writer';
import { Pipeline, PipelineLiveStats, PipelineStats, WorkerLoss } from '../pipeline/dispatcher';
import { DocKind, Sink, SinkStats } from '../output/sinks/sink';
import { EndpointFeed, EndpointSummary, endpointSummaryText } from '../endpoint/feed';

export interface SensorOptions {
  config: TunnelhoundConfig;
  workers: number;
  /** Where alerts go; undefined runs no detections (the fingerprints command). */
  alerts?: string;
  flows?: string;
  /** Where one flat fingerprint line per finished flow goes. */
  fingerprints?: string;
  /** SIEM sinks (syslog, HTTP bulk), each taking alerts, flow records or both. */
  sinks?: SinkRoute[];
  /** How long finish() lets the sinks deliver before what is left goes to their spool. */
  deliveryTimeoutMs?: number;
  /** Rotation of the alert and flow files. */
  rotate?: RotateOptions;
  /** Endpoint events (process <-> socket) joined with the flows before detection. */
  endpoint?: EndpointFeed;
  /** Replace shard workers that die instead of failing the run (live capture). */
  restartWorkers?: boolean;
  onWorkerLoss?: (loss: WorkerLoss) => void;
  /**
   * How far the endpoint feed lags behind the packets, in seconds, or null while it cannot
   * tell; asked when metrics are read. Defaults to the endpoint feed's own lag.
   */
  endpointLagSeconds?: () => number | null;
}

export interface SinkRoute {
  sink: Sink;
  alerts: boolean;
  flows: boolean;
}

/** Default wait for the SIEM on shutdown before the rest stays in the spool. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;

export interface SensorSummary extends PipelineStats {
  flows: number;
  alerts: number;
  alertsByRule: Record<string, number>;
  /** Alerts not sent because the same hosts had the same alert within TimeWindow. */
  alertsFolded: number;
  /** Updates sent for alerts of long flows whose evidence grew. */
  alertUpdates: number;
  delivery: Record<string, SinkStats>;
  endpoint?: EndpointSummary;
  /** Detections AllowedTools suppressed. */
  suppressedByRule?: Record<string, number>;
}

/** Flow reports by why they were made (`active` are interim reports on live flows). */
export type FlowsByReason = Record<FlowEndReason, number>;

/** The sensor's figures while it runs, for metrics and the periodic stats log. */
export interface SensorSnapshot extends PipelineLiveStats {
  flowReports: FlowsByReason;
  alertsByRule: Record<string, number>;
  alertsFolded: number;
  alertUpdates: number;
  delivery: Record<string, SinkStats>;
  /** Absent when no endpoint feed runs; null while the feed cannot tell. */
  endpointLagSeconds?: number | null;
}

export class Sensor {
  readonly pipeline: Pipeline;
  private readonly engine: DetectionEngine;
  private readonly alertWriter: NdjsonWriter | null;
  private readonly flowWriter: NdjsonWriter | null;
  private readonly fingerprintWriter: NdjsonWriter | null;
  private flowsEnded = 0;
  private readonly flowReports: FlowsByReason =
    { idle: 0, closed: 0, evicted: 0, active: 0, flush: 0 };
  private readonly endpointLag: (() => number | null) | undefined;
  private readonly sinks: SinkRoute[];
  /** Whether any sink takes alerts / flow records: fixed for the run, asked per record. */
  private readonly alertSinks: boolean;
  private readonly flowSinks: boolean;
  private readonly deliveryTimeoutMs: number;
  private readonly endpoint: EndpointFeed | undefined;
  private cfg: TunnelhoundConfig;

  constructor(opts: SensorOptions) {
    this.cfg = opts.config;
    this.sinks = opts.sinks ?? [];
    this.alertSinks = this.sinks.some((s) => s.alerts);
    this.flowSinks = this.sinks.some((s) => s.flows);
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    this.endpoint = opts.endpoint;
    this.engine = new DetectionEngine(opts.config);
    const writer = (target: string | undefined, what: string) =>
      (target === undefined ? null : new NdjsonWriter(target, what, opts.rotate));
    this.alertWriter = writer(opts.alerts, 'alerts');
    this.flowWriter = writer(opts.flows, 'flow records');
    this.fingerprintWriter = writer(opts.fingerprints, 'fingerprints');
    const feed = opts.endpoint;
    this.endpointLag = opts.endpointLagSeconds ??
      (feed === undefined ? undefined : () => feed.lagSeconds());
    this.pipeline = new Pipeline({
      workers: opts.workers,
      flowTable: opts.config.flowTable,
      onRecord: (r) => this.onRecord(r),
      restartWorkers: opts.restartWorkers,
      onWorkerLoss: opts.onWorkerLoss,
    });
  }

  private onRecord(r: FlowRecord): void {
    if (r.final) this.flowsEnded++;
    this.flowReports[r.reason]++;
    if (this.alertWriter !== null || this.alertSinks) {
      const m = this.endpoint?.match(r);
      for (const v of this.engine.evaluate(r, m)) {
        const doc = alertDocument(r, v, m);
        this.alertWriter?.write(doc);
        if (this.alertSinks) this.toSinks(doc, 'alert');
      }
    }
    if (this.flowWriter !== null || this.flowSinks) {
      const doc = flowDocument(r);
      this.flowWriter?.write(doc);
      if (this.flowSinks) this.toSinks(doc, 'flow');
    }
    if (r.final) this.fingerprintWriter?.write(fingerprintLine(r));
  }

  private toSinks(doc: object, kind: DocKind): void {
    const json = JSON.stringify(doc);
    for (const s of this.sinks) {
      if (kind === 'alert' ? s.alerts : s.flows) s.sink.push(json, kind);
    }
  }

  /** The config the detections run with now. */
  get config(): TunnelhoundConfig {
    return this.cfg;
  }

  /**
   * Run the detections with a new config from now on; flows in the table and in flight are
   * untouched. flowTable keys are not applied (the tables and pools are sized at start):
   * they are returned in `ignored`. `changed` lists the keys that took effect.
   */
  reconfigure(next: TunnelhoundConfig): { changed: string[]; ignored: string[] } {
    const ignored = changedKeys(this.cfg.flowTable, next.flowTable, ['flowTable']);
    const effective = { ...next, flowTable: this.cfg.flowTable };
    const changed = changedKeys(this.cfg, effective);
    // An unchanged file (SIGHUP sent for logrotate) keeps the signals and their state.
    if (changed.length > 0) {
      this.cfg = effective;
      this.engine.reconfigure(effective);
    }
    return { changed, ignored };
  }

  /** Figures of the run so far (not per packet: it walks the shards and the sinks). */
  snapshot(): SensorSnapshot {
    const delivery: Record<string, SinkStats> = {};
    for (const s of this.sinks) delivery[s.sink.name] = s.sink.stats();
    const snap: SensorSnapshot = {
      ...this.pipeline.liveStats(),
      flowReports: { ...this.flowReports },
      alertsByRule: { ...this.engine.alertsByRule },
      alertsFolded: this.engine.folded,
      alertUpdates: this.engine.alertUpdates,
      delivery,
    };
    if (this.endpointLag !== undefined) snap.endpointLagSeconds = this.endpointLag();
    return snap;
  }

  /** Reopen the output files by name (SIGHUP, after logrotate moved them). */
  reopen(): void {
    this.alertWriter?.reopen();
    this.flowWriter?.reopen();
    this.fingerprintWriter?.reopen();
  }

  /** Wait for the writers when they push back. */
  async drain(): Promise<void> {
    await this.alertWriter?.ready();
    await this.flowWriter?.ready();
    await this.fingerprintWriter?.ready();
  }

  async finish(): Promise<SensorSummary> {
    const stats = await this.pipeline.finish();
    await this.endpoint?.close();
    // Close every writer even when one fails, then report the first failure.
    const closing = await Promise.allSettled([this.alertWriter?.close(),
      this.flowWriter?.close(), this.fingerprintWriter?.close(),
      ...this.sinks.map((s) => s.sink.close(this.deliveryTimeoutMs))]);
    for (const c of closing) if (c.status === 'rejected') throw c.reason;
    const delivery: Record<string, SinkStats> = {};
    for (const s of this.sinks) delivery[s.sink.name] = s.sink.stats();
    return {
      ...stats,
      flows: this.flowsEnded,
      alerts: Object.values(this.engine.alertsByRule).reduce((a, n) => a + n, 0),
      alertsByRule: this.engine.alertsByRule,
      alertsFolded: this.engine.folded,
      alertUpdates: this.engine.alertUpdates,
      delivery,
      ...(this.endpoint === undefined ? {} : {
        endpoint: this.endpoint.summary(), suppressedByRule: this.engine.suppressedByRule,
      }),
    };
  }
}

/** Close sinks of a run that failed before it started: spool what they hold, stop timers. */
export async function abandonSinks(sinks: SinkRoute[] | undefined): Promise<void> {
  await Promise.allSettled((sinks ?? []).map((s) => s.sink.close(0)));
}

/** The one-line summary printed at the end of a run. */
export function summaryLine(s: SensorSummary, elapsedSec: number): string {
  const skipped = Object.entries(s.skipped);
  const skippedTotal = skipped.reduce((a, [, v]) => a + v, 0);
  const skippedText = skipped.length === 0 ? '0 skipped'
    : `${skippedTotal} skipped or malformed ` +
      `(${skipped.map(([k, v]) => `${k} ${v}`).join(', ')})`;
  const evicted = s.shards.reduce((a, sh) => a + sh.table.evictedCapacity, 0);
  const pps = elapsedSec > 0 ? Math.round(s.packets / elapsedSec) : 0;
  // Bounded pools that ran dry mean some flows went unmeasured: say so when it happened.
  const noInspector = s.shards.reduce((a, sh) => a + sh.inspectorPoolExhausted, 0);
  const noEntropy = s.shards.reduce((a, sh) => a + sh.entropyPoolExhausted, 0);
  const dry = (noInspector > 0 ? `, ${noInspector} handshakes not inspected (pool full)` : '') +
    (noEntropy > 0 ? `, ${noEntropy} directions without entropy sample (pool full)` : '');
  const lost = s.workerRestarts === 0 ? '' : `, ${s.workerRestarts} shard worker restarts ` +
    `(${s.lostPackets} packets and ${s.lostFlows} flows lost)`;
  const delivery = Object.entries(s.delivery).map(([name, d]) => `; ${name}: ${d.sent} sent, ` +
    `${d.retried} retried, ${d.spooled} spooled, ${d.dropped} dropped` +
    (d.spoolError === undefined ? '' : ` (spool: ${d.spoolError})`)).join('');
  return `tunnelhound: ${s.packets} packets, ${s.bytes} bytes, ${s.flows} flows, ` +
    `${s.alerts} alerts (${s.alertsFolded} repeats folded), ${skippedText}, ` +
    `${evicted} evicted${dry}${lost}, ` +
    `${elapsedSec.toFixed(2)} s, ${pps} packets/s${delivery}` +
    (s.endpoint === undefined ? '' : endpointSummaryText(s.endpoint));
}
