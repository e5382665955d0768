// Runs the signals on each flow record. An alert is raised once per flow and detection, even
// when the flow is reported several times (active timeout on a long tunnel).

import { TunnelhoundConfig } from '../config/defaults';
import { FlowRecord } from '../flow/flow-record';
import { EndpointMatch } from '../endpoint/event';
import { createSignals } from '../signals';
import { Signal } from '../signals/signal';
import { Detection } from './detection';

export class DetectionEngine {
  /** Detections already raised per live flow; entries go when the flow's final report does. */
  private readonly raised = new Map<string, Set<string>>();
  private readonly signals: Signal[];
  readonly alertsByRule: Record<string, number> = {};

  constructor(cfg: TunnelhoundConfig) {
    this.signals = createSignals(cfg);
  }

  evaluate(r: FlowRecord, endpoint?: EndpointMatch): Detection[] {
    const out: Detection[] = [];
    const input = { record: r, endpoint };
    for (const s of this.signals) s.observe?.(input);
    let seen = this.raised.get(r.flowId);
    for (const s of this.signals) {
      const d = s.judge(input);
      if (d === null) continue;
      const key = `${d.analytic}/${d.detection}`;
      if (seen?.has(key)) continue;
      if (seen === undefined) {
        seen = new Set();
        this.raised.set(r.flowId, seen);
      }
      seen.add(key);
      this.alertsByRule[key] = (this.alertsByRule[key] ?? 0) + 1;
      out.push(d);
    }
    if (r.final) this.raised.delete(r.flowId);
    return out;
  }
}
