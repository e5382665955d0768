// Runs the rules on each flow record. An alert is raised once per flow and detection, even
// when the flow is reported several times (active timeout on a long tunnel).

import { TunnelhoundConfig } from '../config/defaults';
import { FlowRecord } from '../flow/flow-record';
import { Detection } from './detection';
import { RULES } from './rules';

export class DetectionEngine {
  /** Detections already raised per live flow; entries go when the flow's final report does. */
  private readonly raised = new Map<string, Set<string>>();
  readonly alertsByRule: Record<string, number> = {};

  constructor(private readonly cfg: TunnelhoundConfig) {}

  evaluate(r: FlowRecord): Detection[] {
    const out: Detection[] = [];
    let seen = this.raised.get(r.flowId);
    for (const rule of RULES) {
      const d = rule(this.cfg, r);
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
