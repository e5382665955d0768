// One verdict per flow and analytic: the detections that fired for the flow under the same
// analytic are combined into a single alert with one score, so a tunnel that trips three
// signals is one alert with three pieces of evidence, not three alerts.

import { Severity } from '../config/defaults';
import { AnalyticId, Detection } from '../detect/detection';

export interface Verdict {
  analytic: AnalyticId;
  /** The detection with the highest score names the alert. */
  primary: Detection;
  /** Every detection of the flow under this analytic, primary first. */
  detections: Detection[];
  /** Combined score, 0-100. */
  score: number;
  severity: Severity;
  /** 0 when first raised; 1, 2... each time later reports of the flow changed it. */
  update: number;
}

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };
const SEVERITIES: Severity[] = ['low', 'medium', 'high'];

/** A combined score at or above this makes the verdict high whatever its parts said. */
export const HIGH_SCORE = 85;

/**
 * Independent pieces of evidence: the chance that all of them are wrong is the product of
 * each being wrong, so two 60s make 84, not 120 and not 60.
 */
export function combineScores(scores: readonly number[]): number {
  let miss = 1;
  for (const s of scores) miss *= 1 - Math.min(100, Math.max(0, s)) / 100;
  return Math.round((1 - miss) * 100);
}

export function buildVerdict(analytic: AnalyticId, detections: Detection[], update: number):
  Verdict {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const score = combineScores(sorted.map((d) => d.score));
  let rank = 0;
  for (const d of sorted) rank = Math.max(rank, SEVERITY_RANK[d.severity]);
  if (score >= HIGH_SCORE) rank = 2;
  return {
    analytic, primary: sorted[0], detections: sorted, score, severity: SEVERITIES[rank], update,
  };
}
