// Runs the signals on each flow record and turns what they find into verdicts: one alert per
// flow and analytic, raised once and then updated (same event id) when a later report of a
// long flow adds evidence or raises the score, never repeated. Repeats between the same two
// hosts within TimeWindow are folded (src/analytics/suppress.ts).

import { TunnelhoundConfig } from '../config/defaults';
import { FlowRecord } from '../flow/flow-record';
import { EndpointMatch } from '../endpoint/event';
import { createSignals } from '../signals';
import { Signal } from '../signals/signal';
import { buildVerdict, Verdict } from '../analytics/verdict';
import { RepeatFolder } from '../analytics/suppress';
import { AnalyticId, Detection } from './detection';
import { adjustForEndpoint } from './endpoint-adjust';

/** A later report is sent as an update only when the score rose at least this much. */
export const SCORE_STEP = 10;

interface AnalyticState {
  detections: Map<string, Detection>;
  /** Score of the last verdict sent, or -1 while folded as a repeat. */
  sentScore: number;
  /** Detections in the last verdict sent. */
  sentDetections: number;
  update: number;
  folded: boolean;
}

export class DetectionEngine {
  /** Verdict state per live flow; entries go when the flow's final report does. */
  private readonly flows = new Map<string, Map<AnalyticId, AnalyticState>>();
  private signals: Signal[];
  private readonly folder: RepeatFolder;
  /** First raises per `analytic/detection` of the primary detection. */
  readonly alertsByRule: Record<string, number> = {};
  alertUpdates = 0;
  /** Detections AllowedTools suppressed, by analytic/detection. */
  readonly suppressedByRule: Record<string, number> = {};

  /** Per live flow, the detections already counted as suppressed (counted once per flow). */
  private readonly suppressed = new Map<string, Set<string>>();

  constructor(private cfg: TunnelhoundConfig) {
    this.signals = createSignals(cfg);
    this.folder = new RepeatFolder(cfg.TimeWindow, cfg.suppression.perHostPair);
  }

  /** Alerts folded into an earlier one between the same hosts. */
  get folded(): number {
    return this.folder.folded;
  }

  /**
   * New settings from a reloaded config. Signals are rebuilt, so their cross-flow memory
   * (DNS names per domain, recent flows per host) starts again: the price of thresholds
   * that took effect at once. Verdicts already raised for live flows are kept.
   */
  reconfigure(cfg: TunnelhoundConfig): void {
    this.cfg = cfg;
    this.signals = createSignals(cfg);
    this.folder.reconfigure(cfg.TimeWindow, cfg.suppression.perHostPair);
  }

  /** The verdicts to send for this record: new alerts and updates of earlier ones. */
  evaluate(r: FlowRecord, endpoint?: EndpointMatch): Verdict[] {
    const input = { record: r, endpoint };
    for (const s of this.signals) s.observe?.(input);
    let state = this.flows.get(r.flowId);
    const touched = new Set<AnalyticId>();
    for (const s of this.signals) {
      const judged = s.judge(input);
      if (judged === null) continue;
      const d = endpoint === undefined ? judged : adjustForEndpoint(this.cfg, judged, endpoint);
      if (d === null) {
        this.countSuppressed(r, `${judged.analytic}/${judged.detection}`);
        continue;
      }
      if (state === undefined) {
        state = new Map();
        this.flows.set(r.flowId, state);
      }
      let a = state.get(d.analytic);
      if (a === undefined) {
        a = { detections: new Map(), sentScore: 0, sentDetections: 0, update: -1, folded: false };
        state.set(d.analytic, a);
      }
      const prev = a.detections.get(d.detection);
      if (prev === undefined || d.score > prev.score) {
        a.detections.set(d.detection, d);
        touched.add(d.analytic);
      }
    }
    const out: Verdict[] = [];
    for (const analytic of touched) {
      const a = state!.get(analytic)!;
      if (a.folded) continue;
      const v = buildVerdict(analytic, [...a.detections.values()], a.update + 1);
      if (a.update < 0) {
        if (this.folder.isRepeat(`${analytic}/${v.primary.detection}`, r.clientIp, r.serverIp,
          r.firstTs)) {
          a.folded = true;
          continue;
        }
        const key = `${analytic}/${v.primary.detection}`;
        this.alertsByRule[key] = (this.alertsByRule[key] ?? 0) + 1;
      } else {
        const grew = v.detections.length > a.sentDetections || v.score >= a.sentScore + SCORE_STEP;
        if (!grew) continue;
        this.alertUpdates++;
      }
      a.update = v.update;
      a.sentScore = v.score;
      a.sentDetections = v.detections.length;
      out.push(v);
    }
    if (r.final) {
      this.flows.delete(r.flowId);
      this.suppressed.delete(r.flowId);
    }
    return out;
  }

  private countSuppressed(r: FlowRecord, key: string): void {
    let seen = this.suppressed.get(r.flowId);
    if (seen === undefined) {
      seen = new Set();
      this.suppressed.set(r.flowId, seen);
    }
    if (seen.has(key)) return;
    seen.add(key);
    this.suppressedByRule[key] = (this.suppressedByRule[key] ?? 0) + 1;
  }
}

